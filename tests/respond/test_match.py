"""Searching a column of texts at once (RE2 where it is exact, ``regex`` elsewhere) gives
the same answer as ``pattern.search`` text by text, for every pattern the inbox uses and
for texts built to probe where RE2 and ``regex`` differ (Unicode word characters next to a
match, marks and joiners in emoji, case folding, final newlines, lookaheads)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.config import INDUSTRIES
from uproar.respond.answer import _LINK, load_pack
from uproar.respond.match import risky_texts, search_column, translate

PIECES = [
    "thanks", "thank you", "love it", "not", "still", "broken", "down", "outage", "why", "is",
    "refund", "cancelled", "flight", "app", "wifi", "scam", "hacked", "password", "lol",
    "worst", "FIX IT", "NOTHING WORKS", "?", "!", ".", " ", " ", "\n", "@brand", "#tag",
    "https://t.co/abc", "www.x.com/y", "bit.ly/z", "&amp;", "café", "é", "ñ", "Ä", "ſ",
    "\u212a", "Ⓐ", "٣", "３", "🤦\u200d♀️", "❤️", "😡", "\u0301", "ё", "日本", "ありがとう",
    "gracias", "_", "‿", "3", "2pm", "x\u200cy", "\x0b", "\x1c", "\u00a0", "\u2028",
]  # fmt: skip
TEXTS = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


def patterns() -> list[regex.Pattern[str]]:
    out = [_LINK]
    for industry in (None, *INDUSTRIES):
        pack = load_pack(industry)
        out.extend(pack.intents.values())  # themes are the understand stage's topics
    return list({p.pattern: p for p in out}.values())


PATTERNS = patterns()


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=40))
def test_a_column_search_equals_searching_each_text(texts: list[str]) -> None:
    column = pa.array(texts, pa.string())
    risky = risky_texts(column)
    for pattern in PATTERNS:
        expected = np.array([pattern.search(t) is not None for t in texts])
        got = search_column(pattern, column, risky=risky)
        assert (got == expected).all(), (
            pattern.pattern[:80],
            [t for t, g, e in zip(texts, got, expected, strict=True) if g != e],
        )


def test_only_limits_the_rows_searched() -> None:
    column = pa.array(["is it down?", "thanks!", "is it down?"])
    pattern = load_pack(None).intents["question"]
    got = search_column(
        pattern, column, risky=risky_texts(column), only=np.array([True, True, False])
    )
    assert got.tolist() == [True, False, False]


def test_risky_texts_are_those_with_non_ascii_word_characters() -> None:
    column = pa.array(["plain ascii", "emoji 😡 only", "café", "❤️", "Ⓐ", "x\u200dy", None])
    assert risky_texts(column).tolist() == [False, False, True, True, True, True, False]


def test_translation() -> None:
    assert translate(r"\bfoo\s+bar$").source == r"\bfoo[\s\x0B\x1C-\x1F]+bar(?:\n?\z)"
    assert translate(r"thanks(?! for nothing)").exact is False
    assert translate(r"(a)\1").source is None
    assert translate(r"\bfoo\b", unicode=True).source == "foo"
