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
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from uproar.errors import InputError
from uproar.understand.classifier import Classifier
from uproar.understand.complaint_eval import FoldScore
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
class ComplaintScores:
    """One head's complaint figures on the ACL 2019 set."""

    model: str
    cv: FoldScore  # stratified 10-fold, seed 0
    industries: list[FoldScore]  # leave one industry out

    @property
    def industry_mean_f1(self) -> float:
        return float(np.mean([s.macro_f1 for s in self.industries]))


@dataclass(frozen=True, slots=True)
class LanguageScore:
    posts: int
    accuracy: float
    errors: list[tuple[str, str, str | None]]  # text, truth, predicted
    english_sentences: int  # complaints-set posts of five or more words (all English)
    english_as_other: list[tuple[str, str | None]]  # those labelled another language


@dataclass(frozen=True, slots=True)
class TopicPackScore:
    """Per-topic scores of one industry's pack on one split of the real posts labelled for
    it: ``test`` (labelled first, never tuned on: the headline) or ``dev`` (tuned on)."""

    industry: str
    split: str
    posts: int
    topics: list[BinaryScore]  # the pack's topics that occur in the truth or the output

    @property
    def macro_f1(self) -> float:
        return float(np.mean([t.f1 for t in self.topics])) if self.topics else 0.0


TOPIC_SPLITS = ("test", "dev")


def topics_macro_f1(scores: Sequence[TopicPackScore], split: str) -> float:
    """The mean over packs of each pack's macro F1 on ``split`` (0 when none)."""
    mine = [s.macro_f1 for s in scores if s.split == split]
    return float(np.mean(mine)) if mine else 0.0


def topics_micro_f1(scores: Sequence[TopicPackScore], split: str) -> float:
    """F1 over every (post, topic) decision of every pack on ``split``, pooled: unlike the
    macro figure, a topic with one or two posts in the truth weighs no more than its posts."""
    tp = fp = fn = 0
    for s in scores:
        if s.split == split:
            for t in s.topics:
                (_, fp_t), (fn_t, tp_t) = t.confusion
                tp, fp, fn = tp + tp_t, fp + fp_t, fn + fn_t
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@dataclass(frozen=True, slots=True)
class ClassifyEval:
    sentiment: list[SentimentScore]
    labels: dict[str, list[BinaryScore]] = field(default_factory=dict)  # model -> scores
    labelled_posts: int = 0
    complaints: list[ComplaintScores] = field(default_factory=list)
    language: LanguageScore | None = None
    topics: list[TopicPackScore] = field(default_factory=list)


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


DATA_HINT = (
    "the evaluation data is not in the repository: it is the shared data folder beside the "
    "clone (../shared/data, with tweeteval/ and complaints/; see its README for each set's "
    "source). Pass --data DIR or set UPROAR_DATA"
)


def repo_root() -> Path:
    """The repository root of this checkout (src/uproar/understand/evaluate.py, 4 up)."""
    return Path(__file__).resolve().parents[3]


def find_data(data: Path | str | None = None, *, env: Mapping[str, str] | None = None) -> Path:
    """The shared data folder: ``data`` if given, else ``UPROAR_DATA``, else
    ``../shared/data`` beside the repository root (not the current folder)."""
    env = os.environ if env is None else env
    if data is not None:
        chosen, how = Path(data), "--data"
    elif env.get("UPROAR_DATA"):
        chosen, how = Path(env["UPROAR_DATA"]), "UPROAR_DATA"
    else:
        chosen, how = repo_root().parent / "shared" / "data", "the default"
    if not chosen.is_dir():
        raise InputError(f"data folder {chosen} ({how}) not found: {DATA_HINT}", file=str(chosen))
    return chosen


def read_tweeteval_test(data: Path, limit: int | None = None) -> tuple[list[str], np.ndarray]:
    base = data / "tweeteval" / "sentiment"
    try:
        texts = (base / "test_text.txt").read_text(encoding="utf-8").splitlines()
        labels = np.array([int(v) for v in (base / "test_labels.txt").read_text().split()])
    except FileNotFoundError as exc:
        raise InputError(
            f"TweetEval sentiment test split not found under {base}: {DATA_HINT}",
            file=str(base),
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


def complaint_scores(data: Path, models: Sequence[str]) -> list[ComplaintScores]:
    """10-fold CV and leave-one-industry-out for each head, trained inside each fold."""
    from uproar.understand import complaint_eval as ce

    rows = ce.join(ce.read_complaints(data), ce.read_own())
    design = ce.design_for(rows.texts, accurate="accurate" in models)
    out = []
    for name in models:
        accurate = name == "accurate"
        cv, _ = ce.cross_validate(rows, design, accurate=accurate)
        out.append(
            ComplaintScores(name, cv, ce.leave_one_industry_out(rows, design, accurate=accurate))
        )
    return out


def read_twcs_texts(data: Path) -> dict[str, str]:
    """tweet_id -> text of ``twcs/twcs_head.csv`` (Customer Support on Twitter)."""
    import csv

    path = data / "twcs" / "twcs_head.csv"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return {row["tweet_id"]: row["text"] for row in csv.DictReader(fh)}
    except FileNotFoundError as exc:
        raise InputError(f"{path} not found: {DATA_HINT}", file=str(path)) from exc


def read_complaints_texts(data: Path) -> dict[str, str]:
    """tweet_id -> text of the ACL 2019 complaints set (``tweet_id, text, label, domain``)."""
    import csv

    path = data / "complaints" / "complaints-data.csv"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return {row[0]: row[1] for row in csv.reader(fh) if len(row) == 4}
    except FileNotFoundError as exc:
        raise InputError(f"{path} not found: {DATA_HINT}", file=str(path)) from exc


# Where each labelled topic post's text is read from (only ids and labels are kept here).
TOPIC_SOURCES = {"twcs": read_twcs_texts, "complaints": read_complaints_texts}


def read_topic_labels() -> list[dict[str, Any]]:
    """``data/topics.jsonl``: source, tweet_id, industry, split and topics of each post."""
    raw = (resources.files("uproar.understand") / "data" / "topics.jsonl").read_text("utf-8")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def topic_scores(data: Path, model: str = "fast") -> list[TopicPackScore]:
    """Each industry pack on ``data/topics.jsonl``: real customer posts (twcs, and the
    complaints set for energy) labelled with the topics of their brand's industry pack, in
    a test part (labelled before the packs were tuned, never tuned on) and a dev part."""
    from uproar.understand.taxonomy import for_industry

    rows = read_topic_labels()
    texts = {src: TOPIC_SOURCES[src](data) for src in sorted({r["source"] for r in rows})}
    out = []
    for industry in sorted({r["industry"] for r in rows}):
        clf = Classifier(model, for_industry(industry))
        for split in TOPIC_SPLITS:
            mine = [r for r in rows if r["industry"] == industry and r["split"] == split]
            if not mine:
                continue
            got = clf.arrays([texts[r["source"]][r["tweet_id"]] for r in mine]).topics
            predicted = got.to_pylist()
            scores = []
            for topic in clf.rules.topic_ids.to_pylist():
                y = np.array([topic in r["topics"] for r in mine])
                p = np.array([topic in g for g in predicted])
                if y.any() or p.any():
                    scores.append(binary_score(topic, y, p))
            out.append(TopicPackScore(industry, split, len(mine), scores))
    return out


def read_languages() -> list[dict[str, Any]]:
    raw = (resources.files("uproar.understand") / "data" / "languages.jsonl").read_text(
        encoding="utf-8"
    )
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def language_score(clf: Classifier, data: Path | None) -> LanguageScore:
    """Accuracy on Uproar's labelled short posts (``null``: no language), and every English
    complaints-set post of five or more words that is labelled another language."""
    rows = read_languages()
    got = clf.arrays([r["text"] for r in rows]).language.to_pylist()
    errors = [
        (r["text"], r["language"], g) for r, g in zip(rows, got, strict=True) if g != r["language"]
    ]
    english: list[str] = []
    if data is not None and (data / "complaints").is_dir():
        from uproar.understand.complaint_eval import read_complaints
        from uproar.understand.features import tokenize_many

        texts = read_complaints(data).texts
        words = [
            sum(1 for t in toks if t[:1].isalpha() and t != "http") for toks in tokenize_many(texts)
        ]
        english = [t for t, w in zip(texts, words, strict=True) if w >= 5]
    labels = clf.arrays(english).language.to_pylist() if english else []
    other = [(t, g) for t, g in zip(english, labels, strict=True) if g != "en"]
    return LanguageScore(
        posts=len(rows),
        accuracy=1 - len(errors) / max(1, len(rows)),
        errors=errors,
        english_sentences=len(english),
        english_as_other=other,
    )


def evaluate(
    data: Path,
    *,
    models: Sequence[str] = ("fast", "accurate"),
    limit: int | None = None,
    vader: bool = True,
    threads: int = 0,
    complaints: bool = False,
    topics: bool = False,
) -> ClassifyEval:
    """Run every model (and VADER) on the same test rows and the labelled set; with
    ``complaints``, the complaint heads' cross-validation on the ACL 2019 set too."""
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
    return ClassifyEval(
        sentiment=sentiment,
        labels=labels,
        labelled_posts=len(rows),
        complaints=complaint_scores(data, models) if complaints else [],
        language=language_score(Classifier(models[0]), data),
        topics=topic_scores(data, models[0]) if topics else [],
    )


__all__ = [
    "SENTIMENTS",
    "BinaryScore",
    "ClassifyEval",
    "SentimentScore",
    "TopicPackScore",
    "evaluate",
    "topics_macro_f1",
    "topics_micro_f1",
]
