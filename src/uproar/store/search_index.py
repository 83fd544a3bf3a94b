"""The Search page's word index: which words occur in posts made when.

DuckDB's ``fts`` extension is not in the wheel (``INSTALL fts`` downloads it), so Uproar keeps
its own inverted index, built from the stored posts as they arrive:

- ``search_postings``: for each word, the ``created_at`` times of the posts that contain it
  (one row per word and indexing batch; ``compact`` merges the batches into one row a word).
- ``search_docs``: the posts indexed so far (platform, id, ingested_at), so no post is indexed
  twice; ``search_index`` (one row) counts them and keeps the newest ``ingested_at`` read.

A word is a maximal run of characters that are neither white space nor ASCII punctuation,
of the lower-cased text (DuckDB's ``lower``, the one its ``ILIKE`` folds case with). So for a
searched term (a word or a phrase), every such run of the lower-cased term lies inside one
word of any post whose text contains the term: the posts of the words that contain the run
are a superset of the posts that match, and the search checks each one with ``ILIKE`` as
before (``store/search.py``). The index only narrows the posts read; what matches is the same.

Catching up (``index_posts``) reads the posts ingested since the watermark that are not yet
in ``search_docs``; when that does not account for every post (a drill releases posts with
older ``ingested_at`` times), it takes every post not yet indexed. It works in batches of
``BATCH`` posts, each one transaction that also claims the ``search_index`` row: two
threads that catch up at once conflict on that row, and the second waits for the first
rather than indexing the same posts again. An older store gains the tables when it is opened
for writing and is indexed on first use.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from uproar.store.store import Store

# White space and ASCII punctuation (!"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~) split words.
SEPARATORS = r"[\s!-/:-@\[-`{-~]+"


def _words_of(text: str) -> str:
    """The SQL expression for the words of the SQL expression ``text``."""
    return f"list_filter(regexp_split_to_array(lower({text}), '{SEPARATORS}'), lambda w: w <> '')"


BATCH = 100_000  # posts per indexing transaction: bounds the memory a catch-up takes
CLAIM_WAIT_SECONDS = 120.0
_STATE = "posts"

_TODO = """
SELECT p.platform, p.id, p.created_at, p.text, p.ingested_at
FROM posts p
WHERE {since}NOT EXISTS (
    SELECT 1 FROM search_docs d
    WHERE {docs_since}d.platform = p.platform AND d.id = p.id)
LIMIT $batch
"""
_POSTINGS = f"""
INSERT INTO search_postings
SELECT word, list_sort(list(DISTINCT created_at)) AS times
FROM (SELECT created_at, unnest({_words_of("text")}) AS word FROM todo)
GROUP BY word ORDER BY word
"""


def has_index(store: Store) -> bool:
    return store.has_table("search_index")


def indexed(store: Store) -> bool:
    """Whether every stored post is in the index (cheap: two counts)."""
    if not has_index(store):
        return False
    row = store.connection.execute(
        "SELECT (SELECT count(*) FROM posts), (SELECT posts FROM search_index WHERE name = $n)",
        {"n": _STATE},
    ).fetchall()
    return bool(row) and row[0][1] is not None and int(row[0][0]) == int(row[0][1])


def index_posts(
    store: Store,
    *,
    batch: int = BATCH,
    wait: float = CLAIM_WAIT_SECONDS,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Index the posts stored since the last catch-up; returns how many were indexed here.
    ``stop`` is asked after each batch (a dashboard starting on a large older store stops
    when a watch asks for the file; the next search carries on). A store opened read-only
    is left as it is (its searches read every post)."""
    if store.read_only or not has_index(store) or indexed(store):
        return 0
    con = store.connection
    done = 0
    deadline = time.monotonic() + wait
    while True:
        try:
            added = _one_batch(con, batch)
        except duckdb.TransactionException:
            # another thread is indexing (it holds the row): wait for it, then look again
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
            continue
        if added == 0:
            break
        done += added
        if stop is not None and stop():
            break
    if done:
        _compact_if_fragmented(con)
    return done


def _one_batch(con: duckdb.DuckDBPyConnection, batch: int) -> int:
    con.execute("BEGIN TRANSACTION")
    try:
        # Claims the row: a second writer conflicts here, before reading what to index.
        _run(con, "UPDATE search_index SET posts = posts WHERE name = $n", {"n": _STATE})
        row = con.execute(
            """SELECT (SELECT count(*) FROM posts), posts, watermark FROM search_index
               WHERE name = $n""",
            {"n": _STATE},
        ).fetchall()
        total, have, watermark = int(row[0][0]), int(row[0][1]), row[0][2]
        if total == have:
            con.execute("ROLLBACK")
            return 0
        todo = None
        if watermark is not None:
            since = "p.ingested_at >= $w AND "
            todo = con.sql(
                _TODO.format(since=since, docs_since=since.replace("p.", "d.")),
                params={"w": watermark, "batch": batch},
            ).to_arrow_table()
            if todo.num_rows == 0:
                todo = None  # posts older than the watermark arrived (a drill): look at all
        if todo is None:
            todo = con.sql(
                _TODO.format(since="", docs_since=""), params={"batch": batch}
            ).to_arrow_table()
        if todo.num_rows == 0:  # counts disagree but nothing is missing: posts were removed
            _run(
                con,
                "UPDATE search_index SET posts = $t WHERE name = $n",
                {"t": total, "n": "posts"},
            )
            con.execute("COMMIT")
            return 0
        con.register("todo", todo)
        try:
            _run(con, "INSERT INTO search_docs SELECT platform, id, ingested_at FROM todo")
            _run(con, _POSTINGS)
            _run(
                con,
                """UPDATE search_index
                   SET posts = posts + $added,
                       watermark = greatest(coalesce(watermark, $newest), $newest)
                   WHERE name = $n""",
                {"added": todo.num_rows, "newest": _newest(todo), "n": _STATE},
            )
        finally:
            con.unregister("todo")
        con.execute("COMMIT")
        return int(todo.num_rows)
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a failed statement may have ended it
            con.execute("ROLLBACK")
        raise


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> None:
    """A statement whose result is not needed, read to its end (DuckDB 2 wants each result
    finished before the next statement on a connection)."""
    con.execute(sql, params or {}).fetchall()


def _newest(todo: Any) -> datetime:
    import pyarrow.compute as pc

    value = pc.max(todo.column("ingested_at")).as_py()
    assert isinstance(value, datetime)
    return value


def _compact_if_fragmented(con: duckdb.DuckDBPyConnection) -> None:
    """Merge the batches' rows into one row a word once there are more than twice as many
    rows as words at the last merge (so a lookup reads about one row a word)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM search_postings), vocabulary FROM search_index "
        "WHERE name = $n",
        {"n": _STATE},
    ).fetchall()
    if not row or int(row[0][0]) <= 2 * int(row[0][1]) + 50_000:
        return
    try:
        con.execute("BEGIN TRANSACTION")
        _run(con, "UPDATE search_index SET posts = posts WHERE name = $n", {"n": _STATE})
        _run(
            con,
            """CREATE TEMP TABLE merged AS
               SELECT term, list_sort(list_distinct(flatten(list(times)))) AS times
               FROM search_postings GROUP BY term ORDER BY term""",
        )
        _run(con, "DELETE FROM search_postings")
        _run(con, "INSERT INTO search_postings SELECT * FROM merged ORDER BY term")
        _run(
            con,
            """UPDATE search_index SET vocabulary = (SELECT count(*) FROM merged)
               WHERE name = $n""",
            {"n": _STATE},
        )
        _run(con, "DROP TABLE merged")
        con.execute("COMMIT")
    except duckdb.TransactionException:
        con.execute("ROLLBACK")  # another thread merges or indexes: it will merge later


def words(store: Store, terms: tuple[str, ...]) -> list[list[str]]:
    """Each term's words, as the index splits text (none for a term of punctuation only)."""
    if not terms:
        return []
    row = store.connection.execute(
        f"SELECT list_transform($terms, lambda t: {_words_of('t')})",
        {"terms": list(terms)},
    ).fetchall()
    return [list(w) for w in (row[0][0] if row else [])]


def rarest_word(store: Store, terms: tuple[str, ...]) -> tuple[str, int] | None:
    """The word of ``terms`` found in the fewest posts' times (the words of the index that
    contain it, summed), with that count; None when no term has a word."""
    found = sorted({w for ws in words(store, terms) for w in ws}, key=lambda w: (-len(w), w))
    best: tuple[str, int] | None = None
    for word in found:  # longest first: usually the rarest, and a word in no post ends it
        rows = store.connection.execute(
            """SELECT coalesce(sum(len(times)), 0) FROM search_postings
               WHERE contains(term, $w)""",
            {"w": word},
        ).fetchall()
        count = int(rows[0][0]) if rows else 0
        if best is None or count < best[1]:
            best = (word, count)
        if count == 0:
            break
    return best


def times_with(store: Store, word: str, *, since: datetime, until: datetime) -> list[datetime]:
    """The distinct times in ``[since, until)`` of the posts with a word containing
    ``word``, newest first (naive UTC, as stored)."""
    rows = store.connection.execute(
        """SELECT DISTINCT t FROM (
               SELECT unnest(times) AS t FROM search_postings WHERE contains(term, $w))
           WHERE t >= $since AND t < $until ORDER BY t DESC""",
        {"w": word, "since": since, "until": until},
    ).fetchall()
    return [r[0] for r in rows]
