"""The parse stage of ``uproar watch``: decoding, parsing, brand matching and labelling in
worker processes, so that the one writer thread only inserts, commits and detects.

A listener's piece goes to a worker as soon as it is handed over (``ParseStage.submit``)
and to the writer's queue at the same moment, in the order it came; the writer collects
each piece's parsed rows in that order (``ParseStage.parse``, the ``GroupCommitter``'s
parse hook), so a stream's cursor still commits with, and after, the posts before it.
While the writer writes one group, the workers parse the next.

The workers run the very code the writer ran (``sources.commit.parse_group``: the archive
path's ``ChunkParser``, with the same quarantine of bad records by file, line and field)
and the watch's labellers (brand mentions only, ``enrich.MentionsOnly``); the writer stores
the labels of the posts that were new. Two things stay on the writer: ``ingested_at`` is
stamped there, with the group's time (detection reads posts by it, so it must grow in
commit order), and pieces that come without a worker (the HTTP endpoint's) are parsed
there as before.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from uproar.config import Brand
from uproar.errors import UproarError
from uproar.sources.commit import Item, Piece, Unparsed, decode, parse_group
from uproar.sources.fields import RecordError
from uproar.sources.ingestor import (
    ENRICH_COLUMNS,
    POST_SCHEMA,
    Chunk,
    ChunkParser,
    Ingestor,
    Labeller,
    _exit_with_parent,
)

# What a worker is sent per record: its number, its bytes, and None (decode the bytes
# again: cheaper than pickling the decoded value) or why it could not be decoded.
Sent = tuple[int, bytes, tuple[str | None, str, str] | None]
# CPU seconds a worker spent on one piece, by stage.
Times = dict[str, float]


class CpuSplit:
    """CPU seconds by stage, added from any thread (thread or process CPU time, not wall)."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, times: Mapping[str, float]) -> None:
        with self._lock:
            for stage, seconds in times.items():
                self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {stage: round(seconds, 3) for stage, seconds in self._seconds.items()}


@dataclass(slots=True)
class Parsing(Unparsed):
    """A piece whose rows a worker is making (``job``)."""

    job: Future[tuple[Chunk, Times]] | None = field(default=None, repr=False)


class ParseStage:
    """``workers`` processes that parse and label the watch's pieces (see the module)."""

    def __init__(self, ingestor: Ingestor, *, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.ingestor, self.workers = ingestor, workers
        self.cpu = CpuSplit()  # the workers' CPU, by stage
        self._pool: ProcessPoolExecutor | None = None
        self._starting: list[Future[int]] = []
        self._up = False

    def start(self) -> None:
        """Start the workers (in the background: importing the parsers and loading the
        labellers' models takes seconds, minutes on a busy machine). Until they are up,
        ``submit`` leaves pieces to the writer, which parses them as it did without
        workers; the watch listens from the first moment."""
        if self._pool is not None:
            return
        context = multiprocessing.get_context("spawn")  # no fork of DuckDB's threads
        parser = self.ingestor.live_parser
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), parser.brands, self.ingestor.labellers),
        )
        # one job each (a process is started per job while none is idle)
        self._starting = [self._pool.submit(os.getpid) for _ in range(self.workers)]

    @property
    def ready(self) -> bool:
        """Whether the workers are up (a worker that could not start is an error)."""
        if self._up:
            return True
        if self._pool is None or not all(job.done() for job in self._starting):
            return False
        for job in self._starting:
            if job.exception() is not None:
                raise UproarError(
                    f"the parse workers did not start ({job.exception()}); "
                    "hint: [limits] parse_workers = 0 parses in the watch's own process"
                )
        self._up = True
        return True

    def wait(self) -> None:
        """Block until the workers are up."""
        self.start()
        for job in self._starting:
            with contextlib.suppress(BrokenProcessPool):
                job.result()
        assert self.ready

    def submit(self, piece: Unparsed) -> Unparsed:
        """Send ``piece`` to a worker, and what to queue for the writer in its place (the
        piece itself while the workers are starting: the writer parses it)."""
        self.start()
        if not self.ready:
            return piece
        assert self._pool is not None
        sent: list[Sent] = [
            (number, raw, _error(value) if isinstance(value, RecordError) else None)
            for number, raw, value in piece.items
        ]
        job = self._pool.submit(_parse, piece.format, piece.source, sent)
        return Parsing(
            piece.source,
            piece.format,
            piece.items,
            checkpoint=piece.checkpoint,
            received=piece.received,
            job=job,
        )

    def parse(self, parser: ChunkParser, group: Sequence[Unparsed]) -> list[Piece]:
        """On the writer thread: each piece's rows, in order, stamped with the group's
        ingest time (``parser.now``); pieces no worker had are parsed here."""
        here = iter(parse_group(parser, [u for u in group if not isinstance(u, Parsing)]))
        stamp = pa.scalar(parser.now, pa.timestamp("us"))
        out: list[Piece] = []
        for u in group:
            if not isinstance(u, Parsing) or u.job is None:
                out.append(next(here))
                continue
            chunk, times = u.job.result()
            self.cpu.add(times)
            posts = chunk.posts
            at = posts.schema.get_field_index("ingested_at")
            chunk.posts = posts.set_column(at, "ingested_at", pa.repeat(stamp, posts.num_rows))
            out.append(Piece(u.source, u.format, chunk, {n: raw for n, raw, _ in u.items}))
        return out

    def close(self) -> None:
        """Stop the workers (after the writer has taken every piece's rows)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _error(error: RecordError) -> tuple[str | None, str, str]:
    # sent as its parts: an exception with keyword arguments does not unpickle
    return error.field, error.reason, error.kind


# -- in a worker ---------------------------------------------------------------------------
_parser: ChunkParser | None = None
_labellers: tuple[Labeller, ...] = ()


def _start_worker(
    parent: int, brands: Mapping[str, Brand], labellers: tuple[Labeller, ...]
) -> None:
    global _parser, _labellers
    _exit_with_parent(parent)
    _parser, _labellers = ChunkParser(brands, datetime.now(UTC).replace(tzinfo=None)), labellers
    nothing = POST_SCHEMA.empty_table().select(ENRICH_COLUMNS)
    for labeller in labellers:
        labeller.label(nothing)  # loads its model now, not with the first piece


def _parse(format: str, source: str, sent: list[Sent]) -> tuple[Chunk, Times]:
    """One piece's rows and labels, as the writer would have made them."""
    assert _parser is not None, "not started as a parse worker"
    clock = time.thread_time
    started = clock()
    items: list[Item] = [
        decode(number, raw)
        if error is None
        else (number, raw, RecordError(error[0], error[1], kind=error[2]))
        for number, raw, error in sent
    ]
    decoded = clock()
    # the plausible-time gate measures from now, as the writer's clock would
    _parser.now = datetime.now(UTC).replace(tzinfo=None)
    chunk = parse_group(_parser, [Unparsed(source, format, items)])[0].chunk
    parsed = clock()
    if _labellers and chunk.posts.num_rows:
        posts = chunk.posts.select(ENRICH_COLUMNS)
        chunk.labels = [labeller.label(posts) for labeller in _labellers]
    times: dict[str, Any] = {
        "decode": decoded - started,
        "parse": parsed - decoded,
        "label": clock() - parsed,
    }
    return chunk, times
