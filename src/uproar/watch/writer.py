"""The one writer of ``uproar watch``: every listener's records go through one
``GroupCommitter`` thread, which also runs detection between transactions.

- **Bounded.** ``submit`` waits while ``max_pending`` records are received but not yet
  committed; a listener waiting there stops reading its socket, so the WebSocket's and
  TCP's own flow control make the sender wait. Memory does not grow with a backlog.
- **Cursors with posts.** A piece's ``checkpoint`` (a stream cursor, a feed's validators)
  runs inside the transaction that writes it.
- **Lag.** Each piece carries when its first record arrived; the writer keeps event to
  stored and event to detected lag in bounded histograms (``lag.py``).
- **Parsed elsewhere.** With ``parse_workers``, pieces are decoded, parsed, matched to
  brands and labelled by worker processes (``parsing.py``), so this thread only inserts,
  commits and detects; the status says where the CPU went (``cpu_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from uproar.errors import StoreError, UproarError
from uproar.sources.commit import Committed, GroupCommitter, Piece, Unparsed, parse_group
from uproar.sources.ingestor import ChunkParser, Ingestor, IngestResult
from uproar.store import watch as sql
from uproar.watch.detection import LiveDetection
from uproar.watch.lag import LagHistogram
from uproar.watch.parsing import CpuSplit, ParseStage

GROUP_ROWS = 10_000


@dataclass(slots=True)
class SourceStats:
    """One listener's running counts (the writer adds what was stored)."""

    name: str
    received: int = 0
    reconnects: int = 0
    ingested: IngestResult = field(default_factory=IngestResult)
    note: str = ""  # the last thing worth saying (a reconnect's reason, a rate limit)

    def as_dict(self) -> dict[str, Any]:
        i = self.ingested
        return {
            "name": self.name,
            "received": self.received,
            "stored": i.stored,
            "duplicates": i.duplicates,
            "quarantined": i.quarantined,
            "skipped": i.skipped,
            "reconnects": self.reconnects,
            "note": self.note,
        }


class IngestClock:
    """Ingest times that never repeat and never go back: detection reads the posts
    ingested after its watermark, so two groups must not share a time."""

    def __init__(
        self, after: datetime | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last = after.replace(tzinfo=UTC) if after and after.tzinfo is None else after
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self._clock()
            if self._last is not None and now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
            return now


class Writer:
    """One GroupCommitter for every listener, detection every ``detect_every`` seconds;
    ``parse_workers`` processes parse and label what the listeners hand it (0: this
    writer's thread does, as the HTTP endpoint's requests always are)."""

    def __init__(
        self,
        ingestor: Ingestor,
        detection: LiveDetection,
        *,
        detect_every: float = 5.0,
        max_pending: int = 50_000,
        status_every: float = 10.0,
        on_status: Callable[[dict[str, Any]], None] | None = None,
        parse_workers: int = 0,
    ) -> None:
        self.ingestor, self.detection = ingestor, detection
        self.stage = ParseStage(ingestor, workers=parse_workers) if parse_workers else None
        self.cpu = CpuSplit()  # the writer thread's CPU by stage (thread time, seconds)
        # the event loop's and the writer's thread CPU seconds, as each last read its own
        self._threads: dict[str, float] = {}
        self._loop_start = 0.0
        self.detect_every, self.max_pending = detect_every, max_pending
        self.status_every, self.on_status = status_every, on_status
        # A group holds at most a second of a 10,000 posts/s stream: bigger groups commit
        # a little more cheaply but every post in one waits for the whole group.
        self.committer = GroupCommitter(
            ingestor, max_rows=GROUP_ROWS, after=self._after, parse=self._parse
        )
        self.stored_lag = LagHistogram()
        self.detected_lag = LagHistogram()
        self.sources: list[SourceStats] = []
        self.failure: BaseException | None = None
        self.failed = threading.Event()
        self.started = time.time()
        self.passes = 0
        self.detected_posts = 0
        self._pending = 0
        self._room: asyncio.Event | None = None  # set whenever a piece has committed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._undetected: list[tuple[float, int]] = []  # committed pieces: (received, count)
        self._last_pass = 0.0
        self._last_status = time.time()
        self.status: dict[str, Any] = {}
        self.totals = IngestResult()  # every listener's, the HTTP endpoint's included

    def stats(self, name: str) -> SourceStats:
        """A listener's counts, shown in the status."""
        stats = SourceStats(name)
        self.sources.append(stats)
        return stats

    # -- the event loop side --------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Event()
        self._loop_start = time.thread_time()  # what the imports and set-up took before
        if self.stage is not None:
            self.stage.start()
        self.committer.start()

    @property
    def pending(self) -> int:
        return self._pending

    async def submit(self, piece: Unparsed, stats: SourceStats | None = None) -> None:
        """Queue ``piece`` for the next transaction, first waiting for room (back-pressure).
        Its counts go to ``stats``; a piece that cannot be stored stops the watch."""
        assert self._room is not None and self._loop is not None, "call start() first"
        size = len(piece.items)
        while self._pending > 0 and self._pending + size > self.max_pending:
            self._room.clear()
            await self._room.wait()
        self._pending += size
        self._threads["loop"] = time.thread_time() - self._loop_start
        queued = self.stage.submit(piece) if self.stage is not None else piece
        future = self.committer.submit(queued)
        loop = self._loop

        def done(_: object) -> None:
            # a loop that has ended (shutting down) has nothing waiting on this any more
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._finished, size, future.result(), stats)

        future.add_done_callback(done)

    def _finished(
        self, size: int, result: IngestResult | Exception, stats: SourceStats | None
    ) -> None:
        self._pending -= size
        if isinstance(result, Exception):
            self._fail(result)
        elif stats is not None:
            stats.ingested.absorb(result)
        if self._room is not None:
            self._room.set()

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.failed.set()

    def close(self) -> None:
        """Write what is queued, run a last detection pass, wait for the alerts in flight,
        and stop the writer thread."""
        try:
            self.committer.close()
        finally:
            if self.stage is not None:
                self.stage.close()
        try:
            if self.failure is None:
                with contextlib.suppress(UproarError):
                    if self.ingestor.store.available():
                        self._detect(time.time())
                        self._report(time.time())
        finally:
            self.detection.alerts.close(datetime.now(UTC))

    # -- the writer thread side ----------------------------------------------------------
    def _parse(self, parser: ChunkParser, group: Sequence[Unparsed]) -> list[Piece]:
        """A group's pieces: the workers' (stamped with the group's time) or parsed here."""
        start = time.thread_time()
        try:
            if self.stage is not None:
                return self.stage.parse(parser, group)
            return parse_group(parser, group)
        finally:
            self.cpu.add({"parse": time.thread_time() - start})

    def _after(self, committed: Committed) -> None:
        """After each group (and when idle), on the writer thread: lag, detection, status."""
        self._threads["writer"] = time.thread_time()
        try:
            now = time.time()
            for piece, result in committed:
                if isinstance(result, Exception):
                    continue
                count = len(piece.items)
                self.totals.absorb(result)
                self.stored_lag.add(max(0.0, now - piece.received), weight=count)
                self._undetected.append((piece.received, count))
            if now - self._last_pass >= self.detect_every:
                self._detect(now)
            if now - self._last_status >= self.status_every:
                self._report(now)
        except Exception as exc:  # a detection or store failure stops the watch, loudly
            self._fail(exc)

    def _detect(self, now: float) -> None:
        self._last_pass = now
        waiting, self._undetected = self._undetected, []
        start = time.thread_time()
        done = self.detection.run(datetime.fromtimestamp(now, UTC))
        self.cpu.add({"detect": time.thread_time() - start})
        self.passes += 1
        self.detected_posts += done.posts
        end = time.time()
        for received, count in waiting:
            self.detected_lag.add(max(0.0, end - received), weight=count)

    def _report(self, now: float) -> None:
        self._last_status = now
        self.status = self.snapshot(now)
        sql.save_status(
            self.ingestor.store, "watch", self.status, now=datetime.fromtimestamp(now, UTC)
        )
        if self.on_status is not None:
            self.on_status(self.status)

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """The figures the status line, the status file and the dashboard show."""
        now = now or time.time()
        totals = self.totals
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {
            "at": datetime.fromtimestamp(now, UTC).isoformat(),
            "running_s": round(now - self.started, 1),
            "stored": totals.stored,
            "duplicates": totals.duplicates,
            "quarantined": totals.quarantined,
            "detected_posts": self.detected_posts,
            "pending": self._pending,
            "groups": self.committer.groups,
            "passes": self.passes,
            "lag_stored_s": self.stored_lag.summary(),
            "lag_detected_s": self.detected_lag.summary(),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "cpu_s": self.cpu_split(),
            "sources": [s.as_dict() for s in self.sources],
            "error": None if self.failure is None else str(self.failure),
        }

    def cpu_split(self) -> dict[str, Any]:
        """CPU seconds so far: the whole process (and its workers once they have ended),
        the event loop's (since ``start``) and the writer's threads, the writer's by stage
        (``parse`` there is collecting the workers' rows, or parsing when there are none; the
        rest of its time is inserting, saving labels and committing), and the workers' by
        stage."""
        me = resource.getrusage(resource.RUSAGE_SELF)
        ended = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "process": round(me.ru_utime + me.ru_stime, 3),
            "ended_workers": round(ended.ru_utime + ended.ru_stime, 3),
            **{name: round(seconds, 3) for name, seconds in self._threads.items()},
            "writer_stages": self.cpu.as_dict(),
            "workers": self.stage.cpu.as_dict() if self.stage is not None else {},
        }

    def raise_failure(self) -> None:
        if self.failure is None:
            return
        if isinstance(self.failure, UproarError):
            raise self.failure
        raise StoreError(f"{self.ingestor.store.path}: watch stopped: {self.failure}")
