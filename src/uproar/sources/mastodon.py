"""Mastodon Status entities (docs.joinmastodon.org/entities/Status), one per line, in a
JSON array (a timeline response), or as streaming events ``{"event": "update", "payload":
"<Status JSON>"}``. ``content`` is HTML; boosts carry the original in ``reblog``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from uproar.sources.fields import (
    RecordError,
    Row,
    Skip,
    count,
    html_links,
    html_to_text,
    iso_time,
    optional_id,
    optional_text,
    require_id,
    to_json,
)

NAME = "mastodon"


def sniff(obj: dict[str, Any]) -> bool:
    return ("content" in obj and "account" in obj) or ("event" in obj and "payload" in obj)


def records(obj: Any) -> Iterator[Row | RecordError | Skip]:
    if isinstance(obj, dict) and "event" in obj and "payload" in obj:
        if obj["event"] not in ("update", "status.update"):
            yield Skip(f"mastodon {obj['event']} event")
            return
        try:
            obj = orjson.loads(obj["payload"])
        except (orjson.JSONDecodeError, TypeError):
            yield RecordError("payload", "not a JSON Status")
            return
    if not isinstance(obj, dict):
        yield RecordError(None, f"expected a JSON object, got {type(obj).__name__}")
        return
    try:
        yield _status(obj)
    except RecordError as exc:
        yield exc


def _status(s: dict[str, Any]) -> Row:
    status_id = require_id(s, "id")
    created_at = iso_time(s.get("created_at"), "created_at")
    account = s.get("account")
    if not isinstance(account, dict):
        raise RecordError("account", "missing" if account is None else "expected an object")
    author_id = require_id(account, "id")
    shown = s
    reposted = None
    boosted = s.get("reblog")
    if isinstance(boosted, dict):
        shown = boosted
        reposted = optional_id(boosted.get("id"))
    content = shown.get("content")
    if not isinstance(content, str):
        raise RecordError("content", "missing" if content is None else "expected a string")
    text = html_to_text(content)
    if reposted is not None:
        original = shown.get("account")
        acct = original.get("acct") if isinstance(original, dict) else None
        text = f"RT @{acct}: {text}"
    urls = html_links(content)
    card = shown.get("card")
    if isinstance(card, dict) and isinstance(card.get("url"), str) and card["url"] not in urls:
        urls.append(card["url"])
    return {
        "platform": "mastodon",
        "id": status_id,
        "created_at": created_at,
        "text": text,
        "author_id": author_id,
        "author_handle": optional_text(account.get("acct"))
        or optional_text(account.get("username")),
        "author_name": optional_text(account.get("display_name")),
        "author_followers": count(account.get("followers_count")),
        "author_location": None,
        "lang": optional_text(s.get("language")),
        "reply_to_id": optional_id(s.get("in_reply_to_id")),
        "conversation_id": None,
        "quoted_id": optional_id((s.get("quote") or {}).get("id"))
        if isinstance(s.get("quote"), dict)
        else None,
        "reposted_id": reposted,
        "urls": urls,
        "place": None,
        "region": None,
        "like_count": count(s.get("favourites_count")),
        "repost_count": count(s.get("reblogs_count")),
        "reply_count": count(s.get("replies_count")),
        "raw": to_json(s),
    }
