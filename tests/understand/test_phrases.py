"""Phrase look-ups over shared distinct n-grams agree with joining every n-gram and
matching it, for phrases of every length (property-based)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.understand.features import PhraseTable, Vocabulary, tokenize, vocabulary_hits

WORDS = ("no", "internet", "again", "down", "not", "working", "is", "it", "😡", "?", "@acme")
texts = st.lists(
    st.lists(st.sampled_from(WORDS), max_size=9).map(" ".join), min_size=0, max_size=12
)
phrases = st.lists(
    st.tuples(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join),
              st.integers(0, 3)),
    min_size=1,
    max_size=12,
)  # fmt: skip


def naive_hits(batch: list[str], table: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """(row, id) of every occurrence, by joining each k-gram of each text's tokens."""
    tokens = tokenize(batch)
    keys: dict[str, list[int]] = {}
    for phrase, ident in table:
        toks = tokenize([phrase]).values.to_pylist()
        if toks:
            ids = keys.setdefault(" ".join(toks), [])
            if ident not in ids:
                ids.append(ident)
    per_row: list[list[str]] = [[] for _ in batch]
    for row, value in zip(tokens.rows.tolist(), tokens.values.to_pylist(), strict=True):
        per_row[row].append(value)
    found = []
    for row, toks in enumerate(per_row):
        for k in {key.count(" ") + 1 for key in keys}:
            for at in range(len(toks) - k + 1):
                found += [(row, i) for i in keys.get(" ".join(toks[at : at + k]), [])]
    return sorted(found)


@settings(max_examples=80, deadline=None)
@given(batch=texts, table=phrases)
def test_phrase_hits_match_joining_every_ngram(
    batch: list[str], table: list[tuple[str, int]]
) -> None:
    rows, ids = PhraseTable(table).hits(tokenize(batch))
    assert sorted(zip(rows.tolist(), ids.tolist(), strict=True)) == naive_hits(batch, table)


@settings(max_examples=50, deadline=None)
@given(batch=texts)
def test_ngrams_and_vocabulary_hits_match_joined_tokens(batch: list[str]) -> None:
    tokens = tokenize(batch)
    values, rows = tokens.values.to_pylist(), tokens.rows
    for k in (2, 3):
        grams, gram_rows = tokens.ngrams(k)
        starts = [i for i in range(len(values) - k + 1) if rows[i] == rows[i + k - 1]]
        assert grams.to_pylist() == [" ".join(values[i : i + k]) for i in starts]
        assert gram_rows.tolist() == [int(rows[i]) for i in starts]
    words = sorted({" ".join(values[i : i + 2]) for i in range(len(values) - 1)} | set(values))

    vocab = pa.array(words[::2], pa.string())
    by_index = vocabulary_hits(tokens, Vocabulary(vocab), (1, 2))
    by_array = vocabulary_hits(tokens, vocab, (1, 2))
    assert all(np.array_equal(a, b) for a, b in zip(by_index, by_array, strict=True))
