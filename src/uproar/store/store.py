"""``Store`` owns the DuckDB connection; every query binds its parameters.

Stage-specific queries live beside this file (``store/<stage>.py``) as functions that take
a ``Store``; their tables are declared in ``schema.sql``.

Sharing the file with a listener. DuckDB lets one process write a database file, or several
read it, never both at once (duckdb.org/docs/current/connect/concurrency). A listener
(``uproar listen``) holds its store for hours, so it lends the file (and says so beside it,
``<db>.lends.<pid>``): a command that finds the file locked by a listener leaves a request
beside it (``<db>.wants.<pid>``) and retries (a file locked by anything else is an error at
once); the
listener, between two commits, checkpoints and closes the file (``Store.available``), holds
new posts (and their acknowledgements) until the file is free, then takes it back. Every
command thus reads one consistent, checkpointed state of the store, and the listener loses
nothing. A future dashboard reads the same way, or lives inside the listener's process and
reads through ``Store.cursor()``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from uproar.config import Brand
from uproar.datafiles import did_you_mean
from uproar.errors import (
    ConfigError,
    DiskFullError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreMissingError,
    UnknownNameError,
)
from uproar.records import Post

POST_COLUMNS: tuple[str, ...] = (
    "platform", "id", "created_at", "text", "author_id", "author_handle", "author_name",
    "author_followers", "author_location", "lang", "reply_to_id", "conversation_id",
    "quoted_id", "reposted_id", "urls", "place", "region", "like_count", "repost_count",
    "reply_count", "brands", "own_brand", "source_file", "source_line", "ingested_at", "raw",
)  # fmt: skip


# How long a command waits for a listener to lend it the store before giving up.
LEND_WAIT_SECONDS = 30.0
_RETRY_SECONDS = 0.02


class DuplicatePostsError(StoreError):
    """``insert_fresh_posts`` met a (platform, id) that is already stored."""


# DuckDB raises IOException for most file trouble; the message tells which (duckdb 1.x-2.x).
_DUCKDB_ERRORS: tuple[tuple[re.Pattern[str], type[StoreError], str], ...] = (
    (
        re.compile(r"Could not set lock|Conflicting lock"),
        StoreLockedError,
        "the store is in use by another process{pid}; stop it, or use another --db",
    ),
    (
        re.compile(r"No space left on device|disk is full|Disk full|File too large", re.I),
        DiskFullError,
        "the disk is full; free some space and run the command again (each batch is all or "
        "nothing, so nothing half-written was kept)",
    ),
    (
        re.compile(r"database does not exist"),
        StoreMissingError,
        "no such store; create one with `uproar ingest FILE --db {path}`",
    ),
    (
        re.compile(
            r"not a valid DuckDB database|Corrupt database|checksum|Could not read enough bytes|"
            r"Serialization Error|older development version|created by a newer",
            re.I,
        ),
        StoreCorruptError,
        "not a store Uproar can read (damaged, truncated or not a DuckDB file): {detail}",
    ),
)


def map_duckdb_error(exc: duckdb.Error, path: str) -> StoreError:
    """The ``StoreError`` subclass for a DuckDB failure, with a message naming ``path``
    (the way httpx maps transport errors onto its own tree)."""
    detail = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
    pid = re.search(r"\(PID (\d+)\)", str(exc))
    for pattern, cls, message in _DUCKDB_ERRORS:
        if pattern.search(str(exc)):
            text = message.format(
                path=path, detail=detail, pid=f" (PID {pid.group(1)})" if pid else ""
            )
            return cls(f"{path}: {text}", file=path)
    return StoreError(f"{path}: {exc}", file=path)


@contextmanager
def mapped_errors(path: str) -> Iterator[None]:
    """Raise DuckDB's errors inside the block as ``StoreError`` subclasses naming ``path``."""
    try:
        yield
    except duckdb.ConstraintException:
        raise  # the callers that expect one (insert_fresh_posts) handle it
    except duckdb.Error as exc:
        raise map_duckdb_error(exc, path) from exc


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
        create: bool = True,
        wait: float = LEND_WAIT_SECONDS,
    ) -> None:
        """Open a store, creating the file unless ``create`` is False (then a missing file is
        a ``StoreMissingError``: commands that only read never leave an empty store behind).
        ``memory_limit`` (e.g. "512MB") caps DuckDB's own memory, beyond which it spills to
        disk. A file another Uproar process holds (a listener) is asked for and waited on
        for up to ``wait`` seconds. DuckDB's failures (lock held, damaged file, disk full)
        are raised as ``StoreError`` subclasses naming the file."""
        self.path = str(path)
        if (read_only or not create) and self.path != ":memory:" and not Path(path).exists():
            raise StoreMissingError(
                f"{self.path}: no such store; create one with `uproar ingest FILE --db {path}`",
                file=self.path,
            )
        self.read_only = read_only
        self._config: dict[str, str | bool | int | float | list[str]] = (
            {"memory_limit": memory_limit} if memory_limit else {}
        )
        if not read_only:
            self._config["checkpoint_threshold"] = CHECKPOINT_THRESHOLD
        self._lends: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = self._open(wait)
        if not read_only:
            schema = resources.files("uproar.store").joinpath("schema.sql").read_text()
            try:
                with mapped_errors(self.path):
                    self.connection.execute(schema)
                    from uproar.store.respond import upgrade_reply_drafts

                    upgrade_reply_drafts(self, schema)  # a key that changed (issue 15)
            except StoreError:
                self._release()
                raise

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(self.path, read_only=self.read_only, config=self._config)
        # DuckDB draws a progress bar on stdout for a query over 2 s (an ingest at scale 3),
        # which broke `uproar eval detect --json`'s output.
        con.execute("SET enable_progress_bar = false")
        return con

    def _open(self, wait: float) -> duckdb.DuckDBPyConnection:
        """Connect; while another process holds the file, ask it to lend it (see above)."""
        deadline = time.monotonic() + wait
        request: Path | None = None
        try:
            while True:
                try:
                    return self._connect()
                except duckdb.IOException as exc:
                    if not _is_lock(exc) or time.monotonic() >= deadline:
                        raise self._open_error(exc, waited=request is not None) from exc
                    if not _live(f"{self.path}.lends.*"):
                        raise self._open_error(exc, waited=False) from exc  # not a listener
                    if request is None:
                        request = _ask_to_lend(self.path)
                    time.sleep(_RETRY_SECONDS)
                except duckdb.Error as exc:
                    raise self._open_error(exc, waited=False) from exc
        finally:
            if request is not None:
                request.unlink(missing_ok=True)

    def _open_error(self, exc: duckdb.Error, *, waited: bool) -> StoreError:
        error = map_duckdb_error(exc, self.path)
        if not waited:
            return error
        hint = (
            "; another process is writing it and did not lend it (an `uproar listen` lends it "
            "between commits; other programs must be stopped first)"
        )
        return type(error)(f"{error.message}{hint}", file=self.path)

    # -- lending the file (long-running writers) ------------------------------------------
    def available(self) -> bool:
        """For a long-running writer (a listener), between two commits: lend the file to
        a command that asked for it (checkpoint and close), and take it back once every
        such command is done. True while this store holds the file and may write."""
        if self.path == ":memory:":
            return True
        if self._lends is None:  # tell commands that this process lends the file
            self._lends = Path(f"{self.path}.lends.{os.getpid()}")
            with contextlib.suppress(OSError):
                self._lends.touch()
        wanted = _live(f"{self.path}.wants.*")
        if self._con is not None:
            if not wanted:
                return True
            self._release()
            return False
        if wanted:
            return False  # the file is out; someone still waits to open it
        try:
            self._con = self._connect()
        except duckdb.IOException as exc:
            if _is_lock(exc):
                return False  # a command still has it open
            raise StoreError(f"{self.path}: cannot reopen store: {exc}", file=self.path) from exc
        return True

    def _release(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            if not self.read_only:
                # A failed checkpoint loses nothing: the WAL is replayed at the next open.
                with contextlib.suppress(duckdb.Error):
                    con.execute("CHECKPOINT")
            con.close()

    @classmethod
    @contextmanager
    def opened(
        cls,
        path: str | Path,
        *,
        create: bool = False,
        read_only: bool = False,
        memory_limit: str | None = None,
        wait: float = LEND_WAIT_SECONDS,
    ) -> Iterator[Store]:
        """The store for a block, closed after it. A store that this call created and that
        is still empty when the block fails is deleted again: a failed first ingest (a
        mistyped input file, a bad brands file) leaves no empty store behind."""
        existed = str(path) == ":memory:" or Path(path).exists()
        store = cls(
            path, create=create, read_only=read_only, memory_limit=memory_limit, wait=wait
        )
        try:
            yield store
        except BaseException:
            remove = False
            if not existed:
                with suppress(duckdb.Error):
                    remove = store.is_empty()
            with suppress(StoreError):
                store.close()
            if remove:
                for leftover in (Path(path), Path(f"{path}.wal")):
                    leftover.unlink(missing_ok=True)
            raise
        store.close()

    # -- connection ----------------------------------------------------------------------
    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The writer connection, for ``store/<stage>.py`` modules only."""
        if self._con is None:
            raise StoreError(f"{self.path}: the store is lent to another command", file=self.path)
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for a reader on another thread."""
        return self.connection.cursor()

    def for_thread(self) -> Store:
        """This store seen through a new cursor, for one reader or writer on another thread
        (a dashboard request): the ``store/<stage>.py`` queries take a ``Store``. Close it
        with ``close_thread``; it never checkpoints or closes the file."""
        view = object.__new__(Store)
        view.path, view.read_only, view._config = self.path, self.read_only, self._config
        view._lends, view._con = None, self.cursor()
        return view

    def close_thread(self) -> None:
        """Close the cursor of a ``for_thread`` view."""
        con, self._con = self._con, None
        if con is not None:
            con.close()

    def wanted(self) -> bool:
        """Whether another process asks for this file, or lends it (a listener, which
        cannot ask for it back): a long-running holder that is not a listener (the
        dashboard) then closes it between requests."""
        mine = f"{self.path}.lends.{os.getpid()}"
        return bool(_live(f"{self.path}.wants.*")) or any(
            str(p) != mine for p in _live(f"{self.path}.lends.*")
        )

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a crash inside leaves the store as it was before."""
        with mapped_errors(self.path):
            self.connection.execute("BEGIN TRANSACTION")
        try:
            yield self.connection
        except BaseException:
            with suppress(duckdb.Error):  # a failed commit may have ended it already
                self.connection.execute("ROLLBACK")
            raise
        with mapped_errors(self.path):
            self.connection.execute("COMMIT")

    @contextmanager
    def writing_through(self) -> Iterator[None]:
        """Inside the block, a commit writes its rows into the file at once (a checkpoint)
        instead of logging them to the WAL first. For an archive's last, partial batch:
        logged, its rows were written twice, to the WAL at commit and to the file at close
        (82,000 posts: 1.9 s, against 1.3 s written through)."""
        self.connection.execute("SET checkpoint_threshold = '1MB'")
        try:
            yield
        finally:
            self.connection.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")

    @contextmanager
    def sharing(self, *, threads: int, memory: str) -> Iterator[None]:
        """Inside the block, run DuckDB on ``threads`` threads and within ``memory`` (or the
        store's own cap, if lower): for a writer that shares the machine with other
        processes. Then as before."""
        con = self.connection
        row = con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit')"
        ).fetchone()
        before_threads, now = (int(row[0]), str(row[1])) if row else (1, "")
        own = self._config.get("memory_limit")
        lower = _size(memory) < _size(now)
        # SET takes no parameters: an int, and a size from this module or the caller's.
        con.execute(f"SET threads = {int(threads)}")
        if lower:
            con.execute(f"SET memory_limit = '{memory}'")
        try:
            yield
        finally:
            con.execute(f"SET threads = {before_threads}")
            if lower:
                con.execute(f"SET memory_limit = '{own}'" if own else "RESET memory_limit")

    def close(self) -> None:
        """Close the file; a writable one is checkpointed first, so that the ``.duckdb``
        file alone holds everything (no WAL left to replay)."""
        with mapped_errors(self.path):  # closing checkpoints the WAL: the disk may be full
            self._release()
        if self._lends is not None:
            self._lends.unlink(missing_ok=True)

    def is_empty(self) -> bool:
        """No posts and nothing quarantined (what a failed first ingest leaves)."""
        row = self.connection.execute(
            "SELECT (SELECT count(*) FROM posts) + (SELECT count(*) FROM quarantine)"
        ).fetchone()
        return not row or int(row[0]) == 0

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- posts ---------------------------------------------------------------------------
    def _insert(self, table: str, batch: pa.Table, *, on_conflict: str | None) -> int:
        """Insert an Arrow batch by column name; ``on_conflict`` is IGNORE, REPLACE or None
        (a plain INSERT: a conflict is an error).

        Table and column names come from this module and the stages' own schemas, never
        from input; the rows themselves travel as Arrow, not as SQL text.
        """
        if batch.num_rows == 0:
            return 0
        cols = ", ".join(batch.column_names)
        with mapped_errors(self.path), self._registered(batch) as rows:
            row = self.connection.execute(
                f"INSERT {f'OR {on_conflict} ' if on_conflict else ''}INTO {table} ({cols}) "
                f"SELECT {cols} FROM {rows}"
            ).fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def _registered(self, batch: pa.Table) -> Iterator[str]:
        """``batch`` as a view of this connection for one statement, by a name of ours
        (not DuckDB's look-up of a Python variable that happens to be called so)."""
        self.connection.register(_BATCH_VIEW, batch)
        try:
            yield _BATCH_VIEW
        finally:
            # In a transaction that the statement aborted, DuckDB refuses even this; the
            # next batch registered under the name replaces the view (and its table).
            with suppress(duckdb.Error):
                self.connection.unregister(_BATCH_VIEW)

    def insert_posts(self, batch: pa.Table) -> int:
        """Insert posts, ignoring (platform, id) already stored; returns how many were new."""
        return self._insert("posts", _raw_as_json(batch), on_conflict="IGNORE")

    def insert_fresh_posts(self, batch: pa.Table) -> int:
        """Insert posts none of which is stored yet, with a plain INSERT: it skips the
        per-row conflict handling of ``insert_posts`` (the bulk of a first ingest).

        Raises ``DuplicatePostsError`` if any (platform, id) is already stored or comes
        twice in ``batch``; DuckDB has then voided the open transaction, which must be
        rolled back (``transaction()`` does) and the batch inserted with ``insert_posts``
        or ``insert_posts_returning`` instead.
        """
        try:
            return self._insert("posts", _raw_as_json(batch), on_conflict=None)
        except duckdb.ConstraintException as exc:
            raise DuplicatePostsError(f"{self.path}: posts already stored: {exc}") from exc

    def insert_posts_returning(self, batch: pa.Table, columns: tuple[str, ...]) -> pa.Table:
        """Insert posts like ``insert_posts``; return ``columns`` of the rows that were new."""
        unknown = set(columns) - set(POST_COLUMNS)
        if unknown:
            raise StoreError(f"unknown post columns: {sorted(unknown)}")
        batch = _raw_as_json(batch)
        cols = ", ".join(batch.column_names)
        with mapped_errors(self.path), self._registered(batch) as rows:
            return self.connection.sql(
                f"INSERT OR IGNORE INTO posts ({cols}) SELECT {cols} FROM {rows} "
                f"RETURNING {', '.join(columns)}"
            ).to_arrow_table()

    def quarantine(self, batch: pa.Table) -> int:
        """Keep bad input with its file, line and reason; re-quarantining is a no-op."""
        return self._insert("quarantine", batch, on_conflict="IGNORE")

    def quarantine_reasons(self, files: list[str], *, limit: int = 3) -> list[dict[str, Any]]:
        """The commonest quarantine reasons for ``files``: kind, field, posts and one
        example reason each, most frequent first."""
        rows = self.connection.execute(
            """SELECT kind, field, count(*) AS n, min(reason) AS example FROM quarantine
               WHERE list_contains($files, source_file)
               GROUP BY kind, field ORDER BY n DESC, kind, field LIMIT $limit""",
            {"files": files, "limit": limit},
        ).fetchall()
        return [{"kind": k, "field": f, "count": int(n), "example": e} for k, f, n, e in rows]

    def last_line(self, source: str) -> int:
        """The highest line (or position) stored for ``source``, in posts or quarantine;
        0 if none. A stream's positions carry on from it, so its keys never repeat."""
        row = self.connection.execute(
            """SELECT greatest(
                   (SELECT coalesce(max(line), 0) FROM quarantine WHERE source_file = $s),
                   (SELECT coalesce(max(source_line), 0) FROM posts WHERE source_file = $s))""",
            {"s": source},
        ).fetchone()
        return int(row[0]) if row else 0

    def count_posts(self) -> int:
        row = self.connection.execute("SELECT count(*) FROM posts").fetchone()
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
        return self.connection.sql(sql, params=params).to_arrow_table()

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
        return self.connection.sql(sql, params=params).to_arrow_table()

    def stats(self) -> dict[str, Any]:
        """What is stored: counts per platform, brand, region (the 15 commonest) and day,
        and quarantine reasons."""
        q = self.connection.execute
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
            # where collections began or had gaps, as the last `uproar detect` found them
            # (none in a store no detection has written, opened read-only)
            "coverage": [
                {"brand": b, "kind": k, "since": utc(a), "until": utc(z)}
                for b, k, a, z in q(
                    'SELECT brand, kind, since, "until" FROM coverage ORDER BY since, brand'
                ).fetchall()
            ]
            if self.has_table("coverage")
            else [],
        }

    def has_table(self, name: str) -> bool:
        """Whether the store has table ``name`` (a store opened read-only keeps the tables
        of the version that wrote it)."""
        return bool(self.columns(name))

    def columns(self, table: str) -> tuple[str, ...]:
        """Table ``table``'s column names, in order (none when there is no such table)."""
        rows = self.connection.execute(
            """SELECT column_name FROM duckdb_columns()
               WHERE table_name = $t AND schema_name = 'main' ORDER BY column_index""",
            {"t": table},
        ).fetchall()
        return tuple(str(r[0]) for r in rows)

    # -- names the user types ------------------------------------------------------------
    def require_brand(self, brand: str) -> None:
        """Raise ``UnknownNameError`` (listing the known ids) unless ``brand`` is a brand of
        this store: in its brands table or on a stored post."""
        found = self.connection.execute(
            "SELECT 1 FROM brands WHERE id = $id", {"id": brand}
        ).fetchall()
        if found:
            return
        known = {
            str(r[0])
            for r in self.connection.execute(
                """SELECT id FROM brands
                   UNION SELECT DISTINCT unnest(brands) FROM posts
                   UNION SELECT DISTINCT own_brand FROM posts WHERE own_brand IS NOT NULL"""
            ).fetchall()
        }
        if brand not in known:
            raise UnknownNameError(
                "brand", brand, known, field="--brand", hint=did_you_mean(brand, known)
            )

    def require_incident(self, incident: str) -> None:
        """Raise ``UnknownNameError`` (listing the stored ids) unless the incident exists."""
        known = [str(r[0]) for r in self.connection.execute("SELECT id FROM incidents").fetchall()]
        if incident not in known:
            hint = did_you_mean(incident, known) or (
                "" if known else "; run `uproar detect` to find them"
            )
            raise UnknownNameError("incident", incident, known, field="--incident", hint=hint)

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
                    **({"industry": b.industry} if b.industry else {}),
                }
                con.execute(
                    "INSERT OR REPLACE INTO brands VALUES ($id, $name, $config)",
                    {"id": b.id, "name": b.name, "config": json.dumps(config)},
                )

    def load_brands(self) -> dict[str, Brand]:
        from uproar.config import parse_brands

        rows = self.connection.execute("SELECT id, config FROM brands ORDER BY id").fetchall()
        if not rows:
            return {}
        try:
            return parse_brands(
                {"brands": {i: json.loads(c) for i, c in rows}}, source=f"{self.path}:brands"
            )
        except ConfigError as exc:  # saved by an older Uproar that let mistakes through
            raise ConfigError(
                f"{exc.message} (the brands saved in this store: pass --brands FILE to "
                "replace them)",
                **exc.context,
            ) from None

    # -- live streams --------------------------------------------------------------------
    def save_cursor(self, source: str, cursor: int, *, now: datetime) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO stream_cursors VALUES ($source, $cursor, $now)",
            {"source": source, "cursor": cursor, "now": naive_utc(now)},
        )

    def load_cursor(self, source: str) -> int | None:
        row = self.connection.execute(
            "SELECT cursor FROM stream_cursors WHERE source = $source", {"source": source}
        ).fetchone()
        return int(row[0]) if row else None

    # -- labels --------------------------------------------------------------------------
    def save_labels(self, batch: pa.Table, *, fresh: bool = False) -> int:
        """Upsert labels (columns as in the ``labels`` table). ``fresh``: the posts were
        stored in this transaction, so none has labels yet and a plain INSERT will do
        (it skips the per-row conflict check: a third of labels' write)."""
        if not fresh:
            return self._insert("labels", batch, on_conflict="REPLACE")
        try:
            return self._insert("labels", batch, on_conflict=None)
        except duckdb.ConstraintException as exc:  # labels kept for posts that were not
            raise DuplicatePostsError(f"{self.path}: labels already stored: {exc}") from exc


_BATCH_VIEW = "uproar_batch"  # the view name an insert reads its Arrow batch from
# Checkpoint every 256 MB of WAL rather than DuckDB's 16 MB: ingest commits many batches,
# and each early checkpoint recompresses what the next one rewrites.
CHECKPOINT_THRESHOLD = "256MB"
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


def _size(text: str) -> float:
    """Bytes in a DuckDB memory size ('512MB', '488.2 MiB'); unreadable counts as no cap."""
    found = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Z]*)\s*", text)
    if not found or found.group(2).lower() not in _SIZE_UNITS:
        return float("inf")
    return float(found.group(1)) * _SIZE_UNITS[found.group(2).lower()]


def _raw_as_json(posts: pa.Table) -> pa.Table:
    """Posts whose ``raw`` text is typed as Arrow's JSON, which DuckDB stores in its JSON
    column as it is. As plain text, DuckDB parses every record again to check it (a third
    of the insert's work), though every parser writes ``raw`` as JSON (orjson, or the
    record's own bytes from a line already decoded)."""
    at = posts.schema.get_field_index("raw")
    if at < 0 or not pa.types.is_string(posts.schema.field(at).type):
        return posts
    column = posts.column(at)
    chunks = [pa.ExtensionArray.from_storage(pa.json_(), chunk) for chunk in column.chunks]
    return posts.set_column(at, "raw", pa.chunked_array(chunks, pa.json_()))


def _is_lock(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def _live(pattern: str) -> list[Path]:
    """The marks (``<db>.wants.<pid>``: a command asks for the file; ``<db>.lends.<pid>``:
    a listener lends it) of processes still running; those of processes gone are removed."""
    found = []
    head, _, tail = pattern.rpartition(".")
    for name in glob.glob(f"{glob.escape(head)}.{tail}"):
        request = Path(name)
        pid = request.suffix.lstrip(".")
        if pid.isdigit() and _alive(int(pid)):
            found.append(request)
        else:
            request.unlink(missing_ok=True)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ask_to_lend(path: str) -> Path | None:
    request = Path(f"{path}.wants.{os.getpid()}")
    with contextlib.suppress(OSError):  # a folder we cannot write in: just retry the lock
        request.touch()
        return request
    return None
