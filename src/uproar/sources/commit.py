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

import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
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
    thread, which parses a whole group at once: one batch build instead of one each)."""

    source: str
    format: str
    items: list[Item]


def parse_group(parser: ChunkParser, group: Sequence[Unparsed]) -> list[Piece]:
    """Parse several requests' records in one pass per format, then hand each its own
    rows, numbered as in its body and keyed by its own source."""
    pieces: dict[int, Piece] = {}
    for name in dict.fromkeys(u.format for u in group):
        members = [(k, u) for k, u in enumerate(group) if u.format == name]
        merged: list[Item] = []
        bases: list[tuple[int, int, Unparsed]] = []  # (position in group, base, request)
        base = 0
        for k, u in members:
            top = max((number for number, _, _ in u.items), default=0)
            bases.append((k, base, u))
            merged += [(base + number, raw, value) for number, raw, value in u.items]
            base += top
        skips: dict[int, int] = {}
        chunk = _parse_safely(parser, JSON_FORMATS[name], "group", merged, skips)
        starts = np.array([base for _, base, _ in bases], np.int64)
        sources = pa.array([u.source for _, _, u in bases], pa.string())
        posts = _renumber(chunk.posts, "source_line", starts, sources)
        bad = _renumber(chunk.quarantine, "line", starts, sources)
        for position, (k, first, u) in enumerate(bases):
            top = max((number for number, _, _ in u.items), default=0)
            pieces[k] = _cut(posts, bad, position, u, first, first + top, skips)
    return [pieces[k] for k in range(len(group))]


def _renumber(table: pa.Table, column: str, starts: np.ndarray, sources: pa.Array) -> pa.Table:
    """Each row's request (by its global number), its number in that request, its source;
    plus a ``_request`` column (dropped when cut)."""
    lines = table.column(column).to_numpy()
    owner = np.searchsorted(starts, lines, side="left") - 1  # rows are in number order
    table = table.set_column(
        table.schema.get_field_index(column), column, pa.array(lines - starts[owner])
    )
    table = table.set_column(
        table.schema.get_field_index("source_file"), "source_file", sources.take(owner)
    )
    return table.append_column("_request", pa.array(owner))


def _cut(
    posts: pa.Table,
    bad: pa.Table,
    position: int,
    u: Unparsed,
    base: int,
    top: int,
    skips: dict[int, int],
) -> Piece:
    """Request ``position``'s rows (contiguous: rows are in number order)."""

    def own(table: pa.Table) -> pa.Table:
        owners = table.column("_request").to_numpy()
        start = int(np.searchsorted(owners, position, side="left"))
        stop = int(np.searchsorted(owners, position, side="right"))
        return table.slice(start, stop - start).drop_columns(["_request"])

    mine, quarantined = own(posts), own(bad)
    skipped = sum(skips.get(number, 0) for number in range(base + 1, top + 1))
    shown = quarantined.slice(0, MAX_ERRORS).to_pylist()
    errors = [
        f"{u.source}:{row['line']}"
        + (f" item {row['item']}" if row["item"] else "")
        + f": {row['reason']}"
        + (f" (field {row['field']!r})" if row["field"] else "")
        for row in shown
    ]
    result = Chunk(
        mine,
        quarantined,
        read=mine.num_rows + quarantined.num_rows + skipped,
        skipped=skipped,
        errors=errors,
    )
    return Piece(u.source, u.format, result, {number: raw for number, raw, _ in u.items})


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


def commit(
    ingestor: Ingestor, pieces: Sequence[Piece], *, then: Then | None = None
) -> list[IngestResult | Exception]:
    """Write ``pieces`` (each with its own ``source``) in one transaction, with ``then``
    inside it (e.g. saving a stream cursor), and give each piece's counts.

    If that transaction fails, each piece is written alone; a piece that still fails has its
    refused records found (each tried alone and rolled back) and quarantined, and is written
    again. A piece whose final write fails gets the exception and nothing of it is stored.
    """
    try:
        return list(_write(ingestor, pieces, then))
    except Exception:  # one piece spoilt the group: write them one by one
        pass
    results: list[IngestResult | Exception] = []
    for index, piece in enumerate(pieces):
        last = then if index == len(pieces) - 1 else None
        try:
            results.extend(_write(ingestor, [piece], last))
            continue
        except Exception:  # look for the records the store refuses
            pass
        try:
            with ingestor.store.transaction():
                pass  # a store that cannot even do this is broken: no record is to blame
            results.extend(_write(ingestor, [_isolate(ingestor, piece)], last))
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
    ingestor: Ingestor, posts: pa.Table, bad: pa.Table, *, fresh: bool = False
) -> pa.Table:
    """Inside a transaction: insert posts, the quarantine and the enrichers' output; returns
    the new posts' enrich columns and ``source_file``. ``fresh`` inserts with a plain
    INSERT, which raises ``DuplicatePostsError`` if any post is stored already."""
    store = ingestor.store
    if fresh:
        store.insert_fresh_posts(posts)
        new = posts.select((*ENRICH_COLUMNS, "source_file"))
    else:
        new = store.insert_posts_returning(posts, (*ENRICH_COLUMNS, "source_file"))
    enrich = new.select(ENRICH_COLUMNS)
    ingestor._rest(enrich, bad, [labeller.label(enrich) for labeller in ingestor.labellers])
    return new


def _write(ingestor: Ingestor, pieces: Sequence[Piece], then: Then | None) -> list[IngestResult]:
    """One transaction. Live posts are nearly always new, so a plain INSERT is tried first
    (it skips the per-row conflict handling); a batch that meets a stored post is rolled
    back and written again ignoring those (as ``Ingestor._write`` does)."""
    # One contiguous batch: DuckDB scans an Arrow table chunk by chunk, and a thousand
    # one-row chunks cost it a hundred times more than one.
    posts = pa.concat_tables([p.chunk.posts for p in pieces]).combine_chunks()
    bad = pa.concat_tables([p.chunk.quarantine for p in pieces]).combine_chunks()
    new: pa.Table | None = None
    try:
        with ingestor.store.transaction():
            new = _write_rows(ingestor, posts, bad, fresh=True)
            if then is not None:
                then()
    except DuplicatePostsError:
        new = None
    if new is None:
        with ingestor.store.transaction():
            new = _write_rows(ingestor, posts, bad)
            if then is not None:
                then()
    stored: dict[str, int] = {}
    for source in new.column("source_file").to_pylist():
        stored[source] = stored.get(source, 0) + 1
    results = []
    for piece in pieces:
        chunk = piece.chunk
        result = IngestResult(files={piece.source: piece.format})
        result.read = chunk.read
        result.skipped = chunk.skipped
        result.quarantined = chunk.quarantine.num_rows
        result.stored = stored.get(piece.source, 0)
        result.duplicates = chunk.posts.num_rows - result.stored
        result.note(chunk.errors)
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
    """

    def __init__(self, ingestor: Ingestor, *, max_rows: int = 50_000, idle: float = 0.05) -> None:
        self.ingestor, self.max_rows, self.idle = ingestor, max_rows, idle
        self._queue: queue.SimpleQueue[tuple[Unparsed, Future[IngestResult | Exception]] | None]
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
                    store.available()
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
                pieces = parse_group(self.ingestor.live_parser, [piece for piece, _ in group])
                results = commit(self.ingestor, pieces)
            except Exception as exc:  # a bug, not input: every waiting request hears it
                results = [exc] * len(group)
            self.groups += 1
            for (_, done), result in zip(group, results, strict=True):
                done.set_result(result)


def _rows(piece: Unparsed) -> int:
    return len(piece.items)
