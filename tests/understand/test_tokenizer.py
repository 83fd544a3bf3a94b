"""The tokenizer (``scan.py``'s numpy passes) gives exactly the tokens of the plain chain of
Arrow regex replacements it replaced, kept here as the oracle: on arbitrary text and on
URL, mention and apostrophe soup (property-based), and on the shared data sets' posts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.understand.chars import contains
from uproar.understand.features import SYMBOL, tokenize

ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"))


def regex_clean(texts: pa.StringArray) -> pa.StringArray:
    """The tokenizer's cleaning as a chain of Arrow (RE2) regex passes: the oracle."""
    s = pc.utf8_lower(texts)
    for entity, char in ENTITIES:
        s = pc.replace_substring(s, entity, char)
    s = pc.replace_substring_regex(s, r"(?:https?://|www\.)\S+", " http ")
    s = pc.replace_substring_regex(s, r"@\w+", " @user ")
    s = pc.replace_substring_regex(s, "\u2019", "'")
    s = pc.replace_substring_regex(s, f"({SYMBOL})", r" \1 ")
    return pc.replace_substring_regex(s, r"(^|\s)'+|'+(\s|$)", r"\1 \2")


def regex_tokens(texts: list[str]) -> tuple[list[str], list[int]]:
    arr = pa.array(texts, pa.string())
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(regex_clean(arr)))
    values, rows = [], []
    for row, toks in enumerate(lists.to_pylist()):
        kept = [t for t in toks if t]
        values += kept
        rows += [row] * len(kept)
    return values, rows


def assert_same_tokens(batch: list[str]) -> None:
    tokens = tokenize(batch)
    tokens.values.validate(full=True)
    values, rows = regex_tokens(batch)
    assert tokens.values.to_pylist() == values
    assert tokens.rows.tolist() == rows
    assert tokens.lengths.tolist() == np.bincount(rows, minlength=len(batch)).tolist()


# Real posts' characters plus the awkward ones: odd spaces, controls, emoji sequences.
AWKWARD = " \t\n\x0b\x0c\r\x1c\x85\xa0\u2028\u3000'’#@_!?.:/-&;😡🏴\U000e0067\u200d\u0301é日"
chars = st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD))
text = st.text(alphabet=chars, max_size=40)
# Pieces that make the rules meet: URLs, mentions, apostrophes, entities, spaces, symbols.
PIECES = (
    "http://", "https://", "HTTP://", "www.", "wwww.", "http:/", "https", "@", "@@", "'", "''",
    "’", " ", "  ", "\t", "\x0b", "\xa0", "\u3000", "\n", "a", "B", "7", "_", "#", "x.y", "!",
    ".", ":", "/", "😡", "é", "&amp;", "&#39;", "&lt;", "don't", "it's", "@user", "t.co/x",
    "x' ", "' '", " 'y",
)  # fmt: skip
soup = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(text, max_size=8))
def test_tokenize_matches_the_regex_chain(batch: list[str]) -> None:
    assert_same_tokens(batch)


@settings(max_examples=600, deadline=None)
@given(batch=st.lists(soup, max_size=8))
def test_tokenize_matches_the_regex_chain_on_urls_mentions_and_quotes(batch: list[str]) -> None:
    assert_same_tokens(batch)


@pytest.mark.parametrize(
    "text",
    [
        "x' 'y",  # the first run takes the space between, so the second stays: "'y"
        "x'' '' 'y",
        "' 'y",
        "a' ' b",
        "x'\x0b'y",
        "'@a' '#b'",
        "@userhttp://x.com/@me it's",
        "@http://x",
        "a@b@c @@d @_ @é",
        "http:// x https:// www. wwww.x see:http://a.b/'c'",
        "HTTPS://X.COM/ABC’S’ &#39;quoted&#39;",
        "don’t ‘single’ '' ''' '",
    ],
)
def test_tokenize_edge_cases(text: str) -> None:
    assert_same_tokens([text, text.upper(), f"{text} {text}"])


def test_tokenize_a_sliced_array() -> None:
    arr = pa.array(["x @a", "don't 'stop' www.x.com!", "", "😡😡 'q"], pa.string())
    for start in range(4):
        part = arr.slice(start, 2)
        tokens = tokenize(part)
        assert tokens.values.to_pylist() == regex_tokens(part.to_pylist())[0]


def shared_texts(data: Path) -> list[str]:
    """Posts from TweetEval (every task and split), the complaints set and TWCS."""
    texts: list[str] = []
    for path in sorted((data / "tweeteval").glob("*/*_text.txt")):
        texts += path.read_text(encoding="utf-8").splitlines()
    with (data / "complaints" / "complaints-data.csv").open(encoding="utf-8") as fh:
        texts += [row[1] for row in csv.reader(fh) if len(row) > 1]
    with (data / "twcs" / "twcs_head.csv").open(encoding="utf-8") as fh:
        texts += [row["text"] for row in csv.DictReader(fh) if row["text"] is not None]
    return texts


def test_tokenize_matches_the_regex_chain_on_real_posts(shared_data: Path) -> None:
    texts = shared_texts(shared_data)
    assert len(texts) > 40_000
    for start in range(0, len(texts), 6000):  # the ingest workers' batch size
        assert_same_tokens(texts[start : start + 6000])


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(text, max_size=8), start=st.integers(0, 2))
def test_contains_is_the_regex_match(batch: list[str], start: int) -> None:
    arr = pa.array(["x"] * start + batch, pa.string()).slice(start)
    for char_class in (r"\pL", SYMBOL):
        expected = pc.match_substring_regex(arr, char_class).to_pylist()
        assert contains(arr, char_class).tolist() == expected
