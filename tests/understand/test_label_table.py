"""label_table: the ingest contract, stored with Store.save_labels in a real DuckDB."""

from __future__ import annotations

import math

import pyarrow as pa

from uproar.store import Store
from uproar.understand import LABELS_SCHEMA, Classifier, label_table


def posts() -> pa.Table:
    return pa.table(
        {
            "platform": ["x", "x", "mastodon", "bluesky"],
            "id": ["1", "2", "3", "at://did:plc:abc/app.bsky.feed.post/4"],
            "text": [
                "great job @acme, third outage this week",
                "love it",
                None,
                "sin internet otra vez",
            ],
            "author_followers": pa.array([99, None, 0, 1_000_000], type=pa.int64()),
            "like_count": [9, 0, 0, 1000],
            "repost_count": [0, 0, 0, 500],
            "reply_count": [0, 0, 0, 0],
            "lang": ["en", None, "und", "pt"],
        }
    )


def test_columns_match_the_store(store: Store) -> None:
    table = label_table(posts())
    assert table.schema == LABELS_SCHEMA
    cols = [r[0] for r in store.connection.execute("DESCRIBE labels").fetchall()]
    assert table.column_names == cols
    assert store.save_labels(table) == 4
    rows = store.connection.execute(
        "SELECT id, complaint, sentiment, topics, language, sarcasm, model FROM labels ORDER BY id"
    ).fetchall()
    assert rows[0] == ("1", True, "negative", ["no_connection"], "en", True, "fast")
    assert rows[2][0] == "3" and rows[2][2] == "neutral"


def test_reach_and_language_preference() -> None:
    table = label_table(posts()).to_pydict()
    assert math.isclose(table["reach"][0], math.log10(100) + math.log10(10))
    assert table["reach"][1] == 0.0
    assert math.isclose(table["reach"][3], 6.0 + math.log10(2001), rel_tol=1e-6)
    # The platform's tag wins; "und" or missing falls back to detection.
    assert table["language"] == ["en", "en", None, "pt"]


def test_accurate_model_column(accurate: Classifier) -> None:
    table = accurate.label_table(posts())
    assert set(table.column("model").to_pylist()) == {"accurate"}


def test_empty_batch() -> None:
    empty = posts().slice(0, 0)
    table = label_table(empty)
    assert table.num_rows == 0 and table.schema == LABELS_SCHEMA
