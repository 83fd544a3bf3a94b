"""Parquet as the interchange format: the store's posts with their labels, written as a
hive-partitioned folder (``platform=x/day=2014-09-05/…parquet``) that Spark, DuckDB and
pandas read in place, and read back into a store as a view.

Every post is written once: the partition columns (``platform``, ``day``) live in the
folder names, so ``read_parquet('DIR/**/*.parquet', hive_partitioning = true)`` gives back
the same rows and columns as the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from uproar.errors import InputError, StoreError
from uproar.store.store import Store

PARTITIONS = ("platform", "day")
_EXPORT = """
    SELECT p.*, l.* EXCLUDE (platform, id), CAST(p.created_at AS DATE) AS day
    FROM posts p LEFT JOIN labels l USING (platform, id)
"""  # column names only: no value from outside ever reaches this text


@dataclass(frozen=True, slots=True)
class ParquetExport:
    folder: Path
    posts: int
    files: int


def export_parquet(store: Store, folder: Path, *, overwrite: bool = False) -> ParquetExport:
    """Write every stored post, with its labels, under ``folder`` partitioned by platform
    and day. A folder that already holds files is refused unless ``overwrite``."""
    if folder.exists() and not folder.is_dir():
        raise InputError("not a folder", file=str(folder), field="parquet")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise InputError(
            "the folder is not empty; choose a new one or pass --overwrite",
            file=str(folder),
            field="parquet",
        )
    try:
        relation = store.connection.sql(_EXPORT)
        relation.write_parquet(
            str(folder),
            compression="zstd",
            partition_by=list(PARTITIONS),
            overwrite=overwrite or None,
        )
    except duckdb.Error as exc:
        raise StoreError(f"{folder}: cannot write Parquet: {exc}", file=str(folder)) from exc
    files = sorted(folder.rglob("*.parquet"))
    return ParquetExport(folder=folder, posts=count_parquet(store, folder), files=len(files))


def read_parquet(store: Store, folder: Path) -> duckdb.DuckDBPyRelation:
    """The posts of an exported folder as a relation, partition columns included."""
    if not folder.is_dir() or not any(folder.rglob("*.parquet")):
        raise InputError("no Parquet files here", file=str(folder), field="parquet")
    return store.connection.read_parquet(
        str(folder / "**" / "*.parquet"), hive_partitioning=True
    )


def count_parquet(store: Store, folder: Path) -> int:
    rows = read_parquet(store, folder).count("*").fetchall()
    return int(rows[0][0]) if rows else 0


def attach_parquet(store: Store, folder: Path, *, name: str = "archive_posts") -> int:
    """Make an exported folder queryable in place as the view ``name`` (read, never
    copied); returns how many posts it holds."""
    if not name.isidentifier():
        raise InputError(f"a view name must be an identifier, got {name!r}", field="name")
    read_parquet(store, folder).create_view(name, replace=True)
    return count_parquet(store, folder)
