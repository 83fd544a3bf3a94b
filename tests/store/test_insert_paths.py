"""The insert path ingest uses: plain INSERT for fresh posts, and DuckDB's thread setting."""

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


def test_threads_are_restored(store: Store) -> None:
    def threads() -> int:
        row = store.connection.execute("SELECT current_setting('threads')").fetchone()
        assert row is not None
        return int(row[0])

    before = threads()
    with store.threads(1):
        assert threads() == 1
    assert threads() == before
    with pytest.raises(RuntimeError), store.threads(1):
        raise RuntimeError("the block failed")
    assert threads() == before
