"""The stores a member writes: one DuckDB file per partition, ``DIR/partition-<p>.duckdb``.

The member that owns a partition is its file's one writer. Each batch of a partition's
messages is written through the live path (``sources.commit.commit``: the same parsing
checks, enrichers, quarantine and post-key idempotence as ``uproar listen``), with the
partition's cursor (the last offset stored) saved in the same transaction. A new owner
opens the file and carries on after that cursor, so a message is stored once whoever
delivered it, and a redelivered one is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from uproar.bus.backbone import Message
from uproar.bus.routing import POSTS, QUARANTINE, brands_of, decode
from uproar.config import Brand
from uproar.detect.batch import detect_store
from uproar.errors import StoreError
from uproar.sources.commit import Piece, commit
from uproar.sources.ingestor import (
    POST_SCHEMA,
    QUARANTINE_SCHEMA,
    Chunk,
    Enricher,
    Ingestor,
    IngestResult,
)
from uproar.store import Store

WAIT_FOR_LENDER = 10.0  # seconds a batch waits for a store lent to a reading command


def partition_path(directory: Path, partition: int) -> Path:
    return directory / f"partition-{partition:04d}.duckdb"


@dataclass(slots=True)
class PartitionStore:
    partition: int
    store: Store
    ingestor: Ingestor
    key: str  # the cursor's name in ``stream_cursors``
    cursor: int | None
    fresh: int = 0  # posts stored since the last detection


class PartitionStores:
    """The open partition stores of one member."""

    def __init__(
        self,
        directory: Path,
        *,
        stream: str,
        brands: Mapping[str, Brand],
        enrichers: Sequence[Enricher] = (),
        memory_limit: str | None = None,
    ) -> None:
        self.directory, self.stream = directory, stream
        self.brands, self.enrichers, self.memory_limit = (
            dict(brands),
            tuple(enrichers),
            memory_limit,
        )
        self.partitions = 0  # set by the member once the stream is known
        self.open: dict[int, PartitionStore] = {}
        directory.mkdir(parents=True, exist_ok=True)

    def cursor(self, partition: int) -> int | None:
        """Open the partition's store (if it is not open) and say where it stopped. A file
        still held by another process is a ``StoreError`` at once (the lease is retried)."""
        part = self.open.get(partition)
        if part is None:
            part = self._open(partition)
        return part.cursor

    def _open(self, partition: int) -> PartitionStore:
        store = Store(
            partition_path(self.directory, partition), memory_limit=self.memory_limit, wait=0
        )
        try:
            own = brands_of(self.brands, partition, self.partitions)
            if own:
                store.save_brands(own)
            key = f"bus:{self.stream}:{partition}"
            part = PartitionStore(
                partition, store, Ingestor(store, own, enrichers=self.enrichers), key,
                store.load_cursor(key),
            )  # fmt: skip
        except BaseException:
            store.close()
            raise
        # Brand matching was done by the publisher; the ingestor's brands are only those
        # this partition detects for.
        self.open[partition] = part
        store.available()  # lend it to reading commands between batches from now on
        return part

    def close(self, partition: int) -> None:
        part = self.open.pop(partition, None)
        if part is not None:
            part.store.close()

    def close_all(self) -> None:
        for partition in list(self.open):
            self.close(partition)

    def lend(self) -> None:
        """Let a command that asked (``uproar bus check``, a report) read the files."""
        for part in self.open.values():
            part.store.available()

    def write(self, partition: int, messages: Sequence[Message]) -> IngestResult:
        """Store a partition's messages (in offset order) and its cursor, in one
        transaction; messages at or below the cursor were stored already and are skipped."""
        part = self.open[partition]
        new = [m for m in messages if part.cursor is None or m.offset > part.cursor]
        result = IngestResult()
        if not new:
            return result
        posts, bad = _tables(new)
        pieces = _pieces(posts, bad)
        last = new[-1].offset
        store = part.store
        deadline = time.monotonic() + WAIT_FOR_LENDER
        while not store.available():
            if time.monotonic() > deadline:
                raise StoreError(f"{store.path}: lent to another command for too long")
            time.sleep(0.02)

        def save() -> None:
            store.save_cursor(part.key, last, now=datetime.now(UTC))

        for outcome in commit(part.ingestor, pieces, then=save):
            if isinstance(outcome, Exception):
                raise StoreError(f"{store.path}: cannot store bus messages: {outcome}")
            result.absorb(outcome)
        part.cursor = last
        part.fresh += result.stored
        return result

    def detect(self, partition: int) -> int:
        """Detect incidents for the partition's brands over its whole store (stored in its
        ``incidents`` table, replacing the last run's); returns how many."""
        part = self.open[partition]
        part.fresh = 0
        if not part.ingestor.parser.brands:
            return 0
        while not part.store.available():
            time.sleep(0.02)
        return len(detect_store(part.store, brands=part.ingestor.parser.brands).incidents)


def _tables(messages: Sequence[Message]) -> tuple[pa.Table, pa.Table]:
    posts = [decode(POSTS, m.payload) for m in messages if m.kind == POSTS]
    bad = [decode(QUARANTINE, m.payload) for m in messages if m.kind == QUARANTINE]
    return (
        pa.concat_tables(posts) if posts else POST_SCHEMA.empty_table(),
        pa.concat_tables(bad) if bad else QUARANTINE_SCHEMA.empty_table(),
    )


def _pieces(posts: pa.Table, bad: pa.Table) -> list[Piece]:
    """One piece per source file (``commit`` isolates a refused record by its line)."""
    sources = dict.fromkeys(
        posts.column("source_file").to_pylist() + bad.column("source_file").to_pylist()
    )
    pieces = []
    for source in sources:
        mine = posts.filter(pc.equal(posts.column("source_file"), source))
        mine_bad = bad.filter(pc.equal(bad.column("source_file"), source))
        raws: dict[int, bytes] = {}
        for line, raw in zip(
            mine.column("source_line").to_pylist(), mine.column("raw").to_pylist(), strict=True
        ):
            raws.setdefault(line, (raw or "").encode())
        for line, content in zip(
            mine_bad.column("line").to_pylist(), mine_bad.column("content").to_pylist(), strict=True
        ):
            raws.setdefault(line, content or b"")
        rows = mine.num_rows + mine_bad.num_rows
        chunk = Chunk(mine, mine_bad, read=rows, skipped=0, errors=[])
        pieces.append(Piece(str(source), "bus", chunk, raws))
    return pieces
