"""The fast labeller's look-ups equal their plain forms, kept here as oracles, on the
shared data sets' real posts: every phrase table's hits (in order: the sentiment model sums
lexicon valences in that order), both vocabularies' hits, and the wordless test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from uproar.understand import Classifier
from uproar.understand.chars import contains
from uproar.understand.fast import vader_table
from uproar.understand.features import PhraseTable, Tokens, tokenize, vocabulary_hits

from .test_tokenizer import shared_texts


def plain_hits(table: PhraseTable, tokens: Tokens) -> tuple[np.ndarray, np.ndarray]:
    """Every k-gram joined into a string and looked up among the table's phrases, for each
    size in turn, each match expanded into its ids."""
    rows_out, ids_out = [], []
    for k in table.sizes:
        grams, rows = tokens.ngrams(k)
        if len(grams) == 0:
            continue
        pos = pc.fill_null(pc.index_in(grams, value_set=table.keys), -1).to_numpy()
        for row, p in zip(rows[pos >= 0].tolist(), pos[pos >= 0].tolist(), strict=True):
            ids = table.flat[table.ptr[p] : table.ptr[p + 1]].tolist()
            rows_out += [row] * len(ids)
            ids_out += ids
    return np.array(rows_out, dtype=np.int64), np.array(ids_out, dtype=np.int64)


def plain_vocabulary_hits(tokens: Tokens, words: pa.StringArray) -> tuple[list[int], list[int]]:
    rows_out: list[int] = []
    cols_out: list[int] = []
    for k in (1, 2):
        grams, rows = tokens.ngrams(k)
        if len(grams) == 0:
            continue
        pos = pc.fill_null(pc.index_in(grams, value_set=words), -1).to_numpy()
        rows_out += rows[pos >= 0].tolist()
        cols_out += pos[pos >= 0].tolist()
    return rows_out, cols_out


@pytest.fixture
def batches(shared_data: Path) -> list[list[str]]:
    texts = shared_texts(shared_data)
    return [texts[i : i + 6000] for i in range(0, len(texts), 6000)]


def test_lookups_equal_their_plain_forms_on_real_posts(
    batches: list[list[str]], fast: Classifier
) -> None:
    rules = fast.rules
    tables = [vader_table()[0], rules.flags, rules.topics, rules.head_topics, rules.stopwords]
    assert rules.fast_head is not None
    vocabularies = [fast._fast.vocabulary, rules.fast_head.index]
    for batch in batches:
        tokens = tokenize(batch)
        for table in tables:
            rows, ids = table.hits(tokens)
            plain_rows, plain_ids = plain_hits(table, tokens)
            assert rows.tolist() == plain_rows.tolist()
            assert ids.tolist() == plain_ids.tolist()
        for vocab in vocabularies:
            assert vocab is not None
            rows, cols = vocabulary_hits(tokens, vocab, (1, 2))
            plain_rows, plain_cols = plain_vocabulary_hits(tokens, vocab.words)
            assert (rows.tolist(), cols.tolist()) == (plain_rows, plain_cols)
        arr = pa.array(batch, pa.string())
        expected = pc.match_substring_regex(arr, r"\pL").to_numpy(zero_copy_only=False)
        assert np.array_equal(contains(arr, r"\pL"), expected)
