"""Writing what listeners receive: one transaction for many requests or messages, and a
poison record quarantined rather than failing the rest.

A *piece* is what one HTTP request, or one batch of stream messages, parsed into. Pieces
are parsed with the archive path's ``ChunkParser`` (so brand matching, quarantine and the
record checks are the same), but each record is isolated: a record that makes the format's
parser raise, or that the store refuses, is quarantined with the reason, and the records
around it are stored. ``commit`` writes several pieces in one transaction (group commit)
and says, per piece, what was stored; a piece is all-or-nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from uproar.errors import StoreError
from uproar.sources.fields import RecordError, Skip
from uproar.sources.ingestor import (
    ENRICH_COLUMNS,
    JSON_FORMATS,
    MAX_ERRORS,
    QUARANTINE_SCHEMA,
    Chunk,
    ChunkParser,
    Ingestor,
    IngestResult,
    Record,
    rows_of,
)
from uproar.store.store import DuplicatePostsError

# One received item: its number (line of a body, message of a stream), its bytes as
# received, and its decoded JSON value or why it could not be decoded.
Item = tuple[int, bytes, Any]


@dataclass(slots=True)
class Piece:
    """One request's (or message batch's) parsed records, and the bytes they came from."""

    source: str
    format: str
    chunk: Chunk
    raws: dict[int, bytes]


def decode(number: int, raw: bytes) -> Item:
    """An item from its bytes: the JSON value, or a ``RecordError`` of the right kind."""
    try:
        return number, raw, orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return number, raw, RecordError(None, f"invalid UTF-8: {bad}", kind="invalid UTF-8")
        return number, raw, RecordError(None, f"invalid JSON: {exc}", kind="invalid JSON")


def parse_piece(
    parser: ChunkParser, module: ModuleType, name: str, source: str, items: Sequence[Item]
) -> Piece:
    """Parse ``items``; an item the format's parser raises on is quarantined alone."""
    skips: dict[int, int] = {}
    chunk = _parse_safely(parser, module, source, list(items), skips)
    return Piece(source, name, chunk, {number: raw for number, raw, _ in items})


def _parse_safely(
    parser: ChunkParser,
    module: ModuleType,
    source: str,
    items: list[Item],
    skips: dict[int, int],
) -> Chunk:
    """One parse of ``items``; if some record breaks the parser's batch step, halve until
    it is found, and quarantine it (a few parses for one bad record among thousands)."""
    tally: dict[int, int] = {}
    try:
        chunk = parser.parse(source, _records(module, items, tally))
    except Exception as exc:  # some record breaks the parser: find which
        if len(items) == 1:
            number, raw, _ = items[0]
            failed = RecordError(None, f"unreadable record: {_say(exc)}", kind="bad value")
            return parser.parse(source, [(number, 0, raw, failed)])
        half = len(items) // 2
        return _concat(
            [
                _parse_safely(parser, module, source, items[:half], skips),
                _parse_safely(parser, module, source, items[half:], skips),
            ]
        )
    for number, count in tally.items():
        skips[number] = skips.get(number, 0) + count
    return chunk


def _records(
    module: ModuleType, items: Iterable[Item], skips: dict[int, int] | None = None
) -> Iterator[Record]:
    for number, raw, value in items:
        if isinstance(value, RecordError):
            yield number, 0, raw, value
            continue
        index = 0
        try:
            for index, record in enumerate(module.records(value)):
                if skips is not None and isinstance(record, Skip):
                    skips[number] = skips.get(number, 0) + 1
                yield number, index, raw, record
        except Exception as exc:  # a parser bug on hostile input: quarantine it
            failed = RecordError(None, f"unreadable record: {_say(exc)}", kind="bad value")
            yield number, index, raw, failed


@dataclass(slots=True)
class Unparsed:
    """One request's records, decoded but not yet parsed (parsing is left to the writer
    thread, which parses a whole group at once: one batch build instead of one each).

    ``checkpoint`` runs inside the transaction that writes these records (a stream saves
    where it got to there, so the posts and the cursor commit together); ``received`` is
    when the first of them arrived (``time.time()``), for lag figures."""

    source: str
    format: str
    items: list[Item]
    checkpoint: Callable[[], None] | None = None
    received: float = field(default_factory=time.time)


@dataclass(slots=True)
class _Counts:
    """What one piece's answer says, whatever is then stored of it."""

    source: str
    format: str
    read: int
    skipped: int
    quarantined: int
    posts: int
    errors: list[str]

    @classmethod
    def of(cls, piece: Piece) -> _Counts:
        c = piece.chunk
        return cls(
            piece.source, piece.format, c.read, c.skipped, c.quarantine.num_rows,
            c.posts.num_rows, c.errors,
        )  # fmt: skip


class Group:
    """Requests parsed together (``parse_together``): their rows as one table per format,
    each request's rows contiguous, so a group is written without cutting its tables up
    and joining them again (which cost more than the parse, for one-post requests); each
    request's own ``Piece`` is cut out only where one is needed (``pieces``)."""

    def __init__(
        self,
        requests: Sequence[Unparsed],
        parts: list[tuple[pa.Table, pa.Table]],
        spans: list[tuple[int, int, int, int, int]],
        counts: list[_Counts],
    ) -> None:
        self.requests, self.parts, self.spans, self.counts = requests, parts, spans, counts

    def tables(self) -> tuple[pa.Table, pa.Table]:
        """Every post and every quarantined record of the group."""
        if len(self.parts) == 1:
            return self.parts[0]
        return (
            pa.concat_tables([posts for posts, _ in self.parts]),
            pa.concat_tables([bad for _, bad in self.parts]),
        )

    def pieces(self) -> list[Piece]:
        return [self.piece(k) for k in range(len(self.requests))]

    def piece(self, k: int) -> Piece:
        part, post_at, post_to, bad_at, bad_to = self.spans[k]
        posts, bad = self.parts[part]
        u, counts = self.requests[k], self.counts[k]
        chunk = Chunk(
            posts.slice(post_at, post_to - post_at),
            bad.slice(bad_at, bad_to - bad_at),
            read=counts.read,
            skipped=counts.skipped,
            errors=counts.errors,
        )
        return Piece(u.source, u.format, chunk, {number: raw for number, raw, _ in u.items})


def parse_group(parser: ChunkParser, group: Sequence[Unparsed]) -> list[Piece]:
    """Parse several requests' records in one pass per format, then hand each its own
    rows, numbered as in its body and keyed by its own source."""
    return parse_together(parser, group).pieces()


def parse_together(parser: ChunkParser, group: Sequence[Unparsed]) -> Group:
    """``parse_group``, keeping the group's rows together."""
    parts: list[tuple[pa.Table, pa.Table]] = []
    spans: dict[int, tuple[int, int, int, int, int]] = {}
    counts: dict[int, _Counts] = {}
    for name in dict.fromkeys(u.format for u in group):
        members = [(k, u) for k, u in enumerate(group) if u.format == name]
        merged: list[Item] = []
        bases: list[tuple[int, int, int, Unparsed]] = []  # (position in group, base, top, request)
        base = 0
        for k, u in members:
            items = u.items
            top = items[-1][0] if len(items) == 1 else max((n for n, _, _ in items), default=0)
            bases.append((k, base, top, u))
            merged += [(base + number, raw, value) for number, raw, value in items]
            base += top
        skips: dict[int, int] = {}
        chunk = _parse_safely(parser, JSON_FORMATS[name], "group", merged, skips)
        starts = np.array([base for _, base, _, _ in bases], np.int64)
        sources = pa.array([u.source for _, _, _, u in bases], pa.string())
        posts, post_bounds = _renumber(chunk.posts, "source_line", starts, sources)
        bad, bad_bounds = _renumber(chunk.quarantine, "line", starts, sources)
        post_edges, bad_edges = post_bounds.tolist(), bad_bounds.tolist()
        part = len(parts)
        parts.append((posts, bad))
        for position, (k, first, top, u) in enumerate(bases):
            post_at, post_to = post_edges[position], post_edges[position + 1]
            bad_at, bad_to = bad_edges[position], bad_edges[position + 1]
            spans[k] = (part, post_at, post_to, bad_at, bad_to)
            skipped = (
                sum(skips.get(number, 0) for number in range(first + 1, first + top + 1))
                if skips
                else 0
            )
            quarantined = bad_to - bad_at
            errors = _errors(u.source, bad.slice(bad_at, quarantined)) if quarantined else []
            counts[k] = _Counts(
                u.source, u.format, post_to - post_at + quarantined + skipped, skipped,
                quarantined, post_to - post_at, errors,
            )  # fmt: skip
    order = range(len(group))
    return Group(group, parts, [spans[k] for k in order], [counts[k] for k in order])


def _renumber(
    table: pa.Table, column: str, starts: np.ndarray, sources: pa.Array
) -> tuple[pa.Table, np.ndarray]:
    """Each row's number in its own request and its source, and where each request's rows
    begin and end (rows are in number order, so each request's rows are contiguous)."""
    lines = table.column(column).to_numpy()
    owner = np.searchsorted(starts, lines, side="left") - 1
    table = table.set_column(
        table.schema.get_field_index(column), column, pa.array(lines - starts[owner])
    )
    table = table.set_column(
        table.schema.get_field_index("source_file"), "source_file", sources.take(owner)
    )
    bounds = np.searchsorted(owner, np.arange(len(starts) + 1), side="left")
    return table, bounds


def _errors(source: str, quarantined: pa.Table) -> list[str]:
    """A request's error lines, for its answer (the first ``MAX_ERRORS``)."""
    return [
        f"{source}:{row['line']}"
        + (f" item {row['item']}" if row["item"] else "")
        + f": {row['reason']}"
        + (f" (field {row['field']!r})" if row["field"] else "")
        for row in quarantined.slice(0, MAX_ERRORS).to_pylist()
    ]


def _say(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


def _concat(chunks: Sequence[Chunk]) -> Chunk:
    return Chunk(
        posts=pa.concat_tables([c.posts for c in chunks]),
        quarantine=pa.concat_tables([c.quarantine for c in chunks]),
        read=sum(c.read for c in chunks),
        skipped=sum(c.skipped for c in chunks),
        errors=list(itertools.chain.from_iterable(c.errors for c in chunks)),
    )


Then = Callable[[], None]
# who waits for a piece's result: a thread, or a coroutine in some event loop
Waiter = Future[IngestResult | Exception] | asyncio.Future[IngestResult | Exception]
# What a ``GroupCommitter`` tells its ``after`` hook, on the writer thread, once a group's
# transaction is over: each request with its counts (or why nothing of it was stored).
Committed = Sequence[tuple[Unparsed, IngestResult | Exception]]


def commit(
    ingestor: Ingestor, pieces: Sequence[Piece] | Group, *, then: Then | None = None
) -> list[IngestResult | Exception]:
    """Write ``pieces`` (each with its own ``source``), or a ``Group``'s, in one transaction,
    with ``then`` inside it (e.g. saving a stream cursor), and give each piece's counts.

    If that transaction fails, each piece is written alone; a piece that still fails has its
    refused records found (each tried alone and rolled back) and quarantined, and is written
    again. A piece whose final write fails gets the exception and nothing of it is stored.
    """
    try:
        if isinstance(pieces, Group):
            posts, bad = pieces.tables()
            return list(_write(ingestor, posts, bad, pieces.counts, then))
        return list(_write_pieces(ingestor, pieces, then))
    except Exception:  # one piece spoilt the group: write them one by one
        pass
    if isinstance(pieces, Group):
        pieces = pieces.pieces()
    results: list[IngestResult | Exception] = []
    for index, piece in enumerate(pieces):
        last = then if index == len(pieces) - 1 else None
        try:
            results.extend(_write_pieces(ingestor, [piece], last))
            continue
        except Exception:  # look for the records the store refuses
            pass
        try:
            with ingestor.store.transaction():
                pass  # a store that cannot even do this is broken: no record is to blame
            results.extend(_write_pieces(ingestor, [_isolate(ingestor, piece)], last))
        except Exception as exc:  # the store itself fails: the caller says so
            results.append(exc)
    return results


class _Rollback(Exception):
    """Ends a trial write."""


def _isolate(ingestor: Ingestor, piece: Piece) -> Piece:
    """``piece`` with each record the store refuses moved to the quarantine."""
    refused = _refused(ingestor, piece, sorted(piece.raws))
    if not refused:
        return piece
    chunk = piece.chunk
    lines = pa.array(list(refused), pa.int64())
    posts = chunk.posts.filter(pc.invert(pc.is_in(chunk.posts.column("source_line"), lines)))
    kept = chunk.quarantine.filter(pc.invert(pc.is_in(chunk.quarantine.column("line"), lines)))
    now = ingestor.parser.now
    extra = pa.table(
        {
            "source_file": [piece.source] * len(refused),
            "line": list(refused),
            "item": [0] * len(refused),
            "kind": ["bad value"] * len(refused),
            "field": [None] * len(refused),
            "reason": [f"the store refused it: {why}" for why in refused.values()],
            "content": [piece.raws[n] for n in refused],
            "quarantined_at": [now] * len(refused),
        },
        schema=QUARANTINE_SCHEMA,
    )
    bad = pa.concat_tables([kept, extra])
    errors = chunk.errors + [
        f"{piece.source}:{n}: the store refused it: {why}" for n, why in refused.items()
    ]
    return Piece(
        piece.source,
        piece.format,
        Chunk(
            posts,
            bad,
            read=posts.num_rows + bad.num_rows + chunk.skipped,
            skipped=chunk.skipped,
            errors=errors,
        ),
        piece.raws,
    )


def _refused(ingestor: Ingestor, piece: Piece, numbers: list[int]) -> dict[int, str]:
    """The records among ``numbers`` that the store refuses, and why: trial writes, rolled
    back, halving the set that fails (a few trials for one bad record among thousands)."""
    chunk = piece.chunk
    wanted = pa.array(numbers, pa.int64())
    posts = chunk.posts.filter(pc.is_in(chunk.posts.column("source_line"), wanted))
    bad = chunk.quarantine.filter(pc.is_in(chunk.quarantine.column("line"), wanted))
    if posts.num_rows == 0 and bad.num_rows == 0:
        return {}
    try:
        with ingestor.store.transaction():
            _write_rows(ingestor, posts, bad)
            raise _Rollback
    except _Rollback:
        return {}
    except Exception as exc:  # some record here is refused: halve
        if len(numbers) == 1:
            return {numbers[0]: _say(exc)}
    half = len(numbers) // 2
    return {
        **_refused(ingestor, piece, numbers[:half]),
        **_refused(ingestor, piece, numbers[half:]),
    }


def _write_rows(
    ingestor: Ingestor,
    posts: pa.Table,
    bad: pa.Table,
    *,
    fresh: bool = False,
    labels: list[pa.Table] | None = None,
) -> pa.Table:
    """Inside a transaction: insert posts, the quarantine and the enrichers' output; returns
    the new posts' enrich columns and ``source_file``. ``fresh`` inserts with a plain
    INSERT, which raises ``DuplicatePostsError`` if any post is stored already. ``labels``
    are the labellers' rows made where the posts were parsed (``uproar watch``'s parse
    workers); without them the new posts are labelled here."""
    store = ingestor.store
    if fresh:
        store.insert_fresh_posts(posts)
        new = posts.select((*ENRICH_COLUMNS, "source_file"))
    else:
        new = store.insert_posts_returning(posts, (*ENRICH_COLUMNS, "source_file"))
    enrich = new.select(ENRICH_COLUMNS)
    if labels is None:
        labels = [labeller.label(enrich) for labeller in ingestor.labellers]
    elif new.num_rows < posts.num_rows:
        labels = [rows_of(rows, enrich) for rows in labels]
    ingestor._rest(enrich, bad, labels)
    return new


def _labels(ingestor: Ingestor, pieces: Sequence[Piece]) -> list[pa.Table] | None:
    """The labellers' rows for all of ``pieces``' posts when some piece was labelled where
    it was parsed (a piece that was not is labelled now), else None."""
    if not ingestor.labellers or not any(p.chunk.labels for p in pieces):
        return None
    return [
        pa.concat_tables(
            [
                p.chunk.labels[i]
                if p.chunk.labels
                else labeller.label(p.chunk.posts.select(ENRICH_COLUMNS))
                for p in pieces
            ]
        ).combine_chunks()
        for i, labeller in enumerate(ingestor.labellers)
    ]


def _write_pieces(
    ingestor: Ingestor, pieces: Sequence[Piece], then: Then | None
) -> list[IngestResult]:
    posts = pa.concat_tables([p.chunk.posts for p in pieces])
    bad = pa.concat_tables([p.chunk.quarantine for p in pieces])
    counts = [_Counts.of(p) for p in pieces]
    return _write(ingestor, posts, bad, counts, then, labels=_labels(ingestor, pieces))


def _write(
    ingestor: Ingestor,
    posts: pa.Table,
    bad: pa.Table,
    counts: Sequence[_Counts],
    then: Then | None,
    *,
    labels: list[pa.Table] | None = None,
) -> list[IngestResult]:
    """One transaction. Live posts are nearly always new, so a plain INSERT is tried first
    (it skips the per-row conflict handling); a batch that meets a stored post is rolled
    back and written again ignoring those (as ``Ingestor._write`` does)."""
    # One contiguous batch: DuckDB scans an Arrow table chunk by chunk, and a thousand
    # one-row chunks cost it a hundred times more than one.
    posts, bad = posts.combine_chunks(), bad.combine_chunks()
    new: pa.Table | None = None
    try:
        with ingestor.store.transaction():
            new = _write_rows(ingestor, posts, bad, fresh=True, labels=labels)
            if then is not None:
                then()
    except DuplicatePostsError:
        new = None
    if new is None:
        with ingestor.store.transaction():
            new = _write_rows(ingestor, posts, bad, labels=labels)
            if then is not None:
                then()
    stored: dict[str, int] = {}
    for source in new.column("source_file").to_pylist():
        stored[source] = stored.get(source, 0) + 1
    results = []
    for c in counts:
        result = IngestResult(files={c.source: c.format})
        result.read = c.read
        result.skipped = c.skipped
        result.quarantined = c.quarantined
        # pieces of one source are one request sent again (an HTTP retry): the first to be
        # written stored the posts, and the others find them stored
        result.stored = stored.pop(c.source, 0)
        result.duplicates = c.posts - result.stored
        if c.errors:
            result.note(c.errors)
        results.append(result)
    return results


class GroupCommitter:
    """One writer thread: requests queue their decoded records, and whatever has queued
    while the last transaction ran is parsed in one pass and written in the next transaction
    (group commit, as databases do for their logs). Each submitter's future resolves only
    after its transaction has committed, so an acknowledgement means stored; a request is
    never split across transactions.

    Between transactions, and every ``idle`` seconds when nothing comes, the store is lent
    to any command that asked for it (``Store.available``); pieces wait meanwhile.

    Each group is parsed with the ingestor's clock read afresh (``ingested_at`` and the
    plausible-time gate move with time in a long-running process). ``after`` is called on
    the writer thread after each group, and with no requests every ``idle`` seconds, while
    the writer holds the store (``uproar watch`` runs detection there: one writer).
    ``parse`` turns a group's requests into pieces there (default: ``parse_together``;
    ``uproar watch`` passes one that collects what its parse workers made).
    """

    def __init__(
        self,
        ingestor: Ingestor,
        *,
        max_rows: int = 50_000,
        idle: float = 0.05,
        after: Callable[[Committed], None] | None = None,
        parse: Callable[[ChunkParser, Sequence[Unparsed]], list[Piece] | Group] | None = None,
    ) -> None:
        self.ingestor, self.max_rows, self.idle, self.after = ingestor, max_rows, idle, after
        self.parse = parse or parse_together  # ``uproar watch`` hands in its workers' pieces
        self._queue: queue.SimpleQueue[tuple[Unparsed, Waiter] | None]
        self._queue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0  # transactions written, for figures (bench/listen.py)

    def start(self) -> None:
        """Start the writer thread (from then on it also lends the store when asked)."""
        with self._lock:
            if self._thread is None:
                # Mark the store as lent from now on, before any command can find it locked:
                # a command that came before the thread's first idle turn would otherwise
                # see a lock with no lender and fail at once.
                self.ingestor.store.available()
                self._thread = threading.Thread(target=self._run, name="uproar-commit")
                self._thread.start()

    def submit(self, piece: Unparsed) -> Future[IngestResult | Exception]:
        """Queue ``piece``; the future gives its counts, or why nothing of it was stored."""
        self.start()
        done: Future[IngestResult | Exception] = Future()
        self._queue.put((piece, done))
        return done

    def submit_async(self, piece: Unparsed) -> asyncio.Future[IngestResult | Exception]:
        """``submit`` for a caller in an event loop: a whole group's futures are settled
        with one wake-up of that loop, not one each (what one-post requests cost)."""
        self.start()
        done: asyncio.Future[IngestResult | Exception] = asyncio.get_running_loop().create_future()
        self._queue.put((piece, done))
        return done

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        store = self.ingestor.store
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=self.idle)
            except queue.Empty:
                # lend the store if asked, take it back when free; a failure to take it
                # back is met again, and reported, by the next group
                with contextlib.suppress(StoreError):
                    if store.available() and self.after is not None:
                        self.after(())
                continue
            if first is None:
                break
            group = [first]
            rows = _rows(first[0])
            while rows < self.max_rows:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                rows += _rows(more[0])
            try:
                while not store.available():
                    time.sleep(self.idle / 5)
                parser = self.ingestor.live_parser
                parser.now = self.ingestor._now()
                unparsed = [piece for piece, _ in group]
                together = self.parse(parser, unparsed)
                checkpoints = [u.checkpoint for u in unparsed if u.checkpoint is not None]
                results = commit(self.ingestor, together, then=_each(checkpoints))
            except Exception as exc:  # a bug, not input: every waiting request hears it
                results = [exc] * len(group)
            self.groups += 1
            _settle([done for _, done in group], results)
            if self.after is not None:  # it must not raise: it keeps its own failures
                pairs = zip(group, results, strict=True)
                self.after([(piece, result) for (piece, _), result in pairs])


def _each(checkpoints: Sequence[Then]) -> Then | None:
    """One ``then`` that runs every request's checkpoint, in order (the last cursor wins)."""
    if not checkpoints:
        return None

    def run() -> None:
        for checkpoint in checkpoints:
            checkpoint()

    return run


def _settle(waiting: Sequence[Waiter], results: Sequence[IngestResult | Exception]) -> None:
    """Hand each waiter its result: thread futures at once, event-loop futures in one call
    per loop (a loop's futures may only be touched from its own thread)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for done, result in zip(waiting, results, strict=True):
        if isinstance(done, Future):
            done.set_result(result)
        else:
            by_loop.setdefault(done.get_loop(), []).append((done, result))
    for loop, pairs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve, pairs)


def _resolve(pairs: Sequence[tuple[asyncio.Future[Any], Any]]) -> None:
    for done, result in pairs:
        if not done.cancelled():
            done.set_result(result)


def _rows(piece: Unparsed) -> int:
    return len(piece.items)
