"""The insert path ingest uses: plain INSERT for fresh posts, raw as JSON, and DuckDB's
threads and memory while parse workers share the machine."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from uproar.store import Store
from uproar.store.store import DuplicatePostsError


def posts(*ids: str) -> pa.Table:
    return pa.table(
        {
            "platform": ["x"] * len(ids),
            "id": list(ids),
            "created_at": [datetime(2014, 9, 6, 8, 0)] * len(ids),
            "text": ["@KiwiNet down?"] * len(ids),
            "author_id": ["1"] * len(ids),
            "ingested_at": [datetime(2026, 1, 1)] * len(ids),
            "raw": ['{"data":{}}'] * len(ids),
        }
    )


def test_fresh_posts_go_in_and_a_stored_one_voids_the_transaction(store: Store) -> None:
    with store.transaction():
        assert store.insert_fresh_posts(posts("1", "2")) == 2
    with pytest.raises(DuplicatePostsError), store.transaction():
        store.insert_fresh_posts(posts("3", "2"))
    assert store.count_posts() == 2  # "3" was rolled back with the rest
    with store.transaction():
        new = store.insert_posts_returning(posts("3", "2"), ("platform", "id"))
    assert new.column("id").to_pylist() == ["3"]


def test_a_batch_holding_one_post_twice_is_refused(store: Store) -> None:
    with pytest.raises(DuplicatePostsError), store.transaction():
        store.insert_fresh_posts(posts("7", "7"))
    assert store.count_posts() == 0


def settings(store: Store) -> tuple[int, str]:
    row = store.connection.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')"
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


@pytest.mark.parametrize(("own", "inside"), [("512MB", "244.1 MiB"), ("100MB", "95.3 MiB")])
def test_sharing_caps_threads_and_memory_then_restores_them(own: str, inside: str) -> None:
    with Store(":memory:", memory_limit=own) as store:
        before = settings(store)
        with store.sharing(threads=1, memory="256MB"):
            assert settings(store) == (1, inside)  # never above the store's own cap
        assert settings(store) == before
        for _ in range(3):  # restored exactly, not drifting with DuckDB's rounding
            with pytest.raises(RuntimeError), store.sharing(threads=1, memory="256MB"):
                raise RuntimeError("the block failed")
        assert settings(store) == before


def test_raw_is_stored_as_the_json_it_was(store: Store) -> None:
    batch = posts("1", "2").set_column(6, "raw", pa.array(['{"a":"caf\\u00e9"}', "[1,2]"]))
    with store.transaction():
        assert store.insert_fresh_posts(batch) == 2
    rows = store.connection.execute(
        "SELECT typeof(raw), raw, raw->>'$.a' FROM posts ORDER BY id"
    ).fetchall()
    assert rows == [("JSON", '{"a":"caf\\u00e9"}', "café"), ("JSON", "[1,2]", None)]
