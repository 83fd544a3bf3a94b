"""Columnar tokenising and phrase matching over Arrow string arrays.

Everything the fast path knows about a text goes through here: one tokenizer (lower-case,
mentions -> ``@user``, URLs -> ``http``, each punctuation mark or emoji its own token),
n-grams built by joining neighbouring tokens, and look-ups of those n-grams in a
``PhraseTable`` with Arrow's hash join (``index_in``). No Python object is made per post.
Keyword lists are tokenized with the same function, so a rule matches exactly what it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uproar.errors import InputError
from uproar.understand.chars import utf8_bytes
from uproar.understand.scan import scan

# Anything that is not a letter, digit, space, apostrophe, '#', '@' or '_' stands alone
# (RE2 syntax; ``scan.py`` has the other rules).
SYMBOL = r"[^\pL\pN\s'#@_]"
_ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"))


def as_string_array(texts: Any) -> pa.StringArray:
    """Accept a list/tuple of str, an Arrow array or chunked array, or a pandas Series."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(texts, pa.Array):
        arr = texts
    elif hasattr(texts, "to_numpy") and not isinstance(texts, np.ndarray):  # pandas Series
        arr = pa.array(list(texts.to_numpy()), type=pa.string())
    else:
        arr = pa.array(list(texts), type=pa.string())
    if pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.string())
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return pc.fill_null(arr, "")


def normalise(texts: pa.StringArray) -> pa.StringArray:
    """Lower-cased, HTML entities decoded and the curly apostrophe read as the straight one:
    what ``scan`` splits into tokens."""
    s = pc.utf8_lower(texts)
    # A replacement pass runs only on a batch that may hold what it replaces, as a look at
    # its bytes tells for a fraction of a pass' cost (’ is E2 80 99 in UTF-8: a batch
    # without a byte 0x99 has none).
    data = utf8_bytes(s)[0]
    if np.any(data == ord("&")):
        for entity, char in _ENTITIES:
            s = pc.replace_substring(s, entity, char)
    if np.any(data == 0x99):
        s = pc.replace_substring(s, "\u2019", "'")
    return s


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens of ``n`` texts: flat ``values`` and the text index ``rows`` of each token."""

    n: int
    values: pa.StringArray
    rows: np.ndarray  # int64, one per token, non-decreasing
    lengths: np.ndarray  # tokens per text
    _distinct: dict[int, tuple[pa.StringArray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )
    _starts: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _gram_rows: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _words: dict[int, list[str]] = field(default_factory=dict, repr=False)
    _codes: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)

    def ngrams(self, k: int) -> tuple[pa.Array, np.ndarray]:
        """All k-grams that stay inside one text, as space-joined strings with their rows."""
        if k == 1:
            return self.values, self.rows
        distinct, codes = self.distinct(k)
        return distinct.take(pa.array(codes)), self.gram_rows(k)

    def gram_rows(self, k: int) -> np.ndarray:
        """The text of each k-gram that stays inside one text (``starts(k)`` order)."""
        if k == 1:
            return self.rows
        if k not in self._gram_rows:
            self._gram_rows[k] = self.rows[self.starts(k)]
        return self._gram_rows[k]

    def words(self, k: int) -> list[str]:
        """``distinct(k)`` as Python strings, made once for every vocabulary that reads them."""
        if k not in self._words:
            self._words[k] = self.distinct(k)[0].to_pylist()
        return self._words[k]

    def code_of(self, k: int) -> dict[str, int]:
        """Each distinct k-gram's index in ``distinct(k)``, as a dict made once per batch: a
        phrase table looks its own phrases up in it, at a cost of its size, not the batch's."""
        if k not in self._codes:
            words = self.words(k)
            self._codes[k] = dict(zip(words, range(len(words)), strict=True))
        return self._codes[k]

    def found(self, k: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, position) of each k-gram, in order, whose distinct k-gram has a position
        (``positions``: one per ``distinct(k)``, -1 for none). Only the found k-grams are
        gathered: a phrase table misses most of a batch's n-grams."""
        hit = positions >= 0
        if not hit.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        codes = self.distinct(k)[1]
        at = np.flatnonzero(hit[codes])
        return self.gram_rows(k)[at], positions[codes[at]]

    def starts(self, k: int) -> np.ndarray:
        """Where each k-gram that stays inside one text starts (token indices, ascending)."""
        if k not in self._starts:
            m = len(self.values) - k + 1
            if m <= 0:
                self._starts[k] = np.zeros(0, dtype=np.int64)
            else:
                self._starts[k] = np.flatnonzero(self.rows[:m] == self.rows[k - 1 :])
        return self._starts[k]

    def distinct(self, k: int) -> tuple[pa.StringArray, np.ndarray]:
        """The distinct k-grams, and for each k-gram (in ``starts(k)`` order) its index
        among them.

        Every phrase table and vocabulary looks its phrases up in these, hashed once per
        batch and order, rather than each hashing all of the batch's k-grams again. A k-gram
        is found as the pair of codes (its first k-1 tokens, its last token), so only the
        distinct k-grams are ever joined into strings."""
        if k not in self._distinct:
            if k == 1:
                encoded = pc.dictionary_encode(self.values)
                words = encoded.dictionary
                codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            else:
                words, word_codes = self.distinct(1)
                head, head_codes = self.distinct(k - 1)
                starts = self.starts(k)
                if len(starts) == 0:
                    self._distinct[k] = (pa.array([], pa.string()), np.zeros(0, np.int64))
                    return self._distinct[k]
                # The (k-1)-gram at each start: k-grams start where (k-1)-grams do, in order
                # (every token starts a 1-gram, so for bigrams that is the start itself).
                at = starts if k == 2 else np.searchsorted(self.starts(k - 1), starts)
                pairs = head_codes[at] * len(words) + word_codes[starts + k - 1]
                encoded = pc.dictionary_encode(pa.array(pairs, pa.int64()))
                found = encoded.dictionary.to_numpy(zero_copy_only=False)
                words = pc.binary_join_element_wise(
                    head.take(pa.array(found // len(words))),
                    words.take(pa.array(found % len(words))),
                    " ",
                )
                codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            self._distinct[k] = (words, codes)
        return self._distinct[k]


def tokenize(texts: Any) -> Tokens:
    arr = as_string_array(texts)
    values, rows = scan(normalise(arr), SYMBOL)
    lengths = np.bincount(rows, minlength=len(arr)).astype(np.int64)
    return Tokens(n=len(arr), values=values, rows=rows, lengths=lengths)


def tokenize_many(texts: Sequence[str]) -> list[list[str]]:
    """The tokens of each string, as Python lists (for phrase tables and vocabularies)."""
    tokens = tokenize(texts)
    out: list[list[str]] = [[] for _ in range(tokens.n)]
    for row, value in zip(tokens.rows.tolist(), tokens.values.to_pylist(), strict=True):
        out[row].append(value)
    return out


class PhraseTable:
    """Phrases of one or more tokens, each mapped to one or more integer ids."""

    def __init__(self, phrases: Iterable[tuple[str, int]]) -> None:
        pairs = list(phrases)
        keys: dict[str, list[int]] = {}
        for toks, (_, ident) in zip(tokenize_many([p for p, _ in pairs]), pairs, strict=True):
            if toks:
                ids = keys.setdefault(" ".join(toks), [])
                if ident not in ids:
                    ids.append(ident)
        self.keys = pa.array(list(keys), type=pa.string())
        counts = np.fromiter((len(v) for v in keys.values()), dtype=np.int64, count=len(keys))
        self.ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.flat = np.fromiter((i for v in keys.values() for i in v), dtype=np.int64)
        self.sizes = sorted({k.count(" ") + 1 for k in keys}) if keys else []
        split = [k.split(" ") for k in keys]
        # Phrases of one and two tokens, by size: looked up among the batch's distinct n-grams.
        self._short = {
            size: (
                [k for k, toks in zip(keys, split, strict=True) if len(toks) == size],
                np.array([i for i, toks in enumerate(split) if len(toks) == size], np.int64),
            )
            for size in (1, 2)
        }
        # Longer phrases: their tokens one after another, each phrase's size and index, and
        # its first two tokens. Only phrases whose every token is in a batch can be in it;
        # they are matched on the batch's token codes where their first two tokens occur.
        long = [i for i, toks in enumerate(split) if len(toks) > 2]
        self._long_tokens = [t for i in long for t in split[i]]
        self._long_sizes = np.array([len(split[i]) for i in long], dtype=np.int64)
        self._long_index = np.array(long, dtype=np.int64)
        self._long_leads = [" ".join(split[i][:2]) for i in long]

    def __len__(self) -> int:
        return len(self.keys)

    def hits(self, tokens: Tokens) -> tuple[np.ndarray, np.ndarray]:
        """(rows, ids) for every phrase occurrence in ``tokens``, by phrase size, then in
        order of occurrence."""
        found: list[tuple[np.ndarray, np.ndarray]] = []  # (key index, row) per n-gram found
        for k in (1, 2):
            words, index = self._short[k]
            if not words or len(tokens.starts(k)) == 0:
                continue
            at = _codes(tokens.code_of(k), words)
            present = at >= 0
            positions = np.full(len(tokens.words(k)), -1, dtype=np.int64)
            positions[at[present]] = index[present]
            rows, pos = tokens.found(k, positions)
            found.append((pos, rows))
        if len(self._long_index) and len(tokens.values):
            found += self._long_hits(tokens)
        all_rows: list[np.ndarray] = []
        all_ids: list[np.ndarray] = []
        for p, at in found:
            if not len(p):
                continue
            counts = self.ptr[p + 1] - self.ptr[p]
            # Expand each matched phrase into all of its ids (vectorised ranges).
            offs = np.repeat(self.ptr[p] - np.cumsum(counts) + counts, counts)
            offs += np.arange(int(counts.sum()), dtype=np.int64)
            all_rows.append(np.repeat(at, counts))
            all_ids.append(self.flat[offs])
        if not all_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(all_rows), np.concatenate(all_ids)

    def _long_hits(self, tokens: Tokens) -> list[tuple[np.ndarray, np.ndarray]]:
        """(key index, row) of the phrases of three or more tokens, one pair per size."""
        codes = _codes(tokens.code_of(1), self._long_tokens)
        bounds = np.concatenate([[0], np.cumsum(self._long_sizes)])
        present = np.logical_and.reduceat(codes >= 0, bounds[:-1])
        if len(tokens.starts(2)) == 0 or not present.any():
            return []
        leads = _codes(tokens.code_of(2), self._long_leads)
        present &= leads >= 0
        if not present.any():
            return []
        bigrams = tokens.distinct(2)[1]
        begins = np.zeros(len(tokens.words(2)), dtype=bool)
        begins[leads[present]] = True
        starts = tokens.starts(2)[begins[bigrams]]
        token_codes, rows = tokens.distinct(1)[1], tokens.rows
        out = []
        for k in np.unique(self._long_sizes[present]).tolist():
            phrases = np.flatnonzero(present & (self._long_sizes == k))
            at = starts[starts + k - 1 < len(rows)]
            at = at[rows[at] == rows[at + k - 1]]
            if not len(at):
                continue
            spans = bounds[phrases][:, None] + np.arange(k)
            which = _match_rows(token_codes[at[:, None] + np.arange(k)], codes[spans])
            hit = which >= 0
            out.append((self._long_index[phrases[which[hit]]], rows[at[hit]]))
        return out

    def indicator(self, tokens: Tokens, n_ids: int) -> np.ndarray:
        """Boolean matrix (texts x ids): does text i contain a phrase with id j."""
        rows, ids = self.hits(tokens)
        out = np.zeros((tokens.n, n_ids), dtype=bool)
        out[rows, ids] = True
        return out

    def counts(self, tokens: Tokens, n_ids: int) -> np.ndarray:
        """Integer matrix (texts x ids): occurrences of phrases with id j in text i."""
        rows, ids = self.hits(tokens)
        out = np.zeros((tokens.n, n_ids), dtype=np.int32)
        np.add.at(out, (rows, ids), 1)
        return out


class Vocabulary:
    """A large, fixed list of strings looked up batch after batch: ``positions(values)`` is
    ``pc.index_in(values, value_set=words)`` with nulls as -1, but the words are indexed once,
    here. (``index_in`` hashes its whole value set on every call: for the fast model's 116k
    entries that was about 16 ms a call, most of what labelling a small batch cost.) Each
    call hashes only the batch, in Arrow, and looks its distinct values up in the index."""

    def __init__(self, words: pa.StringArray) -> None:
        self.words = words
        # A word listed twice keeps its first position: built from the end, the earlier
        # position is written last (a dict made in C, 3x faster than a setdefault loop).
        listed = words.to_pylist()
        self._index: dict[str, int] = dict(
            zip(reversed(listed), range(len(listed) - 1, -1, -1), strict=True)
        )
        self._index.pop(None, None)  # type: ignore[call-overload]

    def positions(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        encoded = pc.dictionary_encode(values)
        found = np.append(self.lookup(encoded.dictionary), -1)  # -1 where a value is null
        index = pc.fill_null(encoded.indices, len(encoded.dictionary))
        return np.asarray(found[index.to_numpy(zero_copy_only=False)], dtype=np.int64)

    def lookup(self, distinct: pa.StringArray | list[str]) -> np.ndarray:
        """The position of each of ``distinct`` (non-null values) in the words, -1 if absent."""
        values = distinct if isinstance(distinct, list) else distinct.to_pylist()
        found = map(self._index.get, values, repeat(-1))  # no Python frame per value
        return np.fromiter(found, dtype=np.int64, count=len(values))


def _codes(code_of: dict[str, int], words: list[str]) -> np.ndarray:
    """Each word's code in a batch (``Tokens.code_of``), -1 if the batch lacks it."""
    return np.fromiter(map(code_of.get, words, repeat(-1)), dtype=np.int64, count=len(words))


def _match_rows(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each row of ``rows`` (integer matrix), the index of the equal row of ``keys``
    (distinct rows, as many columns), -1 if none. Columns are folded in one at a time, each
    pair renumbered densely, so the codes never outgrow int64."""
    both = np.concatenate([keys, rows])
    ids = both[:, 0]
    for j in range(1, both.shape[1]):
        column = both[:, j]
        _, ids = np.unique(ids * (int(column.max()) + 1) + column, return_inverse=True)
    index = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    index[ids[: len(keys)]] = np.arange(len(keys))
    return np.asarray(index[ids[len(keys) :]], dtype=np.int64)


def _positions(values: pa.Array, keys: pa.StringArray) -> np.ndarray:
    """The index of each of ``values`` in ``keys`` (-1 if absent)."""
    found = pc.fill_null(pc.index_in(values, value_set=keys), -1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def vocabulary_hits(
    tokens: Tokens, vocab: pa.StringArray | Vocabulary, orders: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, vocabulary index) of every n-gram of the given orders found in ``vocab`` (a
    ``Vocabulary`` for one looked up on every batch)."""
    rs: list[np.ndarray] = []
    cs: list[np.ndarray] = []
    for k in orders:
        if k > 1 and len(tokens.starts(k)) == 0:
            continue
        if isinstance(vocab, Vocabulary):
            positions = vocab.lookup(tokens.words(k))
        else:
            positions = _positions(tokens.distinct(k)[0], vocab)
        rows, found = tokens.found(k, positions)
        rs.append(rows)
        cs.append(found)
    if not rs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rs), np.concatenate(cs)


def take_tokens(tokens: Tokens, rows: np.ndarray) -> Tokens:
    """The tokens of texts ``rows`` (sorted, distinct indices), renumbered from 0."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) > 1 and not np.all(np.diff(rows) > 0):
        raise InputError("take_tokens needs sorted, distinct row indices")
    new_index = np.full(tokens.n, -1, dtype=np.int64)
    new_index[rows] = np.arange(len(rows), dtype=np.int64)
    keep = new_index[tokens.rows] >= 0
    return Tokens(
        n=len(rows),
        values=tokens.values.filter(pa.array(keep)),
        rows=new_index[tokens.rows[keep]],
        lengths=tokens.lengths[rows],
    )
