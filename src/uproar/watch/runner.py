"""``uproar watch``: every configured listener in one event loop, one writer, detection.

``run_watch`` is the library call the CLI makes: it builds the sources a ``watch.toml``
names, lets each read its saved cursor, starts the writer thread and runs the sources until
``stop`` (SIGTERM/SIGINT in the CLI) or a limit. A source that fails for good (a refused
token) or a store that cannot be written stops the whole watch with the reason: a watch
that silently stopped listening would be an empty "all clear".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from uproar.alerts import Alerter
from uproar.config import Brand
from uproar.errors import UproarError
from uproar.sources.http_endpoint import IngestApp, require_token_off_loopback, server_config
from uproar.sources.ingestor import Enricher, Ingestor
from uproar.store import Store
from uproar.store import watch as sql
from uproar.watch.config import WatchConfig
from uproar.watch.detection import AlertSink, LiveDetection
from uproar.watch.enrich import for_mentions
from uproar.watch.feeds import FeedSource
from uproar.watch.streams import JetstreamSource, MastodonSource, Source
from uproar.watch.writer import IngestClock, Writer
from uproar.watch.xstream import XStreamSource


class HttpSource:
    """The HTTP push endpoint (``POST /v1/posts``), writing through the watch's writer."""

    def __init__(self, host: str, port: int, *, token: str | None = None) -> None:
        require_token_off_loopback(host, token)
        self.host, self.port, self.token = host, port, token
        self.name = f"http://{host}:{port}/v1/posts"

    def prepare(self, store: Store) -> None:
        return None

    async def run(self, writer: Writer, stop: asyncio.Event) -> None:
        app = IngestApp(writer.ingestor, token=self.token, committer=writer.committer)
        server = _QuietServer(server_config(app, host=self.host, port=self.port))
        serving = asyncio.create_task(server.serve())
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        waiting.cancel()
        await serving
        if not server.started and not stop.is_set():
            raise UproarError(f"the HTTP endpoint could not listen on {self.host}:{self.port}")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the watch's stop event ends it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def sources_for(config: WatchConfig) -> list[Source]:
    """The listeners ``config`` names, in the file's order of kinds."""
    f, tokens = config.file, config.tokens
    batch, wait = f.limits.batch, f.limits.batch_wait
    out: list[Source] = [JetstreamSource(b.url, batch=batch, wait=wait) for b in f.bluesky]
    for m in f.mastodon:
        token = tokens.get(m.token_env) if m.token_env else None
        out.append(
            MastodonSource(
                m.instance, token=token, stream=m.stream, tag=m.tag, batch=batch, wait=wait
            )
        )
    out += [FeedSource(r.url, every=r.every, platform=r.platform) for r in f.rss]
    if f.x is not None:
        out.append(
            XStreamSource(
                f.x.url,
                token=tokens[f.x.token_env],
                backfill_minutes=f.x.backfill_minutes,
                batch=batch,
                wait=wait,
            )
        )
    if f.http is not None:
        token = tokens.get(f.http.token_env) if f.http.token_env else None
        out.append(HttpSource(f.http.host, f.http.port, token=token))
    return out


def status_path(db: str) -> Path | None:
    """Where the status file goes: beside the store (none for an in-memory store)."""
    return None if db == ":memory:" else Path(f"{db}.watch.json")


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Replace the status file whole (a reader never sees half of one)."""
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_text(json.dumps(status, indent=1, default=str), encoding="utf-8")
    part.replace(path)


@dataclass(slots=True)
class WatchRun:
    """What a watch did, for the CLI's last line."""

    status: dict[str, Any] = field(default_factory=dict)


async def run_watch(
    config: WatchConfig,
    store: Store,
    brands: dict[str, Brand],
    *,
    enrichers: Sequence[Enricher] = (),
    alerts: AlertSink | None = None,
    stop: asyncio.Event | None = None,
    max_seconds: float | None = None,
    sources: Sequence[Source] | None = None,
    on_status: Callable[[dict[str, Any]], None] | None = None,
) -> WatchRun:
    """Run the listeners of ``config`` (or ``sources``) into ``store`` until ``stop`` or
    ``max_seconds``; detection runs every ``[detect] every`` seconds on the writer, and
    its incidents go to ``alerts`` (default: an ``Alerter`` for the ``[alerts]`` table)."""
    stop = stop or asyncio.Event()
    chosen = list(sources) if sources is not None else sources_for(config)
    latest = sql.latest_ingest(store)
    ingestor = Ingestor(
        store, brands, enrichers=for_mentions(enrichers), clock=IngestClock(after=latest)
    )
    if alerts is None and config.alerts is not None:
        alerts = Alerter(config.alerts, store)
    detection = LiveDetection(store, brands, signal=config.file.detect.signal, alerts=alerts)
    path = status_path(store.path)

    def report(status: dict[str, Any]) -> None:
        if path is not None:
            with contextlib.suppress(OSError):
                write_status(path, status)
        if on_status is not None:
            on_status(status)

    limits = config.file.limits
    writer = Writer(
        ingestor,
        detection,
        detect_every=config.file.detect.every,
        max_pending=limits.max_pending,
        status_every=limits.status_every,
        on_status=report,
        parse_workers=limits.parse_workers,
    )
    for source in chosen:
        source.prepare(store)
    writer.start()
    tasks: list[asyncio.Task[None]] = []
    failure: BaseException | None = None
    try:
        tasks = [asyncio.create_task(s.run(writer, stop), name=s.name) for s in chosen]
        started = time.monotonic()
        while not stop.is_set():
            done = [t for t in tasks if t.done()]
            if any(t.exception() for t in done):
                failure = next(e for t in done if (e := t.exception()))
                break
            if writer.failed.is_set():
                break
            if len(done) == len(tasks):
                break
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.2)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(writer.close)
    failure = failure or next((r for r in results if isinstance(r, BaseException)), None)
    if failure is not None:
        raise failure
    writer.raise_failure()
    status = writer.snapshot()
    report(status)
    return WatchRun(status)
