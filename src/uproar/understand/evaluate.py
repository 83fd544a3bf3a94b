"""Score the understand stage: sentiment on TweetEval test, labels on Uproar's labelled set.

* Sentiment: macro-averaged recall (TweetEval's metric) and macro-F1 on
  ``tweeteval/sentiment/test_*`` for each model and for VADER (compound >= 0.05 positive,
  <= -0.05 negative: the thresholds VADER's README recommends), in one run.
* Complaint, question and urgency precision/recall/F1 and per-topic F1, with confusion
  matrices, on ``data/labelled.jsonl``: realistic posts to ISPs, telcos and airlines,
  written and labelled by hand for this purpose (not used to write or tune the rules'
  thresholds; the phrase lists were written first).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from uproar.errors import InputError
from uproar.understand.classifier import Classifier
from uproar.understand.taxonomy import SENTIMENTS


@dataclass(frozen=True, slots=True)
class SentimentScore:
    system: str
    posts: int
    macro_recall: float
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]  # rows: truth, columns: predicted (negative, neutral, positive)
    seconds: float


@dataclass(frozen=True, slots=True)
class BinaryScore:
    name: str
    precision: float
    recall: float
    f1: float
    support: int
    confusion: list[list[int]]  # [[tn, fp], [fn, tp]]


@dataclass(frozen=True, slots=True)
class ClassifyEval:
    sentiment: list[SentimentScore]
    labels: dict[str, list[BinaryScore]] = field(default_factory=dict)  # model -> scores
    labelled_posts: int = 0


def _confusion(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y, p), 1)
    return m


def sentiment_score(system: str, y: np.ndarray, p: np.ndarray, seconds: float) -> SentimentScore:
    m = _confusion(y, p, 3)
    recall = np.divide(np.diag(m), m.sum(1), out=np.zeros(3), where=m.sum(1) > 0)
    precision = np.divide(np.diag(m), m.sum(0), out=np.zeros(3), where=m.sum(0) > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(3), where=(precision + recall) > 0
    )
    return SentimentScore(
        system=system,
        posts=len(y),
        macro_recall=float(recall.mean()),
        macro_f1=float(f1.mean()),
        accuracy=float(np.trace(m) / max(1, m.sum())),
        confusion=m.tolist(),
        seconds=seconds,
    )


def binary_score(name: str, y: np.ndarray, p: np.ndarray) -> BinaryScore:
    tp = int(np.sum(y & p))
    fp = int(np.sum(~y & p))
    fn = int(np.sum(y & ~p))
    tn = int(np.sum(~y & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BinaryScore(name, precision, recall, f1, tp + fn, [[tn, fp], [fn, tp]])


def read_tweeteval_test(data: Path, limit: int | None = None) -> tuple[list[str], np.ndarray]:
    base = data / "tweeteval" / "sentiment"
    try:
        texts = (base / "test_text.txt").read_text(encoding="utf-8").splitlines()
        labels = np.array([int(v) for v in (base / "test_labels.txt").read_text().split()])
    except FileNotFoundError as exc:
        raise InputError(
            f"TweetEval sentiment test split not found under {base}", file=str(base)
        ) from exc
    if limit is not None:
        texts, labels = texts[:limit], labels[:limit]
    return texts, labels


def read_labelled() -> list[dict[str, Any]]:
    raw = (resources.files("uproar.understand") / "data" / "labelled.jsonl").read_text(
        encoding="utf-8"
    )
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def vader_predict(texts: Sequence[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = np.ones(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        c = sia.polarity_scores(t)["compound"]
        out[i] = 2 if c >= 0.05 else 0 if c <= -0.05 else 1
    return out


def label_scores(clf: Classifier, rows: list[dict[str, Any]]) -> list[BinaryScore]:
    a = clf.arrays([r["text"] for r in rows])
    out = [
        binary_score(
            name, np.array([bool(r[name]) for r in rows]), np.asarray(getattr(a, name), dtype=bool)
        )
        for name in ("complaint", "question", "urgency")
    ]
    predicted = a.topics.to_pylist()
    for topic in clf.rules.topic_ids.to_pylist():
        y = np.array([topic in r["topics"] for r in rows])
        p = np.array([topic in ts for ts in predicted])
        out.append(binary_score(f"topic:{topic}", y, p))
    return out


def evaluate(
    data: Path,
    *,
    models: Sequence[str] = ("fast", "accurate"),
    limit: int | None = None,
    vader: bool = True,
    threads: int = 0,
) -> ClassifyEval:
    """Run every model (and VADER) on the same test rows and the labelled set."""
    texts, y = read_tweeteval_test(data, limit)
    rows = read_labelled()
    sentiment: list[SentimentScore] = []
    labels: dict[str, list[BinaryScore]] = {}
    for name in models:
        clf = Classifier(name, threads=threads)
        t0 = time.perf_counter()
        pred = clf.arrays(texts).sentiment.astype(np.int64)
        sentiment.append(sentiment_score(name, y, pred, time.perf_counter() - t0))
        labels[name] = label_scores(clf, rows)
    if vader:
        t0 = time.perf_counter()
        pred = vader_predict(texts)
        sentiment.append(sentiment_score("vader", y, pred, time.perf_counter() - t0))
    return ClassifyEval(sentiment=sentiment, labels=labels, labelled_posts=len(rows))


__all__ = ["SENTIMENTS", "BinaryScore", "ClassifyEval", "SentimentScore", "evaluate"]
