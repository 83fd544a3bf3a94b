"""Live streams: Mastodon's streaming API and Bluesky's Jetstream over WebSocket.

Messages are decoded and written in small batches through the same ``Ingestor`` as the
archives, so brand matching, quarantine and enrichment behave the same. A dropped
connection is retried with backoff; Jetstream resumes from the cursor saved in the store.

- Mastodon: ``GET /api/v1/streaming?stream=public`` (or ``hashtag&tag=x``) upgraded to a
  WebSocket; each message is ``{"stream": [...], "event": "update", "payload": "<Status>"}``
  (docs.joinmastodon.org/methods/streaming).
- Jetstream: ``/subscribe?wantedCollections=app.bsky.feed.post[&cursor=<time_us>]``; each
  message is one event (github.com/bluesky-social/jetstream).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from uproar.errors import InputError
from uproar.sources.ingestor import Ingestor, IngestResult

Clock = Callable[[], float]


@dataclass(slots=True)
class LiveTotals:
    """Running counts across every batch a stream wrote, plus the stream's own."""

    messages: int = 0
    reconnects: int = 0
    ingested: IngestResult = field(default_factory=IngestResult)

    def as_dict(self) -> dict[str, Any]:
        i = self.ingested
        return {
            "messages": self.messages,
            "stored": i.stored,
            "duplicates": i.duplicates,
            "quarantined": i.quarantined,
            "skipped": i.skipped,
            "reconnects": self.reconnects,
        }


class Batcher:
    """Holds decoded messages until ``max_batch`` of them or ``max_wait`` seconds, then writes."""

    def __init__(
        self,
        ingestor: Ingestor,
        *,
        format: str,
        source: str,
        max_batch: int = 500,
        max_wait: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ingestor, self.format, self.source = ingestor, format, source
        self.max_batch, self.max_wait, self.clock = max_batch, max_wait, clock
        self.pending: list[Any] = []
        self.oldest: float | None = None
        self.totals = LiveTotals()

    def add(self, message: Any) -> None:
        if not self.pending:
            self.oldest = self.clock()
        self.pending.append(message)
        self.totals.messages += 1
        if len(self.pending) >= self.max_batch:
            self.flush()

    def due(self) -> bool:
        return bool(self.pending) and self.clock() - (self.oldest or 0.0) >= self.max_wait

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        result = self.ingestor.ingest_objects(batch, format=self.format, source=self.source)
        self.totals.ingested.absorb(result)


@dataclass(slots=True)
class StreamLimits:
    """When a stream stops by itself: after so many messages or seconds (None: never)."""

    max_messages: int | None = None
    max_seconds: float | None = None
    max_reconnects: int = 10
    backoff: float = 0.5


def mastodon_url(base: str, *, stream: str = "public", tag: str | None = None) -> str:
    """The streaming WebSocket URL for an instance's base URL (https://host)."""
    query = {"stream": "hashtag" if tag else stream, **({"tag": tag.lstrip("#")} if tag else {})}
    root = base.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{root}/api/v1/streaming?{urlencode(query)}"


def jetstream_url(base: str, *, cursor: int | None = None) -> str:
    query: list[tuple[str, str]] = [("wantedCollections", "app.bsky.feed.post")]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return f"{base.rstrip('/')}?{urlencode(query)}"


async def listen_mastodon(
    base: str,
    ingestor: Ingestor,
    *,
    token: str | None = None,
    stream: str = "public",
    tag: str | None = None,
    limits: StreamLimits | None = None,
) -> LiveTotals:
    """Follow an instance's stream into the store until a limit is reached."""
    url = mastodon_url(base, stream=stream, tag=tag)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    batcher = Batcher(ingestor, format="mastodon", source=url.split("?")[0])
    return await _follow(lambda: url, headers, batcher, limits or StreamLimits(), None)


async def listen_jetstream(
    base: str,
    ingestor: Ingestor,
    *,
    limits: StreamLimits | None = None,
) -> LiveTotals:
    """Follow Jetstream's posts into the store, resuming from the stored cursor."""
    store = ingestor.store
    batcher = Batcher(ingestor, format="bluesky", source=base)
    state = {"cursor": store.load_cursor(base)}

    def url() -> str:
        return jetstream_url(base, cursor=state["cursor"])

    def seen(message: Any) -> None:
        if isinstance(message, dict) and isinstance(message.get("time_us"), int):
            state["cursor"] = message["time_us"]

    def saved() -> None:
        if state["cursor"] is not None:
            store.save_cursor(base, state["cursor"], now=datetime.now(UTC))

    return await _follow(url, {}, batcher, limits or StreamLimits(), (seen, saved))


async def _follow(
    url: Callable[[], str],
    headers: dict[str, str],
    batcher: Batcher,
    limits: StreamLimits,
    cursor: tuple[Callable[[Any], None], Callable[[], None]] | None,
) -> LiveTotals:
    started = time.monotonic()
    totals = batcher.totals

    def finished() -> bool:
        if limits.max_messages is not None and totals.messages >= limits.max_messages:
            return True
        return limits.max_seconds is not None and time.monotonic() - started >= limits.max_seconds

    def flush() -> None:
        batcher.flush()
        if cursor:
            cursor[1]()  # the cursor moves only once its messages are stored

    failures = 0
    while not finished():
        try:
            async with connect(url(), additional_headers=headers, open_timeout=10) as socket:
                failures = 0
                while not finished():
                    try:
                        raw = await asyncio.wait_for(socket.recv(), timeout=batcher.max_wait)
                    except TimeoutError:
                        if batcher.due():
                            flush()
                        continue
                    message = _decode(raw)
                    if cursor:
                        cursor[0](message)
                    batcher.add(message)
                    if batcher.due() or not batcher.pending:
                        flush()
        except (ConnectionClosed, OSError, InvalidHandshake) as exc:
            flush()
            failures += 1
            totals.reconnects += 1
            if failures > limits.max_reconnects:
                raise InputError(f"stream {url()} failed {failures} times: {exc}") from exc
            await asyncio.sleep(min(30.0, limits.backoff * 2 ** (failures - 1)))
        except InvalidURI as exc:
            raise InputError(f"not a stream URL: {exc}") from exc
    flush()
    return totals


def _decode(raw: str | bytes) -> Any:
    """A message as JSON, or the raw text kept as-is so ingest quarantines it."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
