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
# The same without the verbatim source records, for engines that only read the posts'
# fields (Spark's detect stage): the raw JSON is most of an archive's bytes.
_EXPORT_NO_RAW = """
    SELECT p.* EXCLUDE (raw), l.* EXCLUDE (platform, id), CAST(p.created_at AS DATE) AS day
    FROM posts p LEFT JOIN labels l USING (platform, id)
"""


@dataclass(frozen=True, slots=True)
class ParquetExport:
    folder: Path
    posts: int
    files: int


def export_parquet(
    store: Store, folder: Path, *, overwrite: bool = False, raw: bool = True
) -> ParquetExport:
    """Write every stored post, with its labels, under ``folder`` partitioned by platform
    and day. A folder that already holds files is refused unless ``overwrite``. Without
    ``raw``, the verbatim source records are left out."""
    check_target(folder, overwrite=overwrite)
    try:
        relation = store.connection.sql(_EXPORT if raw else _EXPORT_NO_RAW)
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


def check_target(folder: Path, *, overwrite: bool) -> None:
    """Refuse a folder to write that is a file, or holds files (unless ``overwrite``)."""
    if folder.exists() and not folder.is_dir():
        raise InputError("not a folder", file=str(folder), field="parquet")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise InputError(
            "the folder is not empty; choose a new one or pass --overwrite",
            file=str(folder),
            field="parquet",
        )


def _columns(store: Store, table: str) -> list[tuple[str, str]]:
    """(name, type) of one of the store's own tables, in order."""
    rows = store.connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t "
        "ORDER BY column_index",
        {"t": table},
    ).fetchall()
    return [(str(n), str(t)) for n, t in rows]


def write_deduplicated(store: Store, staging: Path, folder: Path) -> int:
    """Write the staged posts (the post and label columns, and ``seq``: input order) under
    ``folder`` as ``export_parquet`` lays them out, with the store's column types, keeping
    the first copy of each (platform, id); returns how many posts were written.

    The column names and types come from the store's schema, never from input."""
    labels = [(n, t) for n, t in _columns(store, "labels") if n not in ("platform", "id")]
    select = ", ".join(
        f'CAST("{name}" AS {kind}) AS "{name}"'
        for name, kind in [*_columns(store, "posts"), *labels]
    )
    store.connection.read_parquet(str(staging / "*.parquet")).create_view("staged", replace=True)
    relation = store.connection.sql(
        f"SELECT {select}, CAST(created_at AS DATE) AS day FROM staged "
        "QUALIFY row_number() OVER (PARTITION BY platform, id ORDER BY seq) = 1"
    )
    try:
        relation.write_parquet(
            str(folder), compression="zstd", partition_by=list(PARTITIONS), overwrite=True
        )
    except duckdb.Error as exc:
        raise StoreError(f"{folder}: cannot write Parquet: {exc}", file=str(folder)) from exc
    return count_parquet(store, folder)


def quarantine_folder(folder: Path) -> Path:
    """Where ``ingest --parquet-out DIR`` keeps what it quarantined: ``DIR.quarantine``."""
    return folder.with_name(folder.name + ".quarantine")


def open_parquet(folder: Path) -> Store:
    """A store (in memory) whose ``posts`` and ``labels`` are views over an exported or
    ``ingest --parquet-out`` folder, read in place: ``stats``, ``detect`` and the other
    readers run over it unchanged (incidents they save stay in memory). The quarantine
    beside it (``DIR.quarantine``), if any, is loaded into the store's quarantine table."""
    store = Store(":memory:")
    posts = [f'"{n}"' for n, _ in _columns(store, "posts")]
    labels = [f'"{n}"' for n, _ in _columns(store, "labels")]
    try:
        read_parquet(store, folder).create_view("archive", replace=True)
        with store.transaction() as con:
            con.execute("DROP TABLE posts")
            con.execute("DROP TABLE labels")
            con.execute(f"CREATE VIEW posts AS SELECT {', '.join(posts)} FROM archive")
            con.execute(
                f"CREATE VIEW labels AS SELECT {', '.join(labels)} FROM archive "
                "WHERE complaint IS NOT NULL"
            )
        bad = quarantine_folder(folder)
        if bad.is_dir() and any(bad.glob("*.parquet")):
            store.connection.execute(
                "INSERT INTO quarantine SELECT * FROM read_parquet($files)",
                {"files": str(bad / "*.parquet")},
            )
    except BaseException:
        store.close()
        raise
    return store


def read_parquet(store: Store, folder: Path) -> duckdb.DuckDBPyRelation:
    """The posts of an exported folder as a relation, partition columns included."""
    if not folder.is_dir() or not any(folder.rglob("*.parquet")):
        raise InputError("no Parquet files here", file=str(folder), field="parquet")
    return store.connection.read_parquet(str(folder / "**" / "*.parquet"), hive_partitioning=True)


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
