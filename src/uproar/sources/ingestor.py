"""Archive ingest: every format through one mechanism into the store.

Lines are read in bounded batches, parsed by the file's format module into post rows,
matched to brands, and written in one transaction per batch together with the batch's
quarantined records and whatever the enrichers (e.g. the classifier) add for the new posts.
(platform, id) is the identity, so re-running after a crash stores each post exactly once.

Big files are parsed by worker processes while this one writes. A format may offer a typed
decoder (``x_v2.typed_rows``) for the lines it can take whole; the rest go through its
generic ``records``, so what is stored and what is quarantined does not depend on which.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from uproar import plausible
from uproar.config import Brand
from uproar.errors import FormatError, InputError, StoreError
from uproar.sources import bluesky, csv_format, mastodon, rss, x_v1, x_v2
from uproar.sources.fields import INT64, ROW_KEYS, RecordError, Row, Skip, to_json
from uproar.sources.mentions import BrandMatcher
from uproar.sources.reader import (
    CHUNK_BYTES,
    LINE_LIMIT,
    LINE_SAMPLE,
    LineSpan,
    is_gzip,
    line_spans,
    open_binary,
    read_limited,
    read_lines,
)
from uproar.sources.regions import RegionResolver
from uproar.store import Store
from uproar.store.store import DuplicatePostsError

JSON_FORMATS: dict[str, ModuleType] = {
    "x-v2": x_v2,
    "x-v1": x_v1,
    "mastodon": mastodon,
    "bluesky": bluesky,
    "rss": rss,  # feed entries as ``uproar watch`` polls them (watch/feeds.py)
}
FORMATS: tuple[str, ...] = ("auto", "x-v2", "twarc", "x-v1", "mastodon", "bluesky", "csv")
WHOLE_FILE_LIMIT = 256 << 20  # a JSON array or pretty-printed document is read whole
# A post's text may be this long (characters); a longer one is quarantined. Far above
# every platform's own limit: X's long posts reach 25,000, Bluesky's 300 graphemes.
TEXT_LIMIT = 100_000

# Columns the enrichers receive for the posts a batch newly stored.
ENRICH_COLUMNS = (
    "platform", "id", "created_at", "text", "author_id", "author_followers", "lang",
    "like_count", "repost_count", "reply_count", "brands", "own_brand", "urls",
)  # fmt: skip

POST_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("text", pa.string()),
        ("author_id", pa.string()),
        ("author_handle", pa.string()),
        ("author_name", pa.string()),
        ("author_followers", pa.int64()),
        ("author_location", pa.string()),
        ("lang", pa.string()),
        ("reply_to_id", pa.string()),
        ("conversation_id", pa.string()),
        ("quoted_id", pa.string()),
        ("reposted_id", pa.string()),
        ("urls", pa.list_(pa.string())),
        ("place", pa.string()),
        ("region", pa.string()),
        ("like_count", pa.int64()),
        ("repost_count", pa.int64()),
        ("reply_count", pa.int64()),
        ("brands", pa.list_(pa.string())),
        ("own_brand", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("ingested_at", pa.timestamp("us")),
        ("raw", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("line", pa.int64()),
        ("item", pa.int32()),
        ("kind", pa.string()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("content", pa.binary()),
        ("quarantined_at", pa.timestamp("us")),
    ]
)

Enricher = Callable[[Store, pa.Table], None]


@runtime_checkable
class BrandAware(Protocol):
    """An enricher whose work depends on the brands ingest matches (the understand stage
    keeps each post's topics to its brands' industry packs): ingest hands it the brands."""

    def for_brands(self, brands: Mapping[str, Brand]) -> Enricher: ...


def bind_brands(enrichers: Sequence[Enricher], brands: Mapping[str, Brand]) -> list[Enricher]:
    """``enrichers`` with the brands given to those that take them."""
    return [e.for_brands(brands) if isinstance(e, BrandAware) else e for e in enrichers]


@runtime_checkable
class Labeller(Protocol):
    """An enricher whose work is done where the posts are parsed (a worker process, for big
    files), so that the writer only stores what it made.

    ``label`` gets a chunk's posts (``ENRICH_COLUMNS``) and returns one row per post, in
    order, keyed by ``platform`` and ``id``; it must pickle, to travel to the workers.
    ``save`` stores the rows of the posts that were new, inside the batch's transaction;
    ``fresh``: none of those posts was stored before, so none has labels yet.
    Called as a plain ``Enricher`` (a live stream's batch), it does both.
    """

    def __call__(self, store: Store, posts: pa.Table) -> None: ...

    def label(self, posts: pa.Table) -> pa.Table: ...

    def save(self, store: Store, rows: pa.Table, *, fresh: bool = False) -> None: ...


# (line, item within the line, the raw line or decoded value, what it parsed into)
Record = tuple[int, int, Any, Row | RecordError | Skip]
Progress = Callable[[int], None]

MAX_ERRORS = 20  # quarantine messages kept for display per run (all are in the table)
# Posts per write: one DuckDB row group (its default size), see ``Ingestor._batch``.
BATCH_ROWS = 122_880
ENRICH_ROWS = 20_000  # posts an enricher (e.g. the classifier) gets at once
# DuckDB's memory while parse workers run: 1M posts wrote as fast as under 512 MB, with
# 70 MB less in all (bench/ingest.py).
WRITER_MEMORY = "256MB"
# Files at least this big are parsed by worker processes while the main one writes.
PARALLEL_MIN_BYTES = 32 << 20
# Lines per parse job when posts are labelled as they are parsed: the fast labeller costs
# about 7 ms of CPU a call whatever the batch (compiling its patterns, hashing the batch),
# so it is called on about 6,000 posts at once rather than on each 2 MB piece (4 MB jobs:
# 1.2 us more a post in the workers, bench/ingest.py; 8 MB: each worker 50 MB bigger).
LABEL_BYTES = 6 << 20


@dataclass(slots=True)
class IngestResult:
    """Counts for one ingest run; ``read`` = stored + duplicates + quarantined + skipped."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    files: dict[str, str] = field(default_factory=dict)  # path -> detected format
    errors: list[str] = field(default_factory=list)  # first quarantine messages, for display

    def note(self, messages: Iterable[str]) -> None:
        """Keep quarantine messages for display, up to ``MAX_ERRORS``."""
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(itertools.islice(messages, room))

    def absorb(self, other: IngestResult) -> None:
        """Add another run's counts (a live stream's batches) to these."""
        self.read += other.read
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.skipped += other.skipped
        self.files.update(other.files)
        self.note(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "files": self.files,
        }


@dataclass(slots=True)
class Chunk:
    """What one stretch of a file parsed into: posts and quarantined records as Arrow."""

    posts: pa.Table
    quarantine: pa.Table
    read: int
    skipped: int
    errors: list[str]
    bytes_read: int = 0
    labels: list[pa.Table] = field(default_factory=list)  # per labeller, row for row of posts

    # Sent between processes as Arrow IPC streams: half the work of pickling the tables.
    def __getstate__(self) -> tuple[Any, ...]:
        return (
            _ipc(self.posts), _ipc(self.quarantine), self.read, self.skipped, self.errors,
            self.bytes_read, [_ipc(t) for t in self.labels],
        )  # fmt: skip

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        posts, bad, self.read, self.skipped, self.errors, self.bytes_read, labels = state
        self.posts = pa.ipc.open_stream(posts).read_all()
        self.quarantine = pa.ipc.open_stream(bad).read_all()
        self.labels = [pa.ipc.open_stream(t).read_all() for t in labels]


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


class ChunkParser:
    """Turns records of one format into column batches. Picklable, so workers can run it."""

    def __init__(
        self, brands: Mapping[str, Brand], now: datetime, labellers: Sequence[Labeller] = ()
    ) -> None:
        self.brands = dict(brands)
        self.now = now
        self.labellers = tuple(labellers)
        self._matcher: BrandMatcher | None = None
        self._resolver: RegionResolver | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"brands": self.brands, "now": self.now, "labellers": self.labellers}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.brands, self.now = state["brands"], state["now"]
        self.labellers = state["labellers"]
        self._matcher = self._resolver = None

    @property
    def matcher(self) -> BrandMatcher:
        if self._matcher is None:
            self._matcher = BrandMatcher(self.brands)
        return self._matcher

    @property
    def resolver(self) -> RegionResolver:
        """Regions from places and profile locations; the brands' own countries settle
        names found in several countries."""
        if self._resolver is None:
            serves = [region for brand in self.brands.values() for region in brand.regions]
            self._resolver = RegionResolver(prefer=serves)
        return self._resolver

    def warm(self, path: Path, name: str) -> None:
        """Build everything parsing ``path`` needs (brand matcher, region resolver, the
        labellers' models) by parsing its first line, and drop the result: workers forked
        after this start ready."""
        with path.open("rb") as stream:
            line = stream.readline(CHUNK_BYTES).rstrip(b"\r\n")
        self.parse_lines(str(path), name, 1, [line])

    def parse(self, source: str, records: Iterable[Record]) -> Chunk:
        """Rows and quarantine for ``records``; a record's content (its raw line, or the
        decoded object) is only serialised when it has to be quarantined."""
        return self._labelled(self._collect(source, records))

    def _collect(self, source: str, records: Iterable[Record]) -> Chunk:
        collect = _Collector(source, self.now)
        collect.records(records)
        return collect.chunk(self.matcher, self.resolver)

    def parse_span(
        self, source: str, name: str, span: LineSpan, *, at: Path | None = None
    ) -> Chunk:
        """Parse the JSON Lines of ``span`` in the file ``source`` (read here, in a worker;
        from ``at`` if given, e.g. the absolute path a Spark executor sees)."""
        lines = span.read(at or Path(source))
        overlong = {0: span.length} if span.overlong else None
        return self.parse_lines(source, name, span.first, lines, overlong=overlong)

    def parse_lines(
        self,
        source: str,
        name: str,
        first: int,
        lines: list[bytes],
        *,
        fast: bool = True,
        overlong: Mapping[int, int] | None = None,
    ) -> Chunk:
        """Parse JSON Lines (``first`` is the 1-based number of ``lines[0]``).

        A format with a typed decoder (``typed_rows``) takes each line it can; the lines it
        declines go through the format's generic ``records``, which quarantines what is bad.
        ``fast=False`` sends every line the generic way (the two agree; tests check that).
        Lines are parsed ``CHUNK_BYTES`` at a time, which bounds the parser's memory, and
        labelled together: a labeller pays a cost per call (the fast model hashes its
        vocabulary), so ``LABEL_BYTES`` of lines are labelled at once.
        ``overlong`` maps the index of a line over ``LINE_LIMIT`` to its full length (the
        line holds only its first ``LINE_SAMPLE`` bytes): each is quarantined.
        """
        too_long = overlong or {}

        def piece(start: int, stop: int) -> Chunk:
            mine = {i - start: n for i, n in too_long.items() if start <= i < stop}
            return self._parse_piece(source, name, first + start, lines[start:stop], fast, mine)

        pieces: list[Chunk] = []
        start = size = 0
        for at, line in enumerate(lines):
            size += len(line) + 1
            if size >= CHUNK_BYTES:
                pieces.append(piece(start, at + 1))
                start, size = at + 1, 0
        if start < len(lines) or not pieces:
            pieces.append(piece(start, len(lines)))
        return self._labelled(pieces[0] if len(pieces) == 1 else _merged(pieces))

    def _parse_piece(
        self,
        source: str,
        name: str,
        first: int,
        lines: list[bytes],
        fast: bool,
        too_long: Mapping[int, int],
    ) -> Chunk:
        module = JSON_FORMATS[name]
        typed: Callable[[bytes], TypedPage | None] | None = getattr(module, "typed_rows", None)
        if typed is None or not fast:
            return self._collect(source, _json_line_records(module, first, lines, too_long))
        utf8 = _utf8(lines)
        pages = [
            typed(raw) if raw and ok and i not in too_long else None
            for i, (raw, ok) in enumerate(zip(lines, utf8, strict=True))
        ]
        # created_at: one Arrow cast for the whole chunk, page by page only if that fails.
        times = [text for page in pages if page is not None for text in page[1]]
        try:
            stamps: pa.Array | None = _times(times)
        except pa.ArrowInvalid:
            stamps = None
        implausible = self._implausible(stamps) if stamps is not None else ()
        collect = _Collector(source, self.now)
        at = 0
        for offset, (raw, page) in enumerate(zip(lines, pages, strict=True)):
            if page is not None:
                rows = page[0]
                # A page with a post the gate or the text cap stops goes the generic way,
                # which quarantines that post (with its reason) and keeps the rest.
                fits = all(len(row[2]) <= TEXT_LIMIT for row in rows)
                if stamps is not None:
                    end = at + len(rows)
                    good = fits and not any(at <= i < end for i in implausible)
                    if good:
                        collect.typed(first + offset, rows, stamps.slice(at, len(rows)))
                    at = end
                    if good:
                        continue
                else:
                    try:
                        own = _times(page[1])
                        if fits and not self._implausible(own):
                            collect.typed(first + offset, rows, own)
                            continue
                    except pa.ArrowInvalid:
                        pass  # not a time Arrow reads: the generic path says what is wrong
            collect.records(_json_line_records(module, first + offset, [raw], too_long, offset))
        return collect.chunk(self.matcher, self.resolver)

    def _labelled(self, chunk: Chunk) -> Chunk:
        """The chunk with its labellers' rows, made here (in a worker, for big files)."""
        if self.labellers and chunk.posts.num_rows:
            posts = chunk.posts.select(ENRICH_COLUMNS)
            chunk.labels = [labeller.label(posts) for labeller in self.labellers]
        return chunk

    def _implausible(self, stamps: pa.Array) -> list[int]:
        """Positions of typed (X) rows whose time the plausible-time gate stops."""
        low = pa.scalar(plausible.earliest("x"), _NAIVE)
        high = pa.scalar(self.now + plausible.FUTURE_SKEW, _NAIVE)
        bad = pc.or_(pc.less(stamps, low), pc.greater(stamps, high))
        return list(pc.indices_nonzero(bad).to_pylist()) if pc.any(bad).as_py() else []


def _merged(chunks: list[Chunk]) -> Chunk:
    """One chunk of consecutive chunks' posts, quarantine and counts."""
    return Chunk(
        posts=pa.concat_tables([c.posts for c in chunks]),
        quarantine=pa.concat_tables([c.quarantine for c in chunks]),
        read=sum(c.read for c in chunks),
        skipped=sum(c.skipped for c in chunks),
        errors=[e for c in chunks for e in c.errors][:MAX_ERRORS],
    )


def _utf8(lines: list[bytes]) -> list[bool]:
    """Which lines are valid UTF-8: one Arrow check for the chunk, line by line if it fails."""
    try:
        pa.array(lines, pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return [_decodes(line) for line in lines]
    return [True] * len(lines)


def _decodes(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


def _times(texts: list[str]) -> pa.Array:
    """ISO 8601 texts as naive UTC; Arrow reads a subset of what ``iso_time`` reads, alike."""
    return pa.array(texts, pa.string()).cast(_UTC).cast(_NAIVE)


_NO_ROWS = pa.table({"platform": pa.array([], pa.string()), "id": pa.array([], pa.string())})
_UTC = pa.timestamp("us", "UTC")
_NAIVE = pa.timestamp("us")
# A typed decoder's page: rows in ``ROW_KEYS`` order and their ``created_at`` texts.
TypedPage = tuple[list[tuple[Any, ...]], list[str]]


class _Collector:
    """Gathers one chunk's rows (typed tuples or generic dicts, in line order) and its
    quarantined records, then builds the Arrow tables column by column."""

    def __init__(self, source: str, now: datetime) -> None:
        self.source, self.now = source, now
        self.rows: list[tuple[Any, ...]] = []
        self.lines: list[int] = []
        self.stamps: list[pa.Array] = []  # created_at, in row order, as Arrow pieces
        self.times: list[datetime] = []  # generic rows' created_at not yet in ``stamps``
        self.bad: dict[str, list[Any]] = {name: [] for name in QUARANTINE_SCHEMA.names}
        self.read = self.skipped = 0
        self.errors: list[str] = []

    def typed(self, line: int, rows: list[tuple[Any, ...]], stamps: pa.Array) -> None:
        self._flush_times()
        self.stamps.append(stamps)
        self.rows += rows
        self.lines += [line] * len(rows)
        self.read += len(rows)

    def records(self, records: Iterable[Record]) -> None:
        keep, at, when = self.rows.append, self.lines.append, self.times.append
        for line, item, content, record in records:
            self.read += 1
            if type(record) is dict:
                problem = row_problem(record, self.now)
                if problem is not None:
                    self._quarantine(line, item, content, problem)
                    continue
                keep(tuple([record[key] for key in ROW_KEYS]))
                when(record["created_at"])
                at(line)
            elif isinstance(record, Skip):
                self.skipped += 1
            elif isinstance(record, RecordError):
                self._quarantine(line, item, content, record)

    def _quarantine(self, line: int, item: int, content: Any, record: RecordError) -> None:
        bad = self.bad
        for key, value in (
            ("source_file", self.source), ("line", line), ("item", item),
            ("kind", record.kind), ("field", record.field), ("reason", record.reason),
            ("content", _content(content)), ("quarantined_at", self.now),
        ):  # fmt: skip
            bad[key].append(value)
        if len(self.errors) < MAX_ERRORS:
            where = f"{self.source}:{line}" + (f" item {item}" if item else "")
            blame = f" (field {record.field!r})" if record.field else ""
            self.errors.append(f"{where}: {record.reason}{blame}")

    def _flush_times(self) -> None:
        if self.times:
            self.stamps.append(pa.array(self.times, _NAIVE))
            self.times = []

    def chunk(self, matcher: BrandMatcher, resolver: RegionResolver) -> Chunk:
        self._flush_times()
        count = len(self.rows)
        columns: dict[str, Any] = (
            dict(zip(ROW_KEYS, map(list, zip(*self.rows, strict=True)), strict=True))
            if count
            else {key: [] for key in ROW_KEYS}
        )
        # Typed rows carry raw as bytes of a line that was checked to be UTF-8 (generic rows
        # carry str): store them as binary and view that as text, skipping a second check.
        columns["raw"] = pa.array(columns["raw"], pa.binary()).view(pa.string())
        columns["created_at"] = (
            pa.concat_arrays(self.stamps) if self.stamps else pa.array([], _NAIVE)
        )
        match, own = matcher.match, matcher.own_brand
        columns["brands"] = [match(text) for text in columns["text"]]
        columns["own_brand"] = [own(handle) for handle in columns["author_handle"]]
        region = resolver.region
        columns["region"] = [
            region(place=place, country=country, location=location)
            for place, country, location in zip(
                columns["place"], columns["region"], columns["author_location"], strict=True
            )
        ]
        columns["source_line"] = self.lines
        columns["source_file"] = pa.repeat(pa.scalar(self.source, pa.string()), count)
        columns["ingested_at"] = pa.repeat(pa.scalar(self.now, _NAIVE), count)
        return Chunk(
            posts=pa.table(columns, schema=POST_SCHEMA),
            quarantine=pa.table(self.bad, schema=QUARANTINE_SCHEMA),
            read=self.read,
            skipped=self.skipped,
            errors=self.errors,
        )


def _content(content: Any) -> bytes:
    """What a quarantined record keeps: the bytes read, or a decoded value as JSON."""
    if isinstance(content, bytes):
        return content
    try:
        return to_json(content).encode("utf-8", "surrogatepass")
    except RecordError as exc:
        return f"<not kept: {exc.reason}>".encode()


# The post columns a row must fill, by type; ``row_problem`` checks each.
_REQUIRED_TEXT = ("platform", "id", "author_id")
_OPTIONAL_TEXT = (
    "author_handle", "author_name", "author_location", "lang", "reply_to_id",
    "conversation_id", "quoted_id", "reposted_id", "place", "region",
)  # fmt: skip
_COUNTS = ("author_followers", "like_count", "repost_count", "reply_count")


def _storable(text: str) -> bool:
    """Whether a string can be stored: UTF-8 allows no lone surrogates."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def row_problem(row: Row, now: datetime) -> RecordError | None:
    """Why a parsed row cannot be stored, or None: the one gate every post passes on its
    way in, whatever the format or source (archive, CSV, live stream, HTTP).

    It checks each column's type against the store's, the text cap (``TEXT_LIMIT``) and
    the plausible-time gate (``uproar.plausible``): a time before the platform existed or
    more than a few minutes after ``now`` (the ingest time) is quarantined with its reason.
    """
    for key in _REQUIRED_TEXT:
        value = row[key]
        if not isinstance(value, str) or not value:
            got = "an empty string" if value == "" else type(value).__name__
            return RecordError(key, f"expected a non-empty string, got {got}", kind="wrong type")
    text = row["text"]
    if not isinstance(text, str):
        return RecordError("text", f"expected a string, got {type(text).__name__}")
    if len(text) > TEXT_LIMIT:
        return RecordError(
            "text", f"{len(text):,} characters, over the {TEXT_LIMIT:,}-character limit"
        )
    for key in _OPTIONAL_TEXT:
        value = row[key]
        if value is not None and not isinstance(value, str):
            return RecordError(key, f"expected a string, got {type(value).__name__}")
    for key in (*_REQUIRED_TEXT, "text", *_OPTIONAL_TEXT):
        value = row[key]
        if value is not None and not _storable(value):
            return RecordError(key, "a lone surrogate is not UTF-8", kind="invalid UTF-8")
    for key in _COUNTS:
        value = row[key]
        if value is not None and (type(value) is not int or not INT64[0] <= value <= INT64[1]):
            return RecordError(key, f"expected a 64-bit whole number, got {value!r:.40}")
    urls = row["urls"]
    if not isinstance(urls, list) or not all(isinstance(u, str) and _storable(u) for u in urls):
        return RecordError("urls", "expected a list of strings", kind="wrong type")
    if not isinstance(row["raw"], str | bytes):
        return RecordError("raw", f"expected JSON text, got {type(row['raw']).__name__}")
    created = row["created_at"]
    if type(created) is not datetime or created.tzinfo is not None:
        return RecordError("created_at", "expected a naive UTC time", kind="wrong type")
    why = plausible.reason(row["platform"], created, now)
    return None if why is None else RecordError("created_at", why, kind="bad value")


def _object_records(module: ModuleType, objects: Iterable[Any], first: int = 1) -> Iterator[Record]:
    """Records of decoded JSON values; each value's position stands in for its line."""
    for index, obj in enumerate(objects, first):
        for item, record in enumerate(module.records(obj)):
            yield index, item, obj, record


def _json_line_records(
    module: ModuleType,
    first: int,
    lines: list[bytes],
    overlong: Mapping[int, int] | None = None,
    index: int = 0,
) -> Iterator[Record]:
    """Records of JSON Lines; ``lines[0]`` is line ``first`` and the ``index``-th line of
    its batch (which ``overlong`` keys)."""
    for offset, raw in enumerate(lines):
        length = overlong.get(index + offset) if overlong else None
        line = first + offset
        if length is not None:
            reason = (
                f"a line of {length:,} bytes is over the {LINE_LIMIT >> 20} MiB line limit "
                f"(its first {LINE_SAMPLE >> 10} KiB are kept)"
            )
            yield line, 0, raw, RecordError(None, reason, kind="bad value")
            continue
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            kind = "invalid UTF-8" if "utf-8" in str(exc).lower() else "invalid JSON"
            yield line, 0, raw, RecordError(None, f"{kind}: {exc}", kind=kind)
            continue
        for item, record in enumerate(module.records(obj)):
            yield line, item, raw, record


class Ingestor:
    """Ingest archives into one store. Build once, call ``ingest`` for each set of paths."""

    def __init__(
        self,
        store: Store,
        brands: Mapping[str, Brand],
        *,
        batch_size: int = BATCH_ROWS,
        enrichers: Sequence[Enricher] = (),
        csv_mapping: Mapping[str, str] | None = None,
        workers: int | None = None,
        now: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``now`` fixes the ingest time (``ingested_at``, and what the plausible-time gate
        measures the future from); else ``clock`` is read at each ``ingest`` or
        ``ingest_objects`` call (default: the system clock), so a long-running listener's
        gate moves with time."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.store = store
        self.batch_size = batch_size
        # Labellers label in the parse workers; other enrichers run here, on the new posts.
        enrichers = bind_brands(enrichers, brands)
        self.labellers = tuple(e for e in enrichers if isinstance(e, Labeller))
        self.enrichers = tuple(e for e in enrichers if not isinstance(e, Labeller))
        self.csv_mapping = dict(csv_mapping or {})
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.clock: Callable[[], datetime] = (
            (lambda: now) if now is not None else clock or (lambda: datetime.now(UTC))
        )
        self.parser = ChunkParser(brands, self._now(), self.labellers)
        # Live messages are parsed in small pieces that may be split, refused or retried
        # (sources/commit.py): they are labelled when written, and only the new ones.
        self.live_parser = ChunkParser(brands, self._now())
        self._fresh = True  # whether the last batch was all new posts (see ``_store_batch``)
        self._parsing_elsewhere = False  # parse workers are running (see ``_store_batch``)
        self._positions: dict[str, int] = {}  # the last position used per object source

    def _now(self) -> datetime:
        moment = self.clock()
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        format: str = "auto",
        progress: Progress | None = None,
    ) -> IngestResult:
        self.start(format)
        result = IngestResult()
        for path in map(Path, paths):
            name, whole = self.resolve(path, format, result)
            self.store_chunks(path, self._chunks(path, name, whole), result, progress)
        return result

    def start(self, format: str) -> None:
        """Check ``format`` and read the clock: the first step of each ingest run."""
        if format not in FORMATS:
            raise FormatError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
        self.parser.now = self._now()

    def resolve(
        self, path: Path, format: str, result: IngestResult
    ) -> tuple[str, list[Any] | None]:
        """The format of ``path`` (noted in ``result``), and its records if it is one JSON
        document (read and parsed once, here)."""
        if not path.is_file():
            raise InputError("no such file", file=str(path))
        whole = None if _is_csv(path) or format == "csv" else whole_document(path)
        name = _detect(path, whole) if format in ("auto", "twarc") else format
        if format == "twarc" and name not in ("x-v2", "x-v1"):
            raise FormatError(f"not a twarc file (looks like {name})", file=str(path))
        result.files[str(path)] = name
        return name, whole

    def store_chunks(
        self,
        path: Path,
        chunks: Iterator[Chunk],
        result: IngestResult,
        progress: Progress | None = None,
    ) -> None:
        """Write one file's parsed chunks, in order, in batches of ``batch_size`` (whoever
        parsed them: this process, its workers, or a Spark cluster).

        A full batch is written on a writer thread while the next one is gathered here:
        DuckDB lets go of the GIL as it writes, so the parsers are never left waiting on the
        write (a batch's write took 1.8 s at a time, during which they stopped). One batch
        is written at a time, in order; a write's error stops the run here.
        """
        pending: list[Chunk] = []
        reported = 0
        writing: Future[None] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="uproar-writer") as writer:
            try:
                for chunk in chunks:
                    pending.append(chunk)
                    if progress and chunk.bytes_read:
                        progress(chunk.bytes_read)
                        reported += chunk.bytes_read
                    size = sum(c.posts.num_rows + c.quarantine.num_rows for c in pending)
                    if size >= self.batch_size:
                        batch, pending = self._batch(pending, aligned=True)
                        if writing is not None:
                            writing.result()
                        writing = writer.submit(self._store_batch, batch, result)
            except InputError:
                # The file cannot be read on (a corrupt or truncated gzip, a bomb): keep
                # what was read before the fault, then say so, naming the file and line.
                if writing is not None:
                    writing.result()
                self._write(pending, result)
                raise
            if writing is not None:
                writing.result()
        # A big last batch is written straight into the file (see ``Store.writing_through``).
        rows = sum(c.posts.num_rows for c in pending)
        last = self.store.writing_through() if rows >= self.batch_size // 8 else nullcontext()
        with last:
            self._write(pending, result)
        if progress:
            progress(max(0, path.stat().st_size - reported))

    def chunks(self, path: str | Path, *, format: str = "auto") -> Iterator[Chunk]:
        """Parse one file into chunks without storing them (``uproar bus publish`` routes
        them to the stream instead); the same parsing, brand matching and quarantine."""
        if format not in FORMATS:
            raise FormatError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
        path = Path(path)
        if not path.is_file():
            raise InputError("no such file", file=str(path))
        self.parser.now = self._now()
        whole = None if _is_csv(path) or format == "csv" else whole_document(path)
        name = _detect(path, whole) if format in ("auto", "twarc") else format
        yield from self._chunks(path, name, whole)

    def ingest_objects(
        self, objects: Iterable[Any], *, format: str, source: str, first: int | None = None
    ) -> IngestResult:
        """Ingest already-decoded JSON records (a live stream's messages, an HTTP body).

        ``source`` names where they came from in ``posts.source_file`` and the quarantine;
        each object's position stands in for the line number. Positions run on from call
        to call for the same ``source``, and from run to run (after the highest stored), so
        ``(source_file, line, item)``, the quarantine's key, never repeats: a second
        batch's bad records are kept, not dropped as seen. ``first`` sets the first
        position instead.
        """
        if format not in JSON_FORMATS:
            raise FormatError(f"live records must be one of {', '.join(JSON_FORMATS)}")
        module = JSON_FORMATS[format]
        items = objects if isinstance(objects, list) else list(objects)
        if first is None:
            last = self._positions.get(source)
            first = (self.store.last_line(source) if last is None else last) + 1
        self._positions[source] = max(self._positions.get(source, 0), first + len(items) - 1)
        self.parser.now = self._now()
        result = IngestResult(files={source: format})
        records = _object_records(module, items, first)
        for chunk in self._sized(self.parser, source, records):
            self._write([chunk], result)
        return result

    # -- reading -------------------------------------------------------------------------
    @property
    def job_bytes(self) -> int:
        """Bytes of lines per parse job (see ``ChunkParser.parse_lines``)."""
        return LABEL_BYTES if self.labellers else CHUNK_BYTES

    def _chunks(self, path: Path, name: str, whole: list[Any] | None) -> Iterator[Chunk]:
        parallel = name != "csv" and whole is None and self.workers > 1
        if parallel and path.stat().st_size >= PARALLEL_MIN_BYTES:
            yield from self._parallel(path, name)
            return
        yield from file_chunks(
            self.parser, path, name, whole, batch_size=self.batch_size,
            job_bytes=self.job_bytes, csv_mapping=self.csv_mapping,
        )  # fmt: skip

    def _sized(
        self, parser: ChunkParser, source: str, records: Iterator[Record]
    ) -> Iterator[Chunk]:
        return sized_chunks(parser, source, records, self.batch_size)

    def _parallel(self, path: Path, name: str) -> Iterator[Chunk]:
        """Parse in worker processes, in order, with a bounded number of chunks in flight.

        Workers read the lines of an uncompressed file themselves (``LineSpan``); those of
        a gzip file are read here and sent to them.
        """
        source = str(path)
        jobs: Iterator[tuple[Callable[..., Chunk], tuple[Any, ...], int]]
        if is_gzip(path):
            jobs = (
                (
                    partial(_parse_lines_job, overlong=batch.overlong),
                    (source, name, batch.first, batch.lines),
                    batch.bytes_read,
                )
                for batch in read_lines(path, chunk_bytes=self.job_bytes)
            )
        else:
            jobs = (
                (_parse_span_job, (source, name, span), span.length + 1)
                for span in line_spans(path, chunk_bytes=self.job_bytes)
            )
        context = _worker_context()
        if context.get_start_method() == "fork":
            # Forked workers inherit this process's modules, models and lookup tables, so
            # they start at once instead of each importing and loading them (about 0.9 s
            # of CPU a worker, a fifth of a 200,000-post ingest). They never touch DuckDB
            # and leave by os._exit, so DuckDB's threads not being copied does no harm.
            self.parser.warm(path, name)
        with ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), self.parser),
        ) as pool:
            self._parsing_elsewhere = True
            try:
                in_flight: deque[tuple[Future[Chunk], int]] = deque()
                for parse, args, size in jobs:
                    in_flight.append((pool.submit(parse, *args), size))
                    if len(in_flight) > 3 * self.workers:
                        yield _done(*in_flight.popleft())
                while in_flight:
                    yield _done(*in_flight.popleft())
            finally:
                self._parsing_elsewhere = False

    # -- writing -------------------------------------------------------------------------
    def _write(self, chunks: list[Chunk], result: IngestResult) -> None:
        """The chunks' posts, quarantine and labels in one transaction (``_store_batch``)."""
        if chunks:
            self._store_batch(self._batch(chunks, aligned=False)[0], result)

    def _batch(self, chunks: list[Chunk], *, aligned: bool) -> tuple[Chunk, list[Chunk]]:
        """Chunks as one chunk to write and the rest to carry into the next batch.

        ``aligned`` takes a whole multiple of ``batch_size`` posts: with the default size,
        a DuckDB row group, a batch is written straight into the database file as finished
        row groups, where a partly filled group would be logged and later merged (half the
        writer's work; bench/ingest.py)."""
        posts = pa.concat_tables([c.posts for c in chunks])
        bad = pa.concat_tables([c.quarantine for c in chunks])
        labels = [
            pa.concat_tables([c.labels[i] for c in chunks if c.labels] or [_NO_ROWS])
            for i in range(len(self.labellers))
        ]
        rest: list[Chunk] = []
        cut = posts.num_rows - posts.num_rows % self.batch_size if aligned else 0
        if 0 < cut < posts.num_rows:
            rest = [
                Chunk(posts.slice(cut), bad.slice(0, 0), read=0, skipped=0, errors=[],
                      labels=[t.slice(cut) for t in labels])
            ]  # fmt: skip
            posts = posts.slice(0, cut)
            labels = [t.slice(0, cut) for t in labels]
        errors = [e for c in chunks for e in c.errors]
        read, skipped = sum(c.read for c in chunks), sum(c.skipped for c in chunks)
        return Chunk(posts, bad, read=read, skipped=skipped, errors=errors, labels=labels), rest

    def _store_batch(self, batch: Chunk, result: IngestResult) -> None:
        """One batch in one transaction, counted in ``result``.

        While batches keep coming out all new, they go in with a plain INSERT (cheaper);
        a batch that meets a stored post is rolled back and written again ignoring those,
        and the plain way is tried again once a batch has had no duplicates.
        """
        posts, bad, labels = batch.posts, batch.quarantine, batch.labels
        new: pa.Table | None = None
        # While parse workers keep the cores busy, DuckDB's own threads only add switching,
        # and the memory is better left to the batches in flight (a write needs little).
        sharing = (
            self.store.sharing(threads=1, memory=WRITER_MEMORY)
            if self._parsing_elsewhere
            else nullcontext()
        )
        try:
            with sharing:
                if self._fresh:
                    try:
                        with self.store.transaction():
                            self.store.insert_fresh_posts(posts)
                            new = posts.select(ENRICH_COLUMNS)
                            self._rest(new, bad, labels, fresh=True)
                    except DuplicatePostsError:
                        new = None
                if new is None:
                    with self.store.transaction():
                        new = self.store.insert_posts_returning(posts, ENRICH_COLUMNS)
                        if new.num_rows < posts.num_rows:
                            labels = [rows_of(t, new) for t in labels]
                        self._rest(new, bad, labels)
        except (
            duckdb.IOException,
            duckdb.OutOfMemoryException,
            duckdb.TransactionException,
            StoreError,  # the store's own mapping of those (a full disk on commit)
        ) as exc:
            # A full disk, say: the batch was rolled back and every earlier one stands.
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            detail = detail.removeprefix(f"{self.store.path}: ")
            raise StoreError(
                f"{self.store.path}: cannot write this batch ({detail}); the posts stored "
                f"before it are kept, and running the same ingest again carries on",
                file=self.store.path,
            ) from None
        self._fresh = new.num_rows == posts.num_rows
        result.read += batch.read
        result.skipped += batch.skipped
        result.stored += new.num_rows
        result.duplicates += posts.num_rows - new.num_rows
        result.quarantined += bad.num_rows
        result.note(batch.errors)

    def _rest(
        self, new: pa.Table, bad: pa.Table, labels: list[pa.Table], *, fresh: bool = False
    ) -> None:
        """The rest of a batch's transaction: its quarantine, the labellers' rows of the new
        posts, and the other enrichers on new posts (in slices of at most ``ENRICH_ROWS``,
        to bound what a model holds at once)."""
        self.store.quarantine(bad)
        for labeller, rows in zip(self.labellers, labels, strict=True):
            if rows.num_rows:
                labeller.save(self.store, rows, fresh=fresh)
        for start in range(0, new.num_rows, ENRICH_ROWS):
            piece = new.slice(start, ENRICH_ROWS)
            for enrich in self.enrichers:
                enrich(self.store, piece)


def file_chunks(
    parser: ChunkParser,
    path: Path,
    name: str,
    whole: list[Any] | None,
    *,
    batch_size: int = BATCH_ROWS,
    job_bytes: int = CHUNK_BYTES,
    csv_mapping: Mapping[str, str] | None = None,
    source: str | None = None,
) -> Iterator[Chunk]:
    """A whole file's chunks, parsed here, in order: a CSV or JSON document in chunks of
    ``batch_size`` records, JSON Lines ``job_bytes`` at a time. ``whole`` is the file's
    records if it is one JSON document (``Ingestor.resolve``); ``source`` names the file
    in the rows (default: ``path`` as given)."""
    source = str(path) if source is None else source
    if name == "csv":
        rows = ((line, 0, raw, rec) for line, raw, rec in
                csv_format.rows(path, mapping=dict(csv_mapping or {})))  # fmt: skip
        yield from sized_chunks(parser, source, rows, batch_size)
        return
    if whole is not None:
        records = _object_records(JSON_FORMATS[name], whole)
        yield from sized_chunks(parser, source, records, batch_size)
        return
    for batch in read_lines(path, chunk_bytes=job_bytes):
        chunk = parser.parse_lines(source, name, batch.first, batch.lines, overlong=batch.overlong)
        chunk.bytes_read = batch.bytes_read
        yield chunk


def sized_chunks(
    parser: ChunkParser, source: str, records: Iterator[Record], batch_size: int
) -> Iterator[Chunk]:
    """Cut a record stream into chunks of at most ``batch_size`` records."""
    while True:
        chunk = parser.parse(source, itertools.islice(records, batch_size))
        if chunk.read == 0:
            return
        yield chunk


def rows_of(rows: pa.Table, posts: pa.Table) -> pa.Table:
    """The rows of ``rows`` whose (platform, id) is one of ``posts``."""

    def key(table: pa.Table) -> pa.ChunkedArray:
        return pc.binary_join_element_wise(table["platform"], table["id"], "\x00")

    return rows.filter(pc.is_in(key(rows), value_set=key(posts)))


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fork where the platform has it (Linux); spawn elsewhere."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


_WORKER_PARSER: ChunkParser | None = None  # the parser of a parse worker (``_start_worker``)


def _parse_span_job(source: str, name: str, span: LineSpan) -> Chunk:
    assert _WORKER_PARSER is not None
    return _WORKER_PARSER.parse_span(source, name, span)


def _parse_lines_job(
    source: str, name: str, first: int, lines: list[bytes], *, overlong: Mapping[int, int] | None
) -> Chunk:
    assert _WORKER_PARSER is not None
    return _WORKER_PARSER.parse_lines(source, name, first, lines, overlong=overlong)


def _start_worker(parent: int, parser: ChunkParser) -> None:
    """In a parse worker: keep the parser for every job (its matcher and resolver are built
    once per worker, not once per job)."""
    global _WORKER_PARSER
    _WORKER_PARSER = parser
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """In a worker: leave as soon as the ingesting process is gone (even if SIGKILLed).

    Parsing makes many short-lived containers and few cycles, so the worker's cycle
    collector runs less often than Python's default (every 700 allocations) would.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="uproar-parent-watch").start()


def _done(job: Future[Chunk], bytes_read: int) -> Chunk:
    chunk = job.result()
    chunk.bytes_read = bytes_read
    return chunk


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    brands: Mapping[str, Brand],
    *,
    format: str = "auto",
    batch_size: int = BATCH_ROWS,
    enrichers: Sequence[Enricher] = (),
    csv_mapping: Mapping[str, str] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Ingest archive files into ``store``; see ``Ingestor``."""
    ingestor = Ingestor(
        store,
        brands,
        batch_size=batch_size,
        enrichers=enrichers,
        csv_mapping=csv_mapping,
        workers=workers,
        now=now,
    )
    return ingestor.ingest(paths, format=format, progress=progress)


# -- format detection ----------------------------------------------------------------------
def whole_document(path: Path) -> list[Any] | None:
    """A JSON array file or a pretty-printed document, as a list of records; else None."""
    lines = _first_lines(path, 2)
    stripped = lines[0].lstrip() if lines else b""
    if not stripped or stripped[:1] not in (b"[", b"{"):
        return None  # not JSON at all: each line will be quarantined
    try:
        if not isinstance(orjson.loads(stripped), list):
            return None  # JSON Lines (a one-line array is a whole document too)
    except orjson.JSONDecodeError:
        if len(lines) > 1 and _is_json(lines[1]):
            return None  # JSON Lines whose first line is broken: it will be quarantined
    too_big = InputError(
        f"a single JSON document over {WHOLE_FILE_LIMIT >> 20} MB (decompressed); "
        "convert it to JSON Lines",
        file=str(path),
    )
    if path.stat().st_size > WHOLE_FILE_LIMIT:
        raise too_big
    with open_binary(path) as stream:
        data = read_limited(stream, WHOLE_FILE_LIMIT)  # the limit holds for what gzip inflates
    if data is None:
        raise too_big
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None  # leave it to line-by-line reading, which quarantines bad lines
    return document if isinstance(document, list) else [document]


def _first_lines(path: Path, count: int) -> list[bytes]:
    """The first ``count`` non-blank lines (a line over ``LINE_LIMIT``: its first bytes)."""
    found: list[bytes] = []
    for batch in read_lines(path, chunk_bytes=1 << 20):
        found += [line for line in batch.lines if line.strip()][: count - len(found)]
        if len(found) >= count:
            break
    return found


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def sniff_format(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    for name, module in (("bluesky", bluesky), ("mastodon", mastodon), ("x-v1", x_v1)):
        if module.sniff(obj):
            return name
    return "x-v2" if x_v2.sniff(obj) else None


def _is_csv(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    return ".csv" in suffixes or ".tsv" in suffixes


def detect_format(path: Path) -> str:
    """The format of an archive, from its extension (CSV) or its first JSON records."""
    return _detect(path, None if _is_csv(path) else whole_document(path))


def _detect(path: Path, whole: list[Any] | None) -> str:
    if _is_csv(path):
        return "csv"
    if whole is not None:
        for obj in whole[:100]:
            found = sniff_format(obj)
            if found:
                return found
        raise FormatError("cannot tell the format of this JSON document", file=str(path))
    seen = 0
    for batch in read_lines(path, chunk_bytes=1 << 20):
        for offset, raw in enumerate(batch.lines):
            if not raw.strip():
                continue
            seen += 1
            try:
                found = sniff_format(orjson.loads(raw))
            except orjson.JSONDecodeError:
                found = None
            if found:
                return found
            if seen >= 100:
                raise FormatError(
                    "cannot tell the format from the first 100 lines; pass --format",
                    file=str(path),
                    line=batch.first + offset,
                )
    raise FormatError("cannot tell the format; pass --format", file=str(path))
