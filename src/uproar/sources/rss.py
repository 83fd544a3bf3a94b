"""RSS and Atom feed entries (news articles, comment feeds), as ``uproar watch`` polls them.

The poller (``watch/feeds.py``) reads a feed with feedparser and hands each entry on as
``{"feed": {"url", "title", "platform"}, "entry": {...}, "fetched_at": ISO}``; this module
makes that a post. RSS 2.0 ``<item>`` and Atom ``<entry>`` fields arrive under feedparser's
common names (pythonhosted.org/feedparser, "Common RSS/Atom elements"):

- id: the entry's ``guid``/``<id>``, else its link (RSS 2.0 makes guid optional); a feed's
  entries are re-read at every poll, so the id is what stores each one once.
- time: ``published``, else ``updated``, else when it was first fetched (an undated item
  is still news the moment it appears).
- text: the title, then the summary or content as plain text.
- author: the entry's author, else the feed itself (an article speaks for its site).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from uproar.sources.fields import RecordError, Row, html_to_text, iso_time, to_json

NAME = "rss"


def sniff(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("feed"), dict) and isinstance(obj.get("entry"), dict)


def records(obj: Any) -> Iterator[Row | RecordError]:
    if not isinstance(obj, dict) or not sniff(obj):
        yield RecordError(None, "expected a feed entry: {'feed': {...}, 'entry': {...}}")
        return
    try:
        yield _entry(obj["feed"], obj["entry"], obj.get("fetched_at"))
    except RecordError as exc:
        yield exc


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _entry(feed: dict[str, Any], entry: dict[str, Any], fetched_at: Any) -> Row:
    link = _text(entry.get("link"))
    entry_id = _text(entry.get("id")) or link
    if not entry_id:
        raise RecordError("entry.id", "missing: the entry has neither a guid/id nor a link")
    stamp = next((entry[k] for k in ("published", "updated") if _text(entry.get(k))), fetched_at)
    key = next(
        (f"entry.{k}" for k in ("published", "updated") if _text(entry.get(k))), "fetched_at"
    )
    created_at = iso_time(stamp, key)
    title = html_to_text(_text(entry.get("title")))
    body = html_to_text(_text(entry.get("content")) or _text(entry.get("summary")))
    text = "\n\n".join(part for part in (title, body) if part)
    if not text:
        raise RecordError("entry.title", "missing: the entry has no title, summary or content")
    feed_url = _text(feed.get("url"))
    site = urlsplit(feed_url).hostname or feed_url
    author = _text(entry.get("author"))
    platform = _text(feed.get("platform")) or "news"
    comments = _text(entry.get("comments"))
    return {
        "platform": platform,
        "id": entry_id,
        "created_at": created_at,
        "text": text,
        "author_id": author or site,
        "author_handle": None,
        "author_name": author or _text(feed.get("title")) or None,
        "author_followers": None,
        "author_location": None,
        "lang": _text(entry.get("language")) or _text(feed.get("language")) or None,
        "reply_to_id": None,
        "conversation_id": comments or entry_id,
        "quoted_id": None,
        "reposted_id": None,
        "urls": [link] if link else [],
        "place": None,
        "region": None,
        "like_count": None,
        "repost_count": None,
        "reply_count": None,
        "raw": to_json({"feed": feed, "entry": entry, "fetched_at": fetched_at}),
    }
