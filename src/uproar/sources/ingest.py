"""Archive ingest: every format through one mechanism into the store.

Lines are read in bounded batches, parsed by the file's format module into post rows,
matched to brands, and written in one transaction per batch together with the batch's
quarantined records and whatever the enrichers (e.g. the classifier) add for the new posts.
(platform, id) is the identity, so re-running after a crash stores each post exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
from uproar.sources.reader import open_binary, read_lines
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
Progress = Callable[[int], None]


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "files": self.files,
        }


class _Batch:
    """Column lists for one transaction's worth of posts and quarantined records."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in POST_SCHEMA.names}
        self.quarantine: dict[str, list[Any]] = {name: [] for name in QUARANTINE_SCHEMA.names}

    def __len__(self) -> int:
        return len(self.columns["id"]) + len(self.quarantine["line"])

    @property
    def posts(self) -> int:
        return len(self.columns["id"])


class Ingestor:
    """Ingest archives into one store. Build once, call ``ingest`` for each set of paths."""

    def __init__(
        self,
        store: Store,
        brands: Mapping[str, Brand],
        *,
        batch_size: int = 50_000,
        enrichers: Sequence[Enricher] = (),
        csv_mapping: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.store = store
        self.matcher = BrandMatcher(brands)
        self.batch_size = batch_size
        self.enrichers = tuple(enrichers)
        self.csv_mapping = dict(csv_mapping or {})
        moment = now or datetime.now(UTC)
        self.now = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

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
            name = detect_format(path) if format in ("auto", "twarc") else format
            if format == "twarc" and name not in ("x-v2", "x-v1"):
                raise FormatError(f"not a twarc file (looks like {name})", file=str(path))
            result.files[str(path)] = name
            batch = _Batch()
            for line, item, content, record in self._records(path, name, progress):
                result.read += 1
                if isinstance(record, Skip):
                    result.skipped += 1
                    continue
                if isinstance(record, RecordError):
                    self._quarantine(batch, path, line, item, content, record, result)
                else:
                    self._add(batch, record, path, line)
                if len(batch) >= self.batch_size:
                    self._flush(batch, result)
                    batch = _Batch()
            self._flush(batch, result)
        return result

    # -- reading -------------------------------------------------------------------------
    def _records(
        self, path: Path, name: str, progress: Progress | None
    ) -> Iterator[tuple[int, int, bytes, Row | RecordError | Skip]]:
        if name == "csv":
            last = 0
            for line, raw, record in csv_format.rows(path, mapping=self.csv_mapping):
                yield line, 0, raw, record
                if progress and line - last > 10_000:
                    progress(0)
                    last = line
            if progress:
                progress(path.stat().st_size)
            return
        module = JSON_FORMATS[name]
        whole = _whole_document(path)
        if whole is not None:
            for index, obj in enumerate(whole, 1):
                for item, record in enumerate(module.records(obj)):
                    yield index, item, orjson.dumps(obj), record
            if progress:
                progress(path.stat().st_size)
            return
        for batch in read_lines(path):
            for offset, raw in enumerate(batch.lines):
                if not raw.strip():
                    continue
                line = batch.first + offset
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    kind = "invalid UTF-8" if "utf-8" in str(exc).lower() else "invalid JSON"
                    yield line, 0, raw, RecordError(None, f"{kind}: {exc}", kind=kind)
                    continue
                for item, record in enumerate(module.records(obj)):
                    yield line, item, raw, record
            if progress:
                progress(batch.bytes_read)

    # -- batching ------------------------------------------------------------------------
    def _add(self, batch: _Batch, row: Row, path: Path, line: int) -> None:
        columns = batch.columns
        for key in _ROW_KEYS:
            columns[key].append(row[key])
        columns["brands"].append(self.matcher.match(row["text"]))
        columns["own_brand"].append(self.matcher.own_brand(row["author_handle"]))
        columns["source_file"].append(str(path))
        columns["source_line"].append(line)
        columns["ingested_at"].append(self.now)

    def _quarantine(
        self,
        batch: _Batch,
        path: Path,
        line: int,
        item: int,
        content: bytes,
        error: RecordError,
        result: IngestResult,
    ) -> None:
        q = batch.quarantine
        q["source_file"].append(str(path))
        q["line"].append(line)
        q["item"].append(item)
        q["kind"].append(error.kind)
        q["field"].append(error.field)
        q["reason"].append(error.reason)
        q["content"].append(content)
        q["quarantined_at"].append(self.now)
        if len(result.errors) < 20:
            where = f"{path}:{line}" + (f" item {item}" if item else "")
            fld = f" (field {error.field!r})" if error.field else ""
            result.errors.append(f"{where}: {error.reason}{fld}")

    def _flush(self, batch: _Batch, result: IngestResult) -> None:
        if not len(batch):
            return
        posts = pa.table(batch.columns, schema=POST_SCHEMA)
        bad = pa.table(batch.quarantine, schema=QUARANTINE_SCHEMA)
        with self.store.transaction():
            new = self.store.insert_posts_returning(posts, ENRICH_COLUMNS)
            self.store.quarantine(bad)
            for enrich in self.enrichers:
                if new.num_rows:
                    enrich(self.store, new)
        result.stored += new.num_rows
        result.duplicates += batch.posts - new.num_rows
        result.quarantined += bad.num_rows


def ingest(
    paths: Iterable[str | Path],
    store: Store,
    brands: Mapping[str, Brand],
    *,
    format: str = "auto",
    batch_size: int = 50_000,
    enrichers: Sequence[Enricher] = (),
    csv_mapping: Mapping[str, str] | None = None,
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
        now=now,
    )
    return ingestor.ingest(paths, format=format, progress=progress)


# -- format detection ----------------------------------------------------------------------
def _whole_document(path: Path) -> list[Any] | None:
    """A JSON array file or a pretty-printed document, as a list of records; else None."""
    with open_binary(path) as stream:
        head = stream.read(1 << 16)
    stripped = head.lstrip()
    if not stripped:
        return None
    first_line = stripped.split(b"\n", 1)[0]
    if stripped[:1] != b"[":
        try:
            orjson.loads(first_line)
            return None  # JSON Lines
        except orjson.JSONDecodeError:
            if stripped[:1] != b"{":
                return None  # not JSON at all: each line will be quarantined
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


def _sniff(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    for name, module in (("bluesky", bluesky), ("mastodon", mastodon), ("x-v1", x_v1)):
        if module.sniff(obj):
            return name
    return "x-v2" if x_v2.sniff(obj) else None


def detect_format(path: Path) -> str:
    """The format of an archive, from its extension (CSV) or its first JSON records."""
    suffixes = [s.lower() for s in path.suffixes]
    if ".csv" in suffixes or ".tsv" in suffixes:
        return "csv"
    whole = _whole_document(path)
    if whole is not None:
        for obj in whole[:100]:
            found = _sniff(obj)
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
                found = _sniff(orjson.loads(raw))
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
