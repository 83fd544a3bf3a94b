"""The learned tone scorer: blame, defensive, flippant and dismissive said in new words.

The Vale-style rules catch the phrasings someone wrote down; this scorer adds recall for
the rest. Each sentence of a draft is read as word 1-2-grams and character 2-5-grams inside
words (scikit-learn's ``word`` and ``char_wb`` analyzers, written out here so the linter
needs nothing but numpy at run time), each block TF-IDF weighted (sublinear tf, smoothed
idf, unit length) and scored by a multinomial logistic regression over ``clean`` and the
four tone categories. A sentence is flagged when one minus its ``clean`` probability passes
the threshold of its most likely tone category.

The model ships as ``scorer/tone.npz`` (vocabulary, idf, weights) and ``scorer/tone.json``
(classes, thresholds, how it was trained) and is read with importlib.resources: nothing is
downloaded. ``scripts/train_tone.py`` writes both from ``scorer/drafts.yaml`` plus the
training half of the real TWCS agent replies (:func:`twcs_half`) as clean sentences;
:func:`fit` is deterministic (lbfgs, no sampling), so the same data gives the same file.

Why no sentence embedding: the shipped MiniLM embeds about 270 sentences/s on one core,
under the 300 drafts/s the linter must keep with the scorer on, and adding its pooled vector
to these features moved held-out recall by about as much as the choice of threshold
(``bench/lint_scorer.py``).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import regex
import scipy.sparse as sp

from uproar.errors import ModelError

TONE_CLASSES: tuple[str, ...] = ("blame", "defensive", "flippant", "dismissive")
CLEAN = "clean"
RULE_ID = "Uproar.ToneScorer"
MODEL = "tone"

# scikit-learn's default token_pattern for the word analyzer.
_WORD = regex.compile(r"\b\w\w+\b")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)


def _word_grams(text: str) -> list[str]:
    words = _WORD.findall(text)
    grams = list(words)
    grams.extend(f"{a} {b}" for a, b in itertools.pairwise(words))
    return grams


def _char_grams(text: str) -> list[str]:
    # scikit-learn's char_wb: each whitespace-separated word padded with one space.
    lo, hi = CHAR_NGRAMS
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(lo, hi + 1):
            if n > size:
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


def analyze(text: str) -> tuple[list[str], list[str]]:
    """The word grams and the character grams of one sentence (lower case, straight quotes)."""
    text = text.lower().translate(_QUOTES)
    return _word_grams(text), _char_grams(text)


# Training and cross-validation analyse the same few thousand sentences once per fold.
_analyze_seen = lru_cache(maxsize=1 << 16)(analyze)


@dataclass(frozen=True, slots=True)
class Block:
    """One TF-IDF block: gram -> column, and each column's idf."""

    vocab: Mapping[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, docs: Sequence[list[str]]) -> Block:
        df: Counter[str] = Counter()
        for grams in docs:
            df.update(set(grams))
        terms = sorted(df)
        n = len(docs)
        # scikit-learn's smooth_idf: as if one more document held every term.
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms], dtype=np.float64)
        return cls({t: i for i, t in enumerate(terms)}, idf)

    def row(self, grams: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and unit-length sublinear TF-IDF values of one sentence."""
        counts: Counter[int] = Counter()
        vocab = self.vocab
        for g in grams:
            col = vocab.get(g)
            if col is not None:
                counts[col] += 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[cols]
        return cols, values / np.linalg.norm(values)


@dataclass(frozen=True, slots=True)
class Features:
    """The word block and the character block side by side (scikit-learn's FeatureUnion)."""

    words: Block
    chars: Block

    @property
    def width(self) -> int:
        return len(self.words.vocab) + len(self.chars.vocab)

    @classmethod
    def fit(cls, sentences: Sequence[str]) -> Features:
        pairs = [_analyze_seen(s) for s in sentences]
        return cls(Block.fit([w for w, _ in pairs]), Block.fit([c for _, c in pairs]))

    def row(self, sentence: str) -> tuple[np.ndarray, np.ndarray]:
        return self._row(*analyze(sentence))

    def _row(self, words: list[str], chars: list[str]) -> tuple[np.ndarray, np.ndarray]:
        wc, wv = self.words.row(words)
        cc, cv = self.chars.row(chars)
        return np.concatenate([wc, cc + len(self.words.vocab)]), np.concatenate([wv, cv])

    def matrix(self, sentences: Sequence[str]) -> sp.csr_matrix:
        """The rows of many sentences (training and evaluation, where the same sentences
        come back fold after fold, so their grams are kept)."""
        rows = [self._row(*_analyze_seen(s)) for s in sentences]
        indptr = np.cumsum([0, *(len(c) for c, _ in rows)])
        cols = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        vals = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
        return sp.csr_matrix((vals, cols, indptr), shape=(len(rows), self.width))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The scorer on one sentence: its likeliest tone category, the score (one minus the
    ``clean`` probability) and whether that passes the category's threshold."""

    category: str
    score: float
    flagged: bool


class ToneScorer:
    """A fitted scorer. ``classes`` lists ``clean`` and the tone categories in the order of
    ``coef``'s rows; ``thresholds`` maps each tone category to the score that flags it."""

    def __init__(
        self,
        *,
        features: Features,
        classes: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        thresholds: Mapping[str, float],
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if CLEAN not in classes or set(classes) - {CLEAN} != set(TONE_CLASSES):
            raise ModelError(f"tone scorer classes must be clean + {TONE_CLASSES}, got {classes}")
        if coef.shape != (len(classes), features.width) or intercept.shape != (len(classes),):
            raise ModelError(
                f"tone scorer weights {coef.shape} do not fit {len(classes)} classes x "
                f"{features.width} features"
            )
        missing = set(TONE_CLASSES) - set(thresholds)
        if missing:
            raise ModelError(f"tone scorer has no threshold for {sorted(missing)}")
        self.features = features
        self.classes = tuple(classes)
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.thresholds = dict(thresholds)
        self.meta = dict(meta or {})
        self._clean = self.classes.index(CLEAN)
        self._tones = [i for i, c in enumerate(self.classes) if c != CLEAN]
        # Column-major weights: one sentence gathers its few columns contiguously.
        self._coef_t = np.ascontiguousarray(self.coef.T)

    def proba(self, sentence: str) -> np.ndarray:
        """Class probabilities of one sentence, in ``classes`` order."""
        cols, vals = self.features.row(sentence)
        logits = vals @ self._coef_t[cols] + self.intercept if len(cols) else self.intercept
        z = np.exp(logits - logits.max())
        out: np.ndarray = z / z.sum()
        return out

    def verdict(self, sentence: str) -> Verdict:
        p = self.proba(sentence)
        best = max(self._tones, key=lambda i: p[i])
        category = self.classes[best]
        score = float(1.0 - p[self._clean])
        return Verdict(category, score, score >= self.thresholds[category])

    def scores(self, sentences: Sequence[str]) -> np.ndarray:
        """One minus the clean probability of each sentence (for evaluation)."""
        return np.array([1.0 - self.proba(s)[self._clean] for s in sentences])

    def save(self, folder: Path) -> tuple[Path, Path]:
        """Write ``tone.npz`` and ``tone.json`` into ``folder``."""
        words, chars = self.features.words, self.features.chars
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            words=np.array("\n".join(sorted(words.vocab, key=words.vocab.__getitem__))),
            chars=np.array("\n".join(sorted(chars.vocab, key=chars.vocab.__getitem__))),
            words_idf=words.idf.astype(np.float32),
            chars_idf=chars.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )
        npz, meta = folder / f"{MODEL}.npz", folder / f"{MODEL}.json"
        npz.write_bytes(buf.getvalue())
        body = {"classes": list(self.classes), "thresholds": self.thresholds, **self.meta}
        meta.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return npz, meta


def _block(terms: str, idf: np.ndarray) -> Block:
    names = terms.split("\n") if terms else []
    if len(names) != len(idf):
        raise ModelError(f"tone scorer vocabulary ({len(names)}) and idf ({len(idf)}) differ")
    return Block({t: i for i, t in enumerate(names)}, idf.astype(np.float64))


def load_scorer(folder: Path | None = None) -> ToneScorer:
    """The shipped scorer (``uproar/respond/lint/scorer``), or the one saved in ``folder``."""
    base: Any = folder if folder is not None else resources.files("uproar.respond.lint") / "scorer"
    try:
        meta = json.loads((base / f"{MODEL}.json").read_text(encoding="utf-8"))
        with np.load(io.BytesIO((base / f"{MODEL}.npz").read_bytes())) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"tone scorer files missing or unreadable: {exc}") from exc
    try:
        features = Features(
            _block(str(arrays["words"]), arrays["words_idf"]),
            _block(str(arrays["chars"]), arrays["chars_idf"]),
        )
        classes = meta.pop("classes")
        thresholds = {k: float(v) for k, v in meta.pop("thresholds").items()}
        return ToneScorer(
            features=features,
            classes=classes,
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            thresholds=thresholds,
            meta=meta,
        )
    except KeyError as exc:
        raise ModelError(f"tone scorer file lacks {exc}") from exc


@cache
def shipped_scorer() -> ToneScorer:
    """The shipped scorer, loaded once per process."""
    return load_scorer()


# --- training -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Labelled sentences with the family each came from (``twcs:<id>`` for real replies)."""

    sentences: tuple[str, ...]
    labels: tuple[str, ...]
    groups: tuple[str, ...]


# Regularisation of the logistic regression (inverse strength); recorded in tone.json. By
# nested GroupKFold (tone_train.cross_validate), overall held-out recall / clean drafts
# flagged: C=3 0.914 / 21.9%, C=10 0.907 / 17.5%, C=30 0.888 / 13.9% (dismissive 0.847,
# under the 0.85 target).
C = 10.0
# Share of the training weight on ``clean``; the tone categories split the rest evenly.
# scikit-learn's "balanced" (each class 1/5) makes a sentence the model knows nothing about
# 80% "not clean", so short plain sentences ("Broadband is down.") scored as tone; at one
# half, an unknown sentence scores 0.5 and the thresholds below separate more (held-out
# recall the same, clean drafts flagged about the same: measured with `uproar eval lint`).
CLEAN_WEIGHT = 0.5
# The project's own clean text (the packs' replies, the example threads, the tone rules'
# good examples) counts several times: the linter must pass it without a warning, and each
# is one sentence among thousands of real replies.
SHIPPED_WEIGHT: Mapping[str, float] = {"shipped": 5.0, "rules": 5.0}
# Thresholds tried, 0.2 to 0.9. Below 0.2 a plain status sentence ("Broadband is down.")
# passes on the strength of one shared word gram, so no threshold goes lower.
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.20 + 0.025 * i, 3) for i in range(29))
# The recall each category's threshold is set for, on families held out by an inner
# GroupKFold (the target is 0.85; the margin absorbs the move to unseen families).
RECALL_AIM = 0.9


def twcs_half(tweet_id: str) -> str:
    """``train`` or ``test``: which half of the real agent replies a reply belongs to (by a
    CRC-32 of its id), so the scorer learns from one half and is measured on the other."""
    return "train" if zlib.crc32(tweet_id.encode()) % 2 == 0 else "test"


def fit_model(data: TrainingSet, *, c: float = C) -> tuple[Features, Any]:
    """Features and a class-balanced multinomial logistic regression fitted on ``data``."""
    from sklearn.linear_model import LogisticRegression

    features = Features.fit(data.sentences)
    counts = Counter(data.labels)
    n = len(data.labels)
    weights = {
        k: n * (CLEAN_WEIGHT if k == CLEAN else (1 - CLEAN_WEIGHT) / (len(counts) - 1)) / v
        for k, v in counts.items()
    }
    sample = np.array(
        [
            weights[y] * SHIPPED_WEIGHT.get(g, 1.0)
            for y, g in zip(data.labels, data.groups, strict=True)
        ]
    )
    clf = LogisticRegression(C=c, max_iter=1000, solver="newton-cg")
    clf.fit(features.matrix(data.sentences), list(data.labels), sample_weight=sample)
    return features, clf


def fit(
    data: TrainingSet,
    thresholds: Mapping[str, float],
    *,
    c: float = C,
    meta: Mapping[str, Any] | None = None,
) -> ToneScorer:
    features, clf = fit_model(data, c=c)
    return ToneScorer(
        features=features,
        classes=[str(k) for k in clf.classes_],
        coef=clf.coef_,
        intercept=clf.intercept_,
        thresholds=thresholds,
        meta={"C": c, **(meta or {})},
    )
