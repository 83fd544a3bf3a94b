"""The tokenizer's fast passes give exactly what the plain regex chain gives, on arbitrary
text (property-based) and on the shared data sets' real posts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.understand import features
from uproar.understand.chars import isolate
from uproar.understand.features import SYMBOL, tokenize

# Real posts' characters plus the awkward ones: odd spaces, controls, emoji sequences.
AWKWARD = " \t\n\x0b\x0c\r\x1c\x85\xa0\u2028\u3000'’#@_!?.-&;😡🏴\U000e0067\u200d\u0301é日"
chars = st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD))
text = st.text(alphabet=chars, max_size=40)


def regex_clean(texts: pa.StringArray) -> pa.StringArray:
    """The tokenizer's cleaning as a chain of Arrow regex passes: the oracle."""
    s = pc.utf8_lower(texts)
    for entity, char in features._ENTITIES:
        s = pc.replace_substring(s, entity, char)
    s = pc.replace_substring_regex(s, features._URL, " http ")
    s = pc.replace_substring_regex(s, features._MENTION, " @user ")
    s = pc.replace_substring_regex(s, "\u2019", "'")
    s = pc.replace_substring_regex(s, f"({SYMBOL})", r" \1 ")
    return pc.replace_substring_regex(s, features._QUOTE_EDGE, r"\1 \2")


def regex_tokens(texts: list[str]) -> tuple[list[str], list[int]]:
    arr = pa.array(texts, pa.string())
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(regex_clean(arr)))
    values, rows = [], []
    for row, toks in enumerate(lists.to_pylist()):
        kept = [t for t in toks if t]
        values += kept
        rows += [row] * len(kept)
    return values, rows


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(text, max_size=8), start=st.integers(0, 3))
def test_isolate_is_the_regex_replacement(batch: list[str], start: int) -> None:
    arr = pa.array(["pad"] * start + batch, pa.string()).slice(start)  # a sliced array too
    got = isolate(arr, SYMBOL)
    got.validate(full=True)
    assert got.to_pylist() == pc.replace_substring_regex(arr, f"({SYMBOL})", r" \1 ").to_pylist()


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(text, max_size=8))
def test_tokenize_matches_the_regex_chain(batch: list[str]) -> None:
    tokens = tokenize(batch)
    values, rows = regex_tokens(batch)
    assert tokens.values.to_pylist() == values
    assert tokens.rows.tolist() == rows
    assert tokens.lengths.tolist() == np.bincount(rows, minlength=len(batch)).tolist()


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
        batch = texts[start : start + 6000]
        tokens = tokenize(batch)
        values, rows = regex_tokens(batch)
        assert tokens.values.to_pylist() == values
        assert tokens.rows.tolist() == rows
