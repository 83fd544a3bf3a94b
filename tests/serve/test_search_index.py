"""The word index behind Search: it gives the same posts as reading every post with ILIKE,
catches up with posts stored later (older ``ingested_at`` times too) without indexing any
post twice, even when two threads catch up at once, and older stores gain it."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.store import Store, search_index
from uproar.store.search import INDEX_TIMES, search_posts
from uproar.store.store import POST_COLUMNS

WORDS = ["KiwiNet", "outage", "Outages", "down", "again", "#fail", "100%", "e-mail",
         "don't", "Ärger", "ÉCHEC", "straße", "İstanbul", "wifi…", "😂", "__init__", "a_b",
         "x%y"]  # fmt: skip
START = datetime(2014, 9, 6, 10)


def add_posts(store: Store, texts: list[str], *, first: int = 0, ingested: datetime) -> None:
    schema = store.connection.sql("FROM posts LIMIT 0").to_arrow_table().schema
    rows = []
    for n, text in enumerate(texts, start=first):
        row: dict[str, object] = {c: None for c in POST_COLUMNS}
        # several posts a second: the index keeps times, and a time holds many posts
        row.update(platform="x", id=f"p{n}", created_at=START + timedelta(seconds=n // 3),
                   text=text, author_id=f"a{n}", brands=["kiwinet"],
                   ingested_at=ingested)  # fmt: skip
        rows.append(row)
    store.insert_posts(pa.Table.from_pylist(rows, schema=schema))


def texts(rng: random.Random, count: int) -> list[str]:
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) + rng.choice(["", ".", "!"])
        for _ in range(count)
    ]


def plain(store: Store, terms: tuple[str, ...]) -> list[str]:
    """Every post read, each term matched with ILIKE (the search without the index)."""
    rows = store.connection.execute(
        """SELECT id FROM posts
           WHERE list_bool_and(list_transform($patterns, lambda q: text ILIKE q ESCAPE '\\'))
           ORDER BY created_at DESC, platform, id""",
        {"patterns": [search_index_pattern(t) for t in terms]},
    ).fetchall()
    return [r[0] for r in rows]


def search_index_pattern(term: str) -> str:
    from uproar.store.search import like_pattern

    return like_pattern(term)


def queries(rng: random.Random, corpus: list[str]) -> list[tuple[str, ...]]:
    """Whole words, pieces of words and phrases cut from posts, in any case, and words in
    no post."""
    out: list[tuple[str, ...]] = [("zqxjv",), ("%",), ("_",), ("down again",), ("ß",)]
    for _ in range(60):
        text = rng.choice(corpus)
        a = rng.randrange(len(text))
        b = rng.randint(a + 1, min(len(text), a + 12))
        piece = text[a:b].strip() or text
        piece = piece.upper() if rng.random() < 0.3 else piece
        out.append((piece,) if rng.random() < 0.6 else (piece, rng.choice(WORDS)))
    return out


def test_the_index_finds_what_reading_every_post_finds() -> None:
    rng = random.Random(15)
    corpus = texts(rng, 900)
    with Store() as store:
        add_posts(store, corpus, ingested=START)
        assert search_index.index_posts(store, batch=250) == 900  # several batches
        assert search_index.indexed(store)
        for terms in queries(rng, corpus):
            expected = plain(store, terms)
            rarest = search_index.rarest_word(store, terms)
            if rarest is not None:  # the index path is the one taken
                assert rarest[1] <= INDEX_TIMES
            for limit, offset in ((50, 0), (7, 3), (50, 50)):
                found = [r["id"] for r in search_posts(store, terms=terms, limit=limit,
                                                       offset=offset)]  # fmt: skip
                assert found == expected[offset : offset + limit], terms


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=12), st.data())
def test_any_text_and_term_give_the_same_posts(corpus: list[str], data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(corpus))
    a = data.draw(st.integers(0, len(text) - 1))
    term = data.draw(st.sampled_from([text[a:], text[a : a + 3], text.swapcase(), "zq"]))
    if not term.strip() or '"' in term:
        return
    with Store() as store:
        add_posts(store, corpus, ingested=START)
        search_index.index_posts(store)
        found = [r["id"] for r in search_posts(store, terms=(term.strip(),), limit=100)]
        assert found == plain(store, (term.strip(),))


def test_posts_stored_later_are_indexed_once_older_ingest_times_too() -> None:
    rng = random.Random(3)
    with Store() as store:
        add_posts(store, texts(rng, 200), ingested=START + timedelta(hours=2))
        # asked to stop (a watch wants the file), it stops after a batch; later it carries on
        assert search_index.index_posts(store, batch=50, stop=lambda: True) == 50
        assert search_index.index_posts(store) == 150
        assert search_index.index_posts(store) == 0  # nothing new: nothing done
        add_posts(store, ["a brand new zebra word"], first=200, ingested=START + timedelta(hours=3))
        # a drill releases posts ingested before the watermark
        add_posts(store, ["an old zebra from the drill"], first=201, ingested=START)
        assert not search_index.indexed(store)
        assert search_index.index_posts(store) == 2
        docs = store.connection.execute(
            "SELECT count(*), count(DISTINCT (platform, id)) FROM search_docs"
        ).fetchall()
        assert docs == [(202, 202)]
        found = {r["id"] for r in search_posts(store, terms=("zebra",))}
        assert found == {"p200", "p201"}


def test_two_threads_catching_up_at_once_index_each_post_once(tmp_path: Path) -> None:
    rng = random.Random(4)
    with Store(tmp_path / "u.duckdb") as store:
        add_posts(store, texts(rng, 3000), ingested=START)
        views = [store.for_thread() for _ in range(3)]
        counts: list[int] = []
        threads = [
            threading.Thread(
                target=lambda v=v: counts.append(search_index.index_posts(v, batch=500))
            )
            for v in views
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for v in views:
            v.close_thread()
        assert sum(counts) == 3000
        rows = store.connection.execute(
            "SELECT count(*), count(DISTINCT (platform, id)) FROM search_docs"
        ).fetchall()
        assert rows == [(3000, 3000)]


def test_an_older_store_gains_the_index_and_is_indexed_on_first_use(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with Store(db) as store:
        add_posts(store, ["an outage in Wellington", "all fine"], ingested=START)
        for table in ("search_index", "search_docs", "search_postings"):
            store.connection.execute(f"DROP TABLE {table}")  # as a store made before them
    with Store(db, read_only=True) as old:
        assert not search_index.has_index(old)
        # read-only, it cannot be indexed: the search reads every post
        assert [r["id"] for r in search_posts(old, terms=("outage",))] == ["p0"]
    with Store(db) as store:  # opened for writing: the tables are added
        assert search_index.has_index(store) and not search_index.indexed(store)
        assert search_index.index_posts(store) == 2
        assert [r["id"] for r in search_posts(store, terms=("wellington",))] == ["p0"]
