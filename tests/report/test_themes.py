"""Themes a person would recognise, on real customer messages (TWCS, ../shared/data) and on
the demo's incident: no label names a handle, a brand or a stop word, and every theme's
examples carry one of its label's words."""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from uproar.config import load_brands
from uproar.report.incident import _brand_words, shown_themes
from uproar.store import Store
from uproar.understand import TopicCluster, discover_topics

from .conftest import Stored

pytestmark = pytest.mark.slow

# ../shared/data beside the repository, found from the repository root
TWCS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "twcs" / "twcs_head.csv"
GENERIC = {"help", "support", "cares", "care", "service", "team"}


def twcs() -> tuple[list[str], set[str]]:
    """Customer messages, and the words that name the brands they were written to."""
    with TWCS.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows if r["inbound"] == "True"]
    names: set[str] = set()
    for handle in {r["author_id"] for r in rows if r["inbound"] == "False"}:
        names.add(handle.lower())
        parts = re.findall(r"[A-Z][a-z]+|[a-z]+", handle)  # AppleSupport -> Apple, Support
        names.update(p.lower() for p in parts if p.lower() not in GENERIC and len(p) > 2)
    return texts, names


def assert_recognisable(
    themes: Sequence[TopicCluster], texts: Sequence[str], names: Collection[str]
) -> None:
    assert themes
    for theme in themes:
        words = {w for term in theme.terms[:3] for w in term.split()}
        assert not words & set(names), (theme.label, words & set(names))
        assert not words & ENGLISH_STOP_WORDS, theme.label
        assert not any(w.startswith("@") for w in words), theme.label
        assert theme.examples, theme.label
        for example in theme.examples:
            assert any(w in example.lower() for w in words), (theme.label, example)
        assert -1.0 <= theme.coherence <= 1.0


def test_themes_in_real_customer_messages() -> None:
    texts, names = twcs()
    themes = shown_themes(discover_topics(texts, seed=0, exclude=names))
    assert_recognisable(themes, texts, names)
    assert len(themes) >= 5 and sum(t.size for t in themes) > len(texts) / 3


def test_themes_in_the_demo_incident(simulated_store: Stored) -> None:
    brands = load_brands(simulated_store.brands)
    names = set().union(*(_brand_words(b) for b in brands.values()))
    with Store(simulated_store.db, read_only=True) as store:
        start, end = store.connection.execute(
            "SELECT start, \"end\" FROM incidents WHERE id = ?", [simulated_store.incident]
        ).fetchone() or (None, None)
        texts = [
            r[0]
            for r in store.connection.execute(
                """SELECT text FROM posts WHERE list_contains(brands, 'kiwinet')
                   AND own_brand IS NULL AND created_at >= ? AND created_at < ?""",
                [start, end],
            ).fetchall()
        ]
    themes = discover_topics(texts[:: max(1, len(texts) // 3000)], seed=0, exclude=names)
    assert_recognisable(shown_themes(themes), texts, names)
