"""RSS and Atom polling: news articles and their comment feeds, read with feedparser.

Each poll is a conditional GET (``If-None-Match`` with the saved ``ETag``,
``If-Modified-Since`` with the saved ``Last-Modified``; RFC 9110 §13.1): an unchanged feed
answers 304 and costs nothing. A changed feed's entries go to the writer as one piece,
and the new validators are saved in the same transaction (``feed_state``), so a restart
neither re-reads what was stored nor skips what was not. Entries are re-read as long as
a feed lists them; the entry's guid is its post id, so each is stored once
(``sources/rss.py``). A feed that cannot be parsed at all is quarantined, body and reason.

A 429 or 503 with ``Retry-After`` waits that long before the next poll; other failures
wait for the next poll as usual.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import httpx
import orjson

from uproar import __version__
from uproar.sources.commit import Item
from uproar.sources.fields import RecordError
from uproar.store import Store
from uproar.store import watch as sql
from uproar.watch.streams import Pieces, pause
from uproar.watch.writer import SourceStats, Writer

MAX_FEED_BYTES = 16 << 20  # a feed larger than this is refused (quarantined), not read
USER_AGENT = f"uproar/{__version__} (+feed poller)"


class FeedSource:
    """One feed, polled every ``every`` seconds."""

    def __init__(
        self,
        url: str,
        *,
        every: float = 300.0,
        platform: str = "news",
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = url
        self.url, self.every, self.platform, self.timeout = url, every, platform, timeout
        self.transport = transport
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.pieces = Pieces(url, "rss")
        self._store: Store | None = None
        self.polls = 0

    def prepare(self, store: Store) -> None:
        self._store = store
        self.etag, self.last_modified = sql.load_feed_state(store, self.url)

    async def run(self, writer: Writer, stop: asyncio.Event) -> None:
        stats = writer.stats(self.name)
        async with httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=True,
            transport=self.transport,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            while not stop.is_set():
                wait = await self.poll(client, writer, stats)
                await pause(wait, stop)

    async def poll(self, client: httpx.AsyncClient, writer: Writer, stats: SourceStats) -> float:
        """One conditional GET; returns the seconds to wait before the next."""
        self.polls += 1
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        received = time.time()
        try:
            async with client.stream("GET", self.url, headers=headers) as response:
                if response.status_code == 304:
                    stats.note = "not modified"
                    return self.every
                if response.status_code != 200:
                    stats.note = f"HTTP {response.status_code}"
                    return max(self.every, _retry_after(response.headers.get("retry-after")))
                body = await _read_limited(response)
                etag = response.headers.get("etag")
                modified = response.headers.get("last-modified")
        except httpx.HTTPError as exc:
            stats.note = f"cannot fetch: {exc}"
            return self.every
        fetched = datetime.now(UTC).isoformat()
        items = await asyncio.to_thread(self._items, body, fetched)
        stats.received += len(items)
        stats.note = f"{len(items)} entries"
        if items:
            piece = self.pieces.make(
                items, received=received, checkpoint=self._checkpoint(etag, modified)
            )
            await writer.submit(piece, stats)
        self.etag, self.last_modified = etag, modified
        return self.every

    def _items(self, body: bytes | None, fetched: str) -> list[Item]:
        """The feed's entries as records (or the feed itself, quarantined, when it cannot be
        read as a feed)."""
        if body is None:
            error = RecordError(None, f"feed over {MAX_FEED_BYTES} bytes", kind="bad value")
            return [(1, b"", error)]
        parsed = feedparser.parse(body)
        if not parsed.entries:
            if parsed.get("bozo"):
                reason = f"not a readable RSS or Atom feed: {parsed.get('bozo_exception')}"
                return [(1, body[: 1 << 20], RecordError(None, reason, kind="bad value"))]
            return []
        about = dict(parsed.feed)
        feed = {
            "url": self.url,
            "title": about.get("title"),
            "language": about.get("language"),
            "platform": self.platform,
        }
        items: list[Item] = []
        for number, entry in enumerate(parsed.entries, 1):
            record = {"feed": feed, "entry": _entry(entry), "fetched_at": fetched}
            items.append((number, orjson.dumps(record), record))
        return items

    def _checkpoint(self, etag: str | None, modified: str | None) -> Any:
        store, url = self._store, self.url
        if store is None:
            return None

        def save() -> None:
            sql.save_feed_state(
                store, url, etag=etag, last_modified=modified, now=datetime.now(UTC)
            )

        return save


def _entry(parsed: Any) -> dict[str, Any]:
    """feedparser's entry reduced to the fields a post needs, times as ISO 8601 UTC. Read
    as a plain dict: feedparser's own ``get`` maps a missing ``updated`` to ``published``
    (with a warning), and an entry's update time is not its publication time."""
    entry = dict(parsed)
    content = entry.get("content")
    body = content[0].get("value") if isinstance(content, list) and content else None
    return {
        "id": entry.get("id"),
        "link": entry.get("link"),
        "title": entry.get("title"),
        "summary": entry.get("summary"),
        "content": body,
        "author": entry.get("author"),
        "comments": entry.get("comments"),
        "language": (entry.get("title_detail") or {}).get("language"),
        "published": _iso(entry.get("published_parsed")),
        "updated": _iso(entry.get("updated_parsed")),
    }


def _iso(parsed: Any) -> str | None:
    """feedparser's parsed time (a UTC ``struct_time``) as ISO 8601."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


async def _read_limited(response: httpx.Response) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_FEED_BYTES:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _retry_after(value: str | None) -> float:
    """``Retry-After``: seconds, or an HTTP date (RFC 9110 §10.2.3); 0 when absent."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
