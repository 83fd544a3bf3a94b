"""What ``uproar watch`` runs: a ``Source`` is anything that can hand the writer records.

A source gets the store once, before the writer starts (``prepare``: read its saved cursor
on the main thread, as the store's connection is the writer's from then on), then runs in
the event loop until ``stop``, handing the writer ``Unparsed`` pieces whose ``checkpoint``
saves its cursor in the same transaction. Mastodon's streaming API and Bluesky's Jetstream
are here; RSS/Atom feeds (``feeds.py``), X's filtered stream (``xstream.py``) and the HTTP
endpoint (``runner.py``) follow the same protocol, and so can any other (a message bus).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from uproar.errors import InputError
from uproar.sources.commit import Item, Unparsed
from uproar.sources.live import jetstream_cursor, jetstream_url, mastodon_url
from uproar.sources.websocket import message_item, open_stream, receive
from uproar.store import Store
from uproar.watch.writer import Writer

TICK = 0.1  # seconds: how soon a stop or a due batch is noticed while a stream is quiet
MAX_BACKOFF = 60.0  # seconds between reconnects, at most: a watch never gives up


class Source(Protocol):
    """One listener of ``uproar watch``."""

    name: str

    def prepare(self, store: Store) -> None:
        """Read what the source saved (its cursor), before the writer starts."""

    async def run(self, writer: Writer, stop: asyncio.Event) -> None:
        """Hand the writer records until ``stop`` is set."""


class Pieces:
    """Names each piece a source hands the writer: ``<source>#<run start>/<n>``, its records
    numbered from 1, so quarantined records of different pieces and runs never collide."""

    def __init__(self, source: str, format: str) -> None:
        self.source, self.format = source, format
        self.run = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}"
        self._numbers = itertools.count(1)

    def make(
        self,
        items: list[Item],
        *,
        received: float,
        checkpoint: Callable[[], None] | None = None,
    ) -> Unparsed:
        name = f"{self.source}#{self.run}/{next(self._numbers)}"
        return Unparsed(name, self.format, items, checkpoint=checkpoint, received=received)


async def pause(seconds: float, stop: asyncio.Event) -> None:
    """Sleep ``seconds`` or until ``stop``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class WebSocketSource:
    """A WebSocket stream of JSON messages, one record each, batched to the writer.

    ``url`` is asked again at each (re)connection, so a cursor moves on; ``seen`` hears each
    decoded message first (a message over the size limit is quarantined, and the connection
    kept: ``sources/websocket.py``); ``checkpoint`` makes, at a batch's end, what saves its cursor.
    """

    def __init__(
        self,
        name: str,
        *,
        format: str,
        url: Callable[[], str],
        headers: dict[str, str] | None = None,
        batch: int = 2_000,
        wait: float = 0.1,
    ) -> None:
        self.name, self.format, self.url = name, format, url
        self.headers = headers or {}
        self.batch, self.wait = batch, wait
        self.pieces = Pieces(name, format)

    def prepare(self, store: Store) -> None:
        return None

    def seen(self, item: Item) -> None:
        return None

    def checkpoint(self) -> Callable[[], None] | None:
        return None

    async def run(self, writer: Writer, stop: asyncio.Event) -> None:
        stats = writer.stats(self.name)
        failures = 0
        items: list[Item] = []
        first = 0.0

        clock = asyncio.get_running_loop().time

        async def flush() -> None:
            nonlocal items
            if items:
                batch, items = items, []
                piece = self.pieces.make(batch, received=first, checkpoint=self.checkpoint())
                await writer.submit(piece, stats)

        while not stop.is_set():
            try:
                async with open_stream(self.url(), self.headers) as socket:
                    failures = 0
                    while not stop.is_set():
                        # One timer per batch, not per message (at 10,000 messages a
                        # second the timers cost more than the decoding): the batch ends
                        # when full, or ``wait`` after its first message came; with none
                        # yet, the loop looks at ``stop`` every TICK.
                        try:
                            async with asyncio.timeout(TICK) as window:
                                while len(items) < self.batch:
                                    raw, oversized = await receive(socket)
                                    if not items:
                                        first = time.time()
                                        window.reschedule(clock() + self.wait)
                                    stats.received += 1
                                    item = message_item(len(items) + 1, raw, oversized)
                                    self.seen(item)
                                    items.append(item)
                        except TimeoutError:
                            pass
                        await flush()
                    await flush()
            except (ConnectionClosed, OSError, InvalidHandshake) as exc:
                await flush()
                failures += 1
                stats.reconnects += 1
                stats.note = f"reconnecting after: {exc}"
                await pause(min(MAX_BACKOFF, 0.5 * 2 ** (failures - 1)), stop)
            except InvalidURI as exc:
                raise InputError(f"not a stream URL: {exc}") from exc
        await flush()


class MastodonSource(WebSocketSource):
    """An instance's streaming API (docs.joinmastodon.org/methods/streaming)."""

    def __init__(
        self,
        instance: str,
        *,
        token: str | None = None,
        stream: str = "public",
        tag: str | None = None,
        batch: int = 2_000,
        wait: float = 0.1,
    ) -> None:
        url = mastodon_url(instance, stream=stream, tag=tag)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(
            url.split("?")[0], format="mastodon", url=lambda: url, headers=headers,
            batch=batch, wait=wait,
        )  # fmt: skip


class JetstreamSource(WebSocketSource):
    """Bluesky's Jetstream, resuming from the stored cursor (the ``time_us`` of the last
    message written, saved in its batch's transaction)."""

    def __init__(self, base: str, *, batch: int = 2_000, wait: float = 0.1) -> None:
        super().__init__(base, format="bluesky", url=self._url, batch=batch, wait=wait)
        self.base = base
        self.cursor: int | None = None
        self._store: Store | None = None

    def prepare(self, store: Store) -> None:
        self._store = store
        self.cursor = store.load_cursor(self.base)

    def _url(self) -> str:
        return jetstream_url(self.base, cursor=self.cursor)

    def seen(self, item: Item) -> None:
        time_us = jetstream_cursor(item)
        if time_us is not None:
            self.cursor = time_us

    def checkpoint(self) -> Callable[[], None] | None:
        cursor, store, base = self.cursor, self._store, self.base
        if cursor is None or store is None:
            return None

        def save() -> None:
            store.save_cursor(base, cursor, now=datetime.now(UTC))

        return save
