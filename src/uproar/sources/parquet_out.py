"""``uproar ingest --parquet-out DIR``: archives too big for one DuckDB file, parsed by the
same ``Ingestor`` (formats, the plausible-time gate, brand matching, regions, labels) and
written straight to the hive-partitioned layout of ``uproar export --parquet``
(``platform=x/day=2014-09-05/…parquet``, zstd), with the same columns.

Batches are appended to a staging folder as they are parsed (bounded memory); at the end
one DuckDB query keeps the first copy of each (platform, id) of the run, in input order,
and writes the partitions (DuckDB sorts and spills to disk, so this scales past memory).
Quarantined records go beside it, to ``DIR.quarantine/*.parquet``, with the store's
quarantine columns (file, line, item, kind, field, reason, content): outside ``DIR``, so
that ``read_parquet('DIR/**/*.parquet')`` reads posts only.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from uproar.config import Brand
from uproar.errors import InputError
from uproar.sources.ingestor import (
    BATCH_ROWS,
    QUARANTINE_SCHEMA,
    Chunk,
    Enricher,
    Ingestor,
    IngestResult,
    Labeller,
)
from uproar.store import Store
from uproar.store.parquet import (
    PARTITIONS,
    check_target,
    quarantine_folder,
    write_deduplicated,
)


class ParquetIngestor(Ingestor):
    """An ``Ingestor`` whose batches go to a Parquet folder instead of a store.

    Call ``ingest`` (or ``spark.ingest.spark_ingest``) as often as needed, then ``finish``,
    which writes the partitions and returns the counts with duplicates settled.
    """

    def __init__(
        self,
        folder: Path,
        brands: Mapping[str, Brand],
        *,
        batch_size: int = BATCH_ROWS,
        enrichers: Sequence[Enricher] = (),
        csv_mapping: Mapping[str, str] | None = None,
        workers: int | None = None,
        now: datetime | None = None,
        overwrite: bool = False,
    ) -> None:
        if any(not isinstance(e, Labeller) for e in enrichers):
            raise InputError(
                "--parquet-out labels posts where they are parsed: use --model fast, or "
                "--no-classify and `uproar classify` later",
                field="--parquet-out",
            )
        check_target(folder, overwrite=overwrite)
        check_target(quarantine_folder(folder), overwrite=overwrite)
        # The scratch store holds no posts: it lends its schema (the columns and types the
        # Parquet files get) and the Ingestor's plumbing.
        super().__init__(
            Store(":memory:"),
            brands,
            batch_size=batch_size,
            enrichers=enrichers,
            csv_mapping=csv_mapping,
            workers=workers,
            now=now,
        )
        self.folder = folder
        self.quarantine = quarantine_folder(folder)
        for old in (folder, self.quarantine):
            if overwrite and old.exists():
                shutil.rmtree(old)
        self.staging = folder.with_name(folder.name + ".staging")
        shutil.rmtree(self.staging, ignore_errors=True)  # left by a run that was killed
        self.staging.mkdir(parents=True)
        empty = self.store.connection.sql("SELECT * FROM labels LIMIT 0")
        self.label_schema: pa.Schema = empty.to_arrow_table().schema
        self._parts = 0
        self._rows = 0  # posts written to staging, duplicates included
        self.total = IngestResult()

    def _store_batch(self, batch: Chunk, result: IngestResult) -> None:
        """Append a batch's posts (with their labels and input order) to the staging folder
        and its quarantined records beside the partitions; duplicates are settled in
        ``finish``."""
        posts, bad = batch.posts, batch.quarantine
        if posts.num_rows:
            table = posts.append_column(
                "seq", pa.array(range(self._rows, self._rows + posts.num_rows), pa.int64())
            )
            for name, column in self._labels(batch).items():
                table = table.append_column(name, column)
            pq.write_table(table, self.staging / f"part-{self._parts:06d}.parquet")
        if bad.num_rows:
            self.quarantine.mkdir(exist_ok=True)
            pq.write_table(
                bad.cast(QUARANTINE_SCHEMA), self.quarantine / f"part-{self._parts:06d}.parquet",
                compression="zstd",
            )  # fmt: skip
        self._parts += 1
        self._rows += posts.num_rows
        for target in (result, self.total):
            target.read += batch.read
            target.skipped += batch.skipped
            target.stored += posts.num_rows
            target.quarantined += bad.num_rows
            target.note(batch.errors)

    def _labels(self, batch: Chunk) -> dict[str, pa.ChunkedArray]:
        """The label columns, row for row of the posts (nulls where nothing labelled)."""
        names = [n for n in self.label_schema.names if n not in ("platform", "id")]
        rows = batch.posts.num_rows
        if self.labellers and batch.labels and batch.labels[0].num_rows == rows:
            labels = batch.labels[0]
            return {n: labels.column(n).cast(self.label_schema.field(n).type) for n in names}
        return {
            n: pa.chunked_array([pa.nulls(rows, self.label_schema.field(n).type)]) for n in names
        }

    def finish(self, result: IngestResult | None = None) -> IngestResult:
        """Write the partitions, each (platform, id) once (its first copy in this run), and
        remove the staging folder. Settles ``result``'s stored and duplicates counts (and
        those of every run since this ingestor was made)."""
        try:
            kept = write_deduplicated(self.store, self.staging, self.folder) if self._rows else 0
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        for target in (self.total, *([result] if result is not None else [])):
            target.duplicates = self._rows - kept
            target.stored = kept
        return result if result is not None else self.total

    def quarantine_reasons(self, *, limit: int = 3) -> list[dict[str, Any]]:
        """The commonest reasons among what this ingestor quarantined (``Store``'s)."""
        if not self.quarantine.is_dir():
            return []
        files = str(self.quarantine / "*.parquet")
        self.store.connection.execute(
            "INSERT OR IGNORE INTO quarantine SELECT * FROM read_parquet($files)",
            {"files": files},
        )
        sources = self.store.connection.execute(
            "SELECT DISTINCT source_file FROM quarantine"
        ).fetchall()
        return self.store.quarantine_reasons([str(r[0]) for r in sources], limit=limit)


__all__ = ["PARTITIONS", "ParquetIngestor", "quarantine_folder"]
