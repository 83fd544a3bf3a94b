"""Archive ingest: every format through one mechanism into the store.

Lines are read in bounded batches, parsed by the file's format module into post rows,
matched to brands, and written in one transaction per batch together with the batch's
quarantined records and whatever the enrichers (e.g. the classifier) add for the new posts.
(platform, id) is the identity, so re-running after a crash stores each post exactly once.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pyarrow as pa

from uproar.config import Brand
from uproar.errors import FormatError, InputError
from uproar.sources import bluesky, csv_format, mastodon, x_v1, x_v2
from uproar.sources.fields import RecordError, Row, Skip
from uproar.sources.mentions import BrandMatcher
from uproar.sources.reader import CHUNK_BYTES, LineBatch, open_binary, read_lines
from uproar.store import Store

JSON_FORMATS: dict[str, ModuleType] = {
    "x-v2": x_v2,
    "x-v1": x_v1,
    "mastodon": mastodon,
    "bluesky": bluesky,
}
FORMATS: tuple[str, ...] = ("auto", "x-v2", "twarc", "x-v1", "mastodon", "bluesky", "csv")
WHOLE_FILE_LIMIT = 256 << 20  # a JSON array or pretty-printed document is read whole

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
_ROW_KEYS = tuple(
    name for name in POST_SCHEMA.names
    if name not in ("brands", "own_brand", "source_file", "source_line", "ingested_at")
)  # fmt: skip

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
# (line, item within the line, the raw line or decoded value, what it parsed into)
Record = tuple[int, int, Any, Row | RecordError | Skip]
Progress = Callable[[int], None]

MAX_ERRORS = 20  # quarantine messages kept for display per run (all are in the table)
# Files at least this big are parsed by worker processes while the main one writes.
PARALLEL_MIN_BYTES = 32 << 20


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


class ChunkParser:
    """Turns records of one format into column batches. Picklable, so workers can run it."""

    def __init__(self, brands: Mapping[str, Brand], now: datetime) -> None:
        self.brands = dict(brands)
        self.now = now
        self._matcher: BrandMatcher | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"brands": self.brands, "now": self.now}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.brands, self.now, self._matcher = state["brands"], state["now"], None

    @property
    def matcher(self) -> BrandMatcher:
        if self._matcher is None:
            self._matcher = BrandMatcher(self.brands)
        return self._matcher

    def parse(self, source: str, records: Iterable[Record]) -> Chunk:
        """Rows and quarantine for ``records``; a record's content (its raw line, or the
        decoded object) is only serialised when it has to be quarantined."""
        rows: list[Row] = []
        lines: list[int] = []
        keep, at = rows.append, lines.append
        bad: dict[str, list[Any]] = {name: [] for name in QUARANTINE_SCHEMA.names}
        read = skipped = 0
        errors: list[str] = []
        for line, item, content, record in records:
            read += 1
            if type(record) is dict:
                keep(record)
                at(line)
            elif isinstance(record, Skip):
                skipped += 1
            elif isinstance(record, RecordError):
                for key, value in (
                    ("source_file", source), ("line", line), ("item", item),
                    ("kind", record.kind), ("field", record.field), ("reason", record.reason),
                    ("content", content if isinstance(content, bytes) else orjson.dumps(content)),
                    ("quarantined_at", self.now),
                ):  # fmt: skip
                    bad[key].append(value)
                if len(errors) < MAX_ERRORS:
                    where = f"{source}:{line}" + (f" item {item}" if item else "")
                    blame = f" (field {record.field!r})" if record.field else ""
                    errors.append(f"{where}: {record.reason}{blame}")
        # Column by column: list comprehensions beat appending field by field per post.
        columns: dict[str, list[Any]] = {key: [row[key] for row in rows] for key in _ROW_KEYS}
        match, own = self.matcher.match, self.matcher.own_brand
        columns["brands"] = [match(text) for text in columns["text"]]
        columns["own_brand"] = [own(handle) for handle in columns["author_handle"]]
        columns["source_line"] = lines
        columns["source_file"] = [source] * len(rows)
        columns["ingested_at"] = [self.now] * len(rows)
        return Chunk(
            posts=pa.table(columns, schema=POST_SCHEMA),
            quarantine=pa.table(bad, schema=QUARANTINE_SCHEMA),
            read=read,
            skipped=skipped,
            errors=errors,
        )

    def parse_lines(self, source: str, name: str, first: int, lines: list[bytes]) -> Chunk:
        """Parse JSON Lines (``first`` is the 1-based number of ``lines[0]``)."""
        return self.parse(source, _json_line_records(JSON_FORMATS[name], first, lines))


def _object_records(module: ModuleType, objects: Iterable[Any]) -> Iterator[Record]:
    """Records of decoded JSON values; each value's position stands in for its line."""
    for index, obj in enumerate(objects, 1):
        for item, record in enumerate(module.records(obj)):
            yield index, item, obj, record


def _json_line_records(module: ModuleType, first: int, lines: list[bytes]) -> Iterator[Record]:
    for offset, raw in enumerate(lines):
        if not raw.strip():
            continue
        line = first + offset
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
        batch_size: int = 20_000,
        enrichers: Sequence[Enricher] = (),
        csv_mapping: Mapping[str, str] | None = None,
        workers: int | None = None,
        now: datetime | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.store = store
        self.batch_size = batch_size
        self.enrichers = tuple(enrichers)
        self.csv_mapping = dict(csv_mapping or {})
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        moment = now or datetime.now(UTC)
        moment = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        self.parser = ChunkParser(brands, moment)

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        format: str = "auto",
        progress: Progress | None = None,
    ) -> IngestResult:
        if format not in FORMATS:
            raise FormatError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
        result = IngestResult()
        for path in map(Path, paths):
            if not path.is_file():
                raise InputError("no such file", file=str(path))
            # A JSON array or pretty-printed document is read (and parsed) once, here.
            whole = None if _is_csv(path) or format == "csv" else _whole_document(path)
            name = _detect(path, whole) if format in ("auto", "twarc") else format
            if format == "twarc" and name not in ("x-v2", "x-v1"):
                raise FormatError(f"not a twarc file (looks like {name})", file=str(path))
            result.files[str(path)] = name
            pending: list[Chunk] = []
            reported = 0
            for chunk in self._chunks(path, name, whole):
                pending.append(chunk)
                if progress and chunk.bytes_read:
                    progress(chunk.bytes_read)
                    reported += chunk.bytes_read
                if (
                    sum(c.posts.num_rows + c.quarantine.num_rows for c in pending)
                    >= self.batch_size
                ):
                    self._write(pending, result)
                    pending = []
            self._write(pending, result)
            if progress:
                progress(max(0, path.stat().st_size - reported))
        return result

    def ingest_objects(self, objects: Iterable[Any], *, format: str, source: str) -> IngestResult:
        """Ingest already-decoded JSON records (a live stream's messages, an HTTP body).

        ``source`` names where they came from in ``posts.source_file`` and the quarantine;
        each object's position (1-based) stands in for the line number.
        """
        if format not in JSON_FORMATS:
            raise FormatError(f"live records must be one of {', '.join(JSON_FORMATS)}")
        module = JSON_FORMATS[format]
        result = IngestResult(files={source: format})
        for chunk in self._sized(self.parser, source, _object_records(module, objects)):
            self._write([chunk], result)
        return result

    # -- reading -------------------------------------------------------------------------
    def _chunks(self, path: Path, name: str, whole: list[Any] | None) -> Iterator[Chunk]:
        source = str(path)
        if name == "csv":
            rows = ((line, 0, raw, rec) for line, raw, rec in
                    csv_format.rows(path, mapping=self.csv_mapping))  # fmt: skip
            yield from self._sized(self.parser, source, rows)
            return
        if whole is not None:
            records = _object_records(JSON_FORMATS[name], whole)
            yield from self._sized(self.parser, source, records)
            return
        batches = read_lines(path, chunk_bytes=CHUNK_BYTES)
        if self.workers > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES:
            yield from self._parallel(source, name, batches)
            return
        for batch in batches:
            chunk = self.parser.parse_lines(source, name, batch.first, batch.lines)
            chunk.bytes_read = batch.bytes_read
            yield chunk

    def _sized(
        self,
        parser: ChunkParser,
        source: str,
        records: Iterator[Record],
    ) -> Iterator[Chunk]:
        """Cut a record stream into chunks of at most ``batch_size`` records."""
        while True:
            chunk = parser.parse(source, itertools.islice(records, self.batch_size))
            if chunk.read == 0:
                return
            yield chunk

    def _parallel(self, source: str, name: str, batches: Iterator[LineBatch]) -> Iterator[Chunk]:
        """Parse in worker processes, in order, with a bounded number of chunks in flight."""
        context = multiprocessing.get_context("spawn")  # no fork of DuckDB's threads
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
        ) as pool:
            in_flight: deque[tuple[Future[Chunk], int]] = deque()
            for batch in batches:
                job = pool.submit(self.parser.parse_lines, source, name, batch.first, batch.lines)
                in_flight.append((job, batch.bytes_read))
                if len(in_flight) > 2 * self.workers:
                    yield _done(*in_flight.popleft())
            while in_flight:
                yield _done(*in_flight.popleft())

    # -- writing -------------------------------------------------------------------------
    def _write(self, chunks: list[Chunk], result: IngestResult) -> None:
        """One transaction: new posts, quarantined records and the enrichers' output."""
        if not chunks:
            return
        posts = pa.concat_tables([c.posts for c in chunks])
        bad = pa.concat_tables([c.quarantine for c in chunks])
        with self.store.transaction():
            new = self.store.insert_posts_returning(posts, ENRICH_COLUMNS)
            self.store.quarantine(bad)
            if new.num_rows:
                for enrich in self.enrichers:
                    enrich(self.store, new)
        result.read += sum(c.read for c in chunks)
        result.skipped += sum(c.skipped for c in chunks)
        result.stored += new.num_rows
        result.duplicates += posts.num_rows - new.num_rows
        result.quarantined += bad.num_rows
        for chunk in chunks:
            result.note(chunk.errors)


def _exit_with_parent(parent: int) -> None:
    """In a worker: leave as soon as the ingesting process is gone (even if SIGKILLed)."""

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
    batch_size: int = 20_000,
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
def _whole_document(path: Path) -> list[Any] | None:
    """A JSON array file or a pretty-printed document, as a list of records; else None."""
    with open_binary(path) as stream:
        lines = _first_lines(stream, 2)
    stripped = lines[0].lstrip() if lines else b""
    if not stripped or stripped[:1] not in (b"[", b"{"):
        return None  # not JSON at all: each line will be quarantined
    try:
        if not isinstance(orjson.loads(stripped), list):
            return None  # JSON Lines (a one-line array is a whole document too)
    except orjson.JSONDecodeError:
        if len(lines) > 1 and _is_json(lines[1]):
            return None  # JSON Lines whose first line is broken: it will be quarantined
    if path.stat().st_size > WHOLE_FILE_LIMIT:
        raise InputError(
            f"a single JSON document over {WHOLE_FILE_LIMIT >> 20} MB; convert it to JSON Lines",
            file=str(path),
        )
    with open_binary(path) as stream:
        try:
            document = orjson.loads(stream.read())
        except orjson.JSONDecodeError:
            return None  # leave it to line-by-line reading, which quarantines bad lines
    return document if isinstance(document, list) else [document]


def _first_lines(stream: Any, count: int) -> list[bytes]:
    """The first ``count`` non-blank lines (each read up to the whole-file limit)."""
    found: list[bytes] = []
    while len(found) < count:
        line = stream.readline(WHOLE_FILE_LIMIT)
        if not line:
            break
        if line.strip():
            found.append(line)
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
    return _detect(path, None if _is_csv(path) else _whole_document(path))


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
        break
    raise FormatError("cannot tell the format; pass --format", file=str(path))
