"""label_table: the ingest contract, stored with Store.save_labels in a real DuckDB."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

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
    # No brand with an industry: every pack's topics ("outage" is in three packs).
    assert rows[0][:3] == ("1", True, "negative") and rows[0][4:] == ("en", True, "fast")
    assert "no_connection" in rows[0][3]
    assert rows[2][0] == "3" and rows[2][2] == "neutral"


def test_reach_and_language_preference() -> None:
    table = label_table(posts()).to_pydict()
    assert math.isclose(table["reach"][0], math.log10(100) + math.log10(10))
    assert table["reach"][1] == 0.0
    assert math.isclose(table["reach"][3], 6.0 + math.log10(2001), rel_tol=1e-6)
    # X's tag is X's own detection and stands; missing or "und" falls back to the text, as
    # does Bluesky's tag, which the poster's app sets ("pt" on a Spanish post).
    assert table["language"] == ["en", "en", None, "es"]


def tagged(platforms: list[str], tags: list[str | None], texts: list[str]) -> pa.Table:
    n = len(texts)
    return pa.table(
        {
            "platform": platforms,
            "id": [str(i) for i in range(n)],
            "text": texts,
            "lang": pa.array(tags, pa.string()),
        }
    )


def test_xs_detected_language_is_taken_and_lingua_skipped(fast: Classifier) -> None:
    """X's tag decides the language and with it the complaint rule for other languages:
    the same Spanish complaint is labelled alike whether X tagged it or the text says so."""
    texts = ["sin internet otra vez desde ayer", "this is my second outage this week"]
    by_x = fast.label_table(tagged(["x", "x"], ["es", "en-GB"], texts))
    by_text = fast.label_table(tagged(["x", "x"], [None, None], texts))
    assert by_x.column("language").to_pylist() == ["es", "en"]
    assert by_text.column("language").to_pylist() == ["es", "en"]
    assert by_x.column("complaint").to_pylist() == by_text.column("complaint").to_pylist()


@pytest.mark.parametrize(
    ("platform", "tag", "text", "language"),
    [
        ("x", "und", "my internet is down again since this morning", "en"),
        ("x", "qme", "https://t.co/abc123", None),
        ("x", "zxx", "@acme 😡😡", None),
        ("x", "qht", "#outage #acme", "en"),
        ("x", "in", "internet mati lagi", "id"),
        ("x", "iw", "אין אינטרנט", "he"),
        ("x", "PT-br", "sem internet de novo", "pt"),
        ("mastodon", "de", "my internet is down again since this morning", "en"),
        ("bluesky", "en", "Flug gestrichen ohne Info", "de"),
    ],
)
def test_which_tags_name_the_language(
    fast: Classifier, platform: str, tag: str, text: str, language: str | None
) -> None:
    """Only a platform that detects the language (X) is trusted, and only where its tag
    names one language; X's codes for none (und, qme, zxx, qht) leave it to the text."""
    table = fast.label_table(tagged([platform], [tag], [text]))
    assert table.column("language").to_pylist() == [language]


def test_accurate_model_column(accurate: Classifier) -> None:
    table = accurate.label_table(posts())
    assert set(table.column("model").to_pylist()) == {"accurate"}


def test_empty_batch() -> None:
    empty = posts().slice(0, 0)
    table = label_table(empty)
    assert table.num_rows == 0 and table.schema == LABELS_SCHEMA
