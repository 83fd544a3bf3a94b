"""Live streams: Mastodon's streaming API and Bluesky's Jetstream over WebSocket.

Messages are decoded and written in small batches through the same ``Ingestor`` as the
archives, so brand matching, quarantine and enrichment behave the same. A dropped
connection is retried with backoff; Jetstream resumes from the cursor saved in the store.

A poison message (one the parser or the store cannot take) is quarantined with its reason,
the messages batched with it are stored, and Jetstream's cursor is saved in the same
transaction, past it: a restart never meets it again (``commit.py``). A message over 8 MB
is quarantined with its first bytes, and the connection kept (``websocket.py``). Between
batches the store is lent to any command that asked for it (``Store.available``); messages
wait in memory meanwhile. ``stop`` (set on SIGTERM by the CLI) ends a stream after a last write.

- Mastodon: ``GET /api/v1/streaming?stream=public`` (or ``hashtag&tag=x``) upgraded to a
  WebSocket; each message is ``{"stream": [...], "event": "update", "payload": "<Status>"}``
  (docs.joinmastodon.org/methods/streaming).
- Jetstream: ``/subscribe?wantedCollections=app.bsky.feed.post[&cursor=<time_us>]``; each
  message is one event (github.com/bluesky-social/jetstream).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from uproar.errors import InputError, StoreError
from uproar.sources.commit import Item, commit, parse_piece
from uproar.sources.fields import RecordError
from uproar.sources.ingestor import JSON_FORMATS, Ingestor, IngestResult
from uproar.sources.websocket import message_item, open_stream, receive

Clock = Callable[[], float]
# Messages held while the store is lent to another command, beyond which receiving waits.
MAX_HELD = 200_000
TICK = 0.1  # seconds between checks for a due batch, a stop, or a command wanting the store


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
    """Holds received messages until ``max_batch`` of them or ``max_wait`` seconds, then
    writes them in one transaction (with ``checkpoint``, e.g. saving the stream's cursor).

    ``source`` names the stream; each run gets its own quarantine key space (the source
    with the run's start time, and the message's number in the run as its line).
    """

    def __init__(
        self,
        ingestor: Ingestor,
        *,
        format: str,
        source: str,
        max_batch: int = 500,
        max_wait: float = 1.0,
        clock: Clock = time.monotonic,
        checkpoint: Callable[[], None] | None = None,
        seen: Callable[[Item], None] | None = None,
    ) -> None:
        self.ingestor, self.format = ingestor, format
        self.module = JSON_FORMATS[format]
        self.source = f"{source}#{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
        self.max_batch, self.max_wait, self.clock = max_batch, max_wait, clock
        self.checkpoint, self.seen = checkpoint, seen
        self.pending: list[Item] = []
        self.oldest: float | None = None
        self.totals = LiveTotals()
        ingestor.store.available()  # from now on, lend the store to commands that ask

    def add(self, raw: str | bytes, *, oversized: int | None = None) -> None:
        """Take one message (``seen`` hears it decoded first); ``oversized``: the size of a
        message over the limit, of which ``raw`` is the first bytes (it is quarantined)."""
        if not self.pending:
            self.oldest = self.clock()
        self.totals.messages += 1
        data = raw.encode() if isinstance(raw, str) else raw
        item = message_item(self.totals.messages, data, oversized)
        if self.seen is not None:
            self.seen(item)
        self.pending.append(item)
        if len(self.pending) >= self.max_batch:
            self.flush()

    def due(self) -> bool:
        return bool(self.pending) and self.clock() - (self.oldest or 0.0) >= self.max_wait

    def flush(self, *, wait: bool = False) -> None:
        """Write what is pending, unless the store is lent out (then keep it, or with
        ``wait`` or too much held, wait for the store to come back)."""
        if not self.pending:
            return
        store = self.ingestor.store
        while not store.available():
            if not wait and len(self.pending) < MAX_HELD:
                return
            time.sleep(TICK / 4)
        batch, self.pending = self.pending, []
        self.ingestor.live_parser.now = self.ingestor._now()  # the gate moves with time
        piece = parse_piece(self.ingestor.live_parser, self.module, self.format, self.source, batch)
        (result,) = commit(self.ingestor, [piece], then=self.checkpoint)
        if isinstance(result, Exception):
            self.pending = batch + self.pending  # kept, so a retry loses nothing
            raise StoreError(f"{store.path}: cannot store stream messages: {result}") from result
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
    stop: asyncio.Event | None = None,
) -> LiveTotals:
    """Follow an instance's stream into the store until a limit is reached (or ``stop``)."""
    url = mastodon_url(base, stream=stream, tag=tag)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    batcher = Batcher(ingestor, format="mastodon", source=url.split("?")[0])
    return await _follow(lambda: url, headers, batcher, limits or StreamLimits(), stop)


async def listen_jetstream(
    base: str,
    ingestor: Ingestor,
    *,
    limits: StreamLimits | None = None,
    stop: asyncio.Event | None = None,
) -> LiveTotals:
    """Follow Jetstream's posts into the store, resuming from the stored cursor.

    The cursor is the ``time_us`` of the last message written, saved in the same
    transaction as its batch: it moves past every message stored, skipped or quarantined.
    """
    store = ingestor.store
    state = {"cursor": store.load_cursor(base), "saved": store.load_cursor(base)}

    def save() -> None:
        if state["cursor"] is not None and state["cursor"] != state["saved"]:
            store.save_cursor(base, state["cursor"], now=datetime.now(UTC))
            state["saved"] = state["cursor"]

    def seen(item: Item) -> None:
        time_us = jetstream_cursor(item)
        if time_us is not None:
            state["cursor"] = time_us

    batcher = Batcher(ingestor, format="bluesky", source=base, checkpoint=save, seen=seen)

    def url() -> str:
        return jetstream_url(base, cursor=state["saved"])

    return await _follow(url, {}, batcher, limits or StreamLimits(), stop)


# Jetstream writes ``did`` then ``time_us`` first (github.com/bluesky-social/jetstream,
# models.Event), so a message cut short or not JSON still says where it is in the stream.
_TIME_US = re.compile(
    rb'\A\s*\{\s*(?:"did"\s*:\s*"[^"\\]*"\s*,\s*)?"time_us"\s*:\s*(\d{1,19})\s*[,}]'
)


def jetstream_cursor(item: Item) -> int | None:
    """Where to resume Jetstream after ``item`` (it replays from the cursor, inclusive): a
    message's ``time_us``; for a message that could not be decoded (cut at the size limit,
    say), one past the ``time_us`` its first bytes give, so it is not met again; None where
    there is none."""
    _, raw, value = item
    if isinstance(value, dict):
        time_us = value.get("time_us")
    else:
        found = _TIME_US.match(raw) if isinstance(value, RecordError) else None
        time_us = int(found[1]) + 1 if found else None
    return time_us if type(time_us) is int and 0 < time_us < 2**63 else None


async def _follow(
    url: Callable[[], str],
    headers: dict[str, str],
    batcher: Batcher,
    limits: StreamLimits,
    stop: asyncio.Event | None,
) -> LiveTotals:
    started = time.monotonic()
    totals = batcher.totals

    def finished() -> bool:
        if stop is not None and stop.is_set():
            return True
        if limits.max_messages is not None and totals.messages >= limits.max_messages:
            return True
        return limits.max_seconds is not None and time.monotonic() - started >= limits.max_seconds

    failures = 0
    while not finished():
        try:
            async with open_stream(url(), headers) as socket:
                failures = 0
                while not finished():
                    try:
                        raw, oversized = await asyncio.wait_for(receive(socket), timeout=TICK)
                    except TimeoutError:
                        if batcher.due():
                            batcher.flush()
                        else:  # still lend the store to a command that asks for it
                            batcher.ingestor.store.available()
                        continue
                    batcher.add(raw, oversized=oversized)
                    if batcher.due():
                        batcher.flush()
        except (ConnectionClosed, OSError, InvalidHandshake) as exc:
            batcher.flush()
            failures += 1
            totals.reconnects += 1
            if failures > limits.max_reconnects:
                raise InputError(f"stream {url()} failed {failures} times: {exc}") from exc
            await _sleep(min(30.0, limits.backoff * 2 ** (failures - 1)), stop)
        except InvalidURI as exc:
            raise InputError(f"not a stream URL: {exc}") from exc
    batcher.flush(wait=True)
    return totals


async def _sleep(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
