"""``Store`` owns the DuckDB connection; every query binds its parameters.

Stage-specific queries live beside this file (``store/<stage>.py``) as functions that take
a ``Store``; their tables are declared in ``schema.sql``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from uproar.config import Brand
from uproar.errors import StoreError
from uproar.records import Post

POST_COLUMNS: tuple[str, ...] = (
    "platform", "id", "created_at", "text", "author_id", "author_handle", "author_name",
    "author_followers", "author_location", "lang", "reply_to_id", "conversation_id",
    "quoted_id", "reposted_id", "urls", "place", "region", "like_count", "repost_count",
    "reply_count", "brands", "own_brand", "source_file", "source_line", "ingested_at", "raw",
)  # fmt: skip

QUARANTINE_COLUMNS: tuple[str, ...] = (
    "source_file", "line", "item", "kind", "field", "reason", "content", "quarantined_at",
)  # fmt: skip


class DuplicatePostsError(StoreError):
    """``insert_fresh_posts`` met a (platform, id) that is already stored."""


def utc(value: datetime | None) -> datetime | None:
    """Stored times are naive UTC; hand them out tz-aware."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """Bind parameter form of a time: naive UTC."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class Store:
    """An Uproar database: a DuckDB file (or ``:memory:``) with the schema applied."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
    ) -> None:
        """Open (and create) a store; ``memory_limit`` (e.g. "512MB") caps DuckDB's own
        memory, beyond which it spills to disk."""
        self.path = str(path)
        config: dict[str, str | bool | int | float | list[str]] = (
            {"memory_limit": memory_limit} if memory_limit else {}
        )
        if not read_only:
            # Checkpoint every 256 MB of WAL rather than DuckDB's 16 MB: ingest commits many
            # batches, and each early checkpoint recompresses what the next one rewrites.
            config["checkpoint_threshold"] = "256MB"
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}", file=self.path) from exc
        if not read_only:
            schema = resources.files("uproar.store").joinpath("schema.sql").read_text()
            self._con.execute(schema)

    # -- connection ----------------------------------------------------------------------
    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The writer connection, for ``store/<stage>.py`` modules only."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for a reader on another thread."""
        return self._con.cursor()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a crash inside leaves the store as it was before."""
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    @contextmanager
    def threads(self, count: int) -> Iterator[None]:
        """Run DuckDB on ``count`` threads inside the block (for a writer that shares the
        cores with other processes), then on as many as before."""
        row = self._con.execute("SELECT current_setting('threads')").fetchone()
        before = int(row[0]) if row else 1
        self._con.execute(f"SET threads = {int(count)}")  # an int: SET takes no parameters
        try:
            yield
        finally:
            self._con.execute(f"SET threads = {before}")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- posts ---------------------------------------------------------------------------
    def _insert(self, table: str, batch: pa.Table, *, on_conflict: str) -> int:
        """Insert an Arrow batch by column name; ``on_conflict`` is IGNORE or REPLACE.

        Table and column names come from this module and the stages' own schemas, never
        from input; the rows themselves travel as Arrow, not as SQL text.
        """
        if batch.num_rows == 0:
            return 0
        cols = ", ".join(batch.column_names)
        row = self._con.execute(
            f"INSERT OR {on_conflict} INTO {table} ({cols}) SELECT {cols} FROM batch"
        ).fetchone()
        return int(row[0]) if row else 0

    def insert_posts(self, batch: pa.Table) -> int:
        """Insert posts, ignoring (platform, id) already stored; returns how many were new."""
        return self._insert("posts", batch, on_conflict="IGNORE")

    def insert_fresh_posts(self, batch: pa.Table) -> int:
        """Insert posts none of which is stored yet, with a plain INSERT: it skips the
        per-row conflict handling of ``insert_posts`` (the bulk of a first ingest).

        Raises ``DuplicatePostsError`` if any (platform, id) is already stored or comes
        twice in ``batch``; DuckDB has then voided the open transaction, which must be
        rolled back (``transaction()`` does) and the batch inserted with ``insert_posts``
        or ``insert_posts_returning`` instead.
        """
        if batch.num_rows == 0:
            return 0
        cols = ", ".join(batch.column_names)
        try:
            row = self._con.execute(
                f"INSERT INTO posts ({cols}) SELECT {cols} FROM batch"
            ).fetchone()
        except duckdb.ConstraintException as exc:
            raise DuplicatePostsError(f"{self.path}: posts already stored: {exc}") from exc
        return int(row[0]) if row else 0

    def insert_posts_returning(self, batch: pa.Table, columns: tuple[str, ...]) -> pa.Table:
        """Insert posts like ``insert_posts``; return ``columns`` of the rows that were new."""
        unknown = set(columns) - set(POST_COLUMNS)
        if unknown:
            raise StoreError(f"unknown post columns: {sorted(unknown)}")
        cols = ", ".join(batch.column_names)
        sql = (
            f"INSERT OR IGNORE INTO posts ({cols}) SELECT {cols} FROM batch "
            f"RETURNING {', '.join(columns)}"
        )
        return self._con.sql(sql).to_arrow_table()

    def quarantine(self, batch: pa.Table) -> int:
        """Keep bad input with its file, line and reason; re-quarantining is a no-op."""
        return self._insert("quarantine", batch, on_conflict="IGNORE")

    def last_line(self, source: str) -> int:
        """The highest line (or position) stored for ``source``, in posts or quarantine;
        0 if none. A stream's positions carry on from it, so its keys never repeat."""
        row = self._con.execute(
            """SELECT greatest(
                   (SELECT coalesce(max(line), 0) FROM quarantine WHERE source_file = $s),
                   (SELECT coalesce(max(source_line), 0) FROM posts WHERE source_file = $s))""",
            {"s": source},
        ).fetchone()
        return int(row[0]) if row else 0

    def count_posts(self) -> int:
        row = self._con.execute("SELECT count(*) FROM posts").fetchone()
        return int(row[0]) if row else 0

    def posts(
        self,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[Post]:
        """Posts in time order, optionally for one brand and a half-open time window."""
        table = self.posts_arrow(brand=brand, since=since, until=until, limit=limit)
        posts = []
        for row in table.to_pylist():
            row["created_at"] = utc(row["created_at"])
            posts.append(Post.from_row(row))
        return posts

    def posts_arrow(
        self,
        *,
        columns: tuple[str, ...] = POST_COLUMNS,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        unknown = set(columns) - set(POST_COLUMNS)
        if unknown:
            raise StoreError(f"unknown post columns: {sorted(unknown)}")
        sql = f"""
            SELECT {", ".join(columns)} FROM posts
            WHERE ($brand IS NULL OR list_contains(brands, $brand) OR own_brand = $brand)
              AND ($since IS NULL OR created_at >= $since)
              AND ($until IS NULL OR created_at < $until)
            ORDER BY created_at, platform, id
            LIMIT $limit
        """
        params = {
            "brand": brand,
            "since": naive_utc(since),
            "until": naive_utc(until),
            "limit": limit if limit is not None else 2**62,
        }
        return self._con.sql(sql, params=params).to_arrow_table()

    def volume(
        self,
        *,
        bucket_minutes: int = 60,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> pa.Table:
        """Mentions per brand per time bucket (brand, bucket, posts, authors, own_posts).

        A brand's own posts are counted apart from the customers' mentions.
        """
        sql = """
            WITH tagged AS (
                SELECT unnest(brands) AS brand, created_at, author_id, FALSE AS own
                FROM posts WHERE own_brand IS NULL
                UNION ALL
                SELECT own_brand, created_at, author_id, TRUE FROM posts
                WHERE own_brand IS NOT NULL
            )
            SELECT brand,
                   time_bucket(to_minutes($minutes), created_at) AS bucket,
                   count(*) FILTER (WHERE NOT own) AS posts,
                   count(DISTINCT author_id) FILTER (WHERE NOT own) AS authors,
                   count(*) FILTER (WHERE own) AS own_posts
            FROM tagged
            WHERE ($since IS NULL OR created_at >= $since)
              AND ($until IS NULL OR created_at < $until)
            GROUP BY ALL ORDER BY brand, bucket
        """
        params = {"minutes": bucket_minutes, "since": naive_utc(since), "until": naive_utc(until)}
        return self._con.sql(sql, params=params).to_arrow_table()

    def stats(self) -> dict[str, Any]:
        """What is stored: counts per platform, brand, region (the 15 commonest) and day,
        and quarantine reasons."""
        q = self._con.execute
        total = q("SELECT count(*), min(created_at), max(created_at) FROM posts").fetchone()
        assert total is not None
        return {
            "posts": int(total[0]),
            "first": utc(total[1]),
            "last": utc(total[2]),
            "platforms": dict(
                q("SELECT platform, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC").fetchall()
            ),
            "brands": dict(
                q(
                    """SELECT b, count(*) FROM (SELECT unnest(brands) AS b FROM posts)
                       GROUP BY 1 ORDER BY 2 DESC"""
                ).fetchall()
            ),
            "own_posts": dict(
                q(
                    """SELECT own_brand, count(*) FROM posts WHERE own_brand IS NOT NULL
                       GROUP BY 1 ORDER BY 2 DESC"""
                ).fetchall()
            ),
            "regions": dict(
                q(
                    """SELECT coalesce(region, 'unknown'), count(*) FROM posts
                       GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 15"""
                ).fetchall()
            ),
            "days": [
                {"day": str(day), "posts": int(n)}
                for day, n in q(
                    "SELECT created_at::DATE, count(*) FROM posts GROUP BY 1 ORDER BY 1"
                ).fetchall()
            ],
            "quarantine": dict(
                q("SELECT kind, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC").fetchall()
            ),
            "labelled": int((q("SELECT count(*) FROM labels").fetchone() or (0,))[0]),
        }

    # -- brands --------------------------------------------------------------------------
    def save_brands(self, brands: dict[str, Brand]) -> None:
        with self.transaction() as con:
            for b in brands.values():
                config = {
                    "name": b.name,
                    "handles": list(b.handles),
                    "keywords": list(b.keywords),
                    "hashtags": list(b.hashtags),
                    "regions": list(b.regions),
                    "peers": list(b.peers),
                    **dict(b.extra),
                }
                con.execute(
                    "INSERT OR REPLACE INTO brands VALUES ($id, $name, $config)",
                    {"id": b.id, "name": b.name, "config": json.dumps(config)},
                )

    def load_brands(self) -> dict[str, Brand]:
        from uproar.config import parse_brands

        rows = self._con.execute("SELECT id, config FROM brands ORDER BY id").fetchall()
        if not rows:
            return {}
        return parse_brands(
            {"brands": {i: json.loads(c) for i, c in rows}}, source=f"{self.path}:brands"
        )

    # -- live streams --------------------------------------------------------------------
    def save_cursor(self, source: str, cursor: int, *, now: datetime) -> None:
        self._con.execute(
            "INSERT OR REPLACE INTO stream_cursors VALUES ($source, $cursor, $now)",
            {"source": source, "cursor": cursor, "now": naive_utc(now)},
        )

    def load_cursor(self, source: str) -> int | None:
        row = self._con.execute(
            "SELECT cursor FROM stream_cursors WHERE source = $source", {"source": source}
        ).fetchone()
        return int(row[0]) if row else None

    # -- labels --------------------------------------------------------------------------
    def save_labels(self, batch: pa.Table) -> int:
        """Upsert labels (columns as in the ``labels`` table)."""
        return self._insert("labels", batch, on_conflict="REPLACE")
