"""The fast sentiment path: word uni/bi-gram features plus VADER's lexicon, one linear layer.

Features are computed column-wise (``features.py``); scoring is a weighted bincount, so a
batch of posts costs a few Arrow kernels and numpy calls. Weights ship in
``models/fast-sentiment.*`` and are made by ``scripts/train_fast.py`` from ../shared/data.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa

from uproar.errors import ModelError
from uproar.understand.features import (
    PhraseTable,
    Tokens,
    Vocabulary,
    tokenize,
    tokenize_many,
    vocabulary_hits,
)

MODEL = "fast-sentiment"
LABELS = ("negative", "neutral", "positive")
ORDERS = (1, 2)
N_DENSE = 3  # lexicon positive sum, lexicon negative sum, log token count
MAX_LEXICON_TOKENS = 3


@lru_cache(maxsize=1)
def vader_table() -> tuple[PhraseTable, np.ndarray]:
    """VADER's lexicon (words, emoticons) as a phrase table and the valence of each entry."""
    try:
        raw = (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise ModelError(f"vaderSentiment's lexicon is missing: {exc}") from exc
    phrases: list[tuple[str, int]] = []
    valence: list[float] = []
    entries = [line.split("\t") for line in raw.splitlines()]
    entries = [parts for parts in entries if len(parts) >= 2]
    sizes = [len(toks) for toks in tokenize_many([parts[0] for parts in entries])]
    for parts, size in zip(entries, sizes, strict=True):
        # Entries of more than 3 tokens are rare emoticons ("(-_-)"): not worth the n-grams.
        if size <= MAX_LEXICON_TOKENS:
            phrases.append((parts[0], len(valence)))
            valence.append(float(parts[1]))
    return PhraseTable(phrases), np.asarray(valence, dtype=np.float32)


def dense_features(tokens: Tokens) -> np.ndarray:
    """Lexicon valence sums (scaled as VADER does, /4) and text length, shape (n, 3)."""
    table, valence = vader_table()
    rows, ids = table.hits(tokens)
    v = valence[ids]
    out = np.zeros((tokens.n, N_DENSE), dtype=np.float32)
    out[:, 0] = np.bincount(rows, weights=np.clip(v, 0, None), minlength=tokens.n) / 4.0
    out[:, 1] = np.bincount(rows, weights=np.clip(-v, 0, None), minlength=tokens.n) / 4.0
    out[:, 2] = np.log1p(tokens.lengths)
    return out


def design(
    tokens: Tokens, vocab: pa.StringArray | Vocabulary
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse n-gram hits (rows, cols) plus the dense block; shared by training and scoring."""
    rows, cols = vocabulary_hits(tokens, vocab, ORDERS)
    return rows, cols, dense_features(tokens)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax as float32 (both sentiment paths end with it)."""
    m = x.max(axis=1, keepdims=True)
    z = x - m
    return np.asarray(z - np.log(np.exp(z).sum(axis=1, keepdims=True)), dtype=np.float32)


class FastSentiment:
    """Linear scorer over the shared features."""

    def __init__(self) -> None:
        base = resources.files("uproar.understand") / "models"
        try:
            words = (base / f"{MODEL}.vocab.txt").read_text(encoding="utf-8").split("\n")
            meta = json.loads((base / f"{MODEL}.json").read_text(encoding="utf-8"))
            with (base / f"{MODEL}.npz").open("rb") as fh:
                data = np.load(fh)
                self.weights = np.asarray(data["weights"], dtype=np.float32)  # (vocab+dense, 3)
                self.intercept = np.asarray(data["intercept"], dtype=np.float32)
        except (FileNotFoundError, OSError, KeyError, ValueError) as exc:
            raise ModelError(f"fast model files missing or unreadable: {exc}") from exc
        self.vocab = pa.array(words, type=pa.string())
        self.vocabulary = Vocabulary(self.vocab)  # indexed once, looked up on every batch
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self.bias = np.asarray(meta.get("bias", [0.0, 0.0, 0.0]), dtype=np.float32)
        if self.weights.shape != (len(words) + N_DENSE, len(self.labels)):
            raise ModelError(f"{MODEL}: weights shape {self.weights.shape} does not fit vocabulary")

    def log_probs_tokens(self, tokens: Tokens) -> np.ndarray:
        rows, cols, dense = design(tokens, self.vocabulary)
        n, k = tokens.n, len(self.labels)
        scores = np.empty((n, k), dtype=np.float32)
        for c in range(k):
            scores[:, c] = np.bincount(rows, weights=self.weights[cols, c], minlength=n)
        scores += dense @ self.weights[-N_DENSE:] + self.intercept + self.bias
        return log_softmax(scores)

    def log_probs(self, texts: Any) -> np.ndarray:
        return self.log_probs_tokens(tokenize(texts))
