"""Train and score the complaint heads on real posts: the ACL 2019 complaints set.

* ``read_complaints``: ``complaints/complaints-data.csv`` (3,449 tweets to brands, nine
  industries plus random tweets), and Uproar's own labelled posts (``data/labelled.jsonl``
  and ``data/complaints.jsonl``), which join every training fold and are never scored.
* ``cross_validate``: stratified 10-fold cross-validation with one fixed seed, macro F1 over
  the two classes, as the papers report (Preoțiuc-Pietro et al. 2019: 79; Jin and Aletras
  2020: 87).
* ``leave_one_industry_out``: train on eight industries (plus the random tweets and our
  own posts), test on the ninth.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from uproar.errors import InputError
from uproar.understand.complaint import ComplaintHead, Design, decide, fit_head, macro_f1
from uproar.understand.features import tokenize
from uproar.understand.taxonomy import UnderstandConfig, default_taxonomy

# Not industries: the data set's random tweets, kept in every training fold.
RANDOM_DOMAINS = ("random_reply", "random_tweet")
OWN = "uproar"  # the domain of Uproar's own labelled posts
SEED = 0
FOLDS = 10
# Chosen once by 10-fold CV on the complaints set (scripts/train_complaint.py --grid).
C_FAST = 1.0
C_ACCURATE = 0.05
# The accurate head's n-gram indicators are scaled by this before its fit (``fit_head``):
# with 384 embedding inputs beside them, equal scaling left the words under-used.
NGRAM_WEIGHT_ACCURATE = 2.0


@dataclass(frozen=True, slots=True)
class ComplaintData:
    texts: list[str]
    y: np.ndarray  # bool
    domains: list[str]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True, slots=True)
class FoldScore:
    name: str  # "10-fold" or an industry
    posts: int
    complaints: int
    macro_f1: float
    precision: float
    recall: float


def read_complaints(data: Path) -> ComplaintData:
    """The ACL 2019 complaints set (``tweet_id, text, label, domain``, no header)."""
    path = data / "complaints" / "complaints-data.csv"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError as exc:
        raise InputError(
            f"complaints data not found at {path} (get complaints-data.csv from "
            "github.com/danielpreotiuc/complaints-social-media, or pass --data)",
            file=str(path),
        ) from exc
    texts, y, domains = [], [], []
    for number, row in enumerate(rows, start=1):
        if len(row) != 4 or row[2] not in ("0", "1"):
            raise InputError(
                "expected tweet_id,text,label(0/1),domain", file=str(path), line=number
            )
        texts.append(row[1])
        y.append(row[2] == "1")
        domains.append(row[3])
    return ComplaintData(texts, np.array(y, dtype=bool), domains)


def read_own() -> ComplaintData:
    """Uproar's own hand-labelled posts (ISP outages, other industries, plain wording)."""
    texts: list[str] = []
    y: list[bool] = []
    base = resources.files("uproar.understand") / "data"
    for name in ("labelled.jsonl", "complaints.jsonl"):
        for line in (base / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(row["text"])
                y.append(bool(row["complaint"]))
    return ComplaintData(texts, np.array(y, dtype=bool), [OWN] * len(texts))


def join(a: ComplaintData, b: ComplaintData) -> ComplaintData:
    return ComplaintData(a.texts + b.texts, np.concatenate([a.y, b.y]), a.domains + b.domains)


def design_for(texts: Sequence[str], *, accurate: bool, threads: int = 0) -> Design:
    """The heads' inputs for ``texts`` (the embedding too when ``accurate``)."""
    from uproar.understand.fast import FastSentiment
    from uproar.understand.rules import Rules

    rules = Rules(UnderstandConfig(taxonomy=default_taxonomy()), heads=False)
    fast = FastSentiment()
    tokens = tokenize(list(texts))
    fast_lp = fast.log_probs_tokens(tokens)
    embedding = None
    if accurate:
        from uproar.understand.accurate import AccurateSentiment

        embedding = AccurateSentiment(threads=threads, fast=fast).encode(
            list(texts), tokens, fast_lp
        )[1]
    return rules.design(tokens, fast_lp, embedding)


def _score(name: str, y: np.ndarray, p: np.ndarray) -> FoldScore:
    tp = int(np.sum(y & p))
    precision = tp / max(1, int(p.sum()))
    recall = tp / max(1, int(y.sum()))
    return FoldScore(name, len(y), int(y.sum()), macro_f1(y, p), precision, recall)


def fit(design: Design, y: np.ndarray, *, accurate: bool) -> ComplaintHead:
    """The fast or accurate head with this module's settings (training and evaluation)."""
    if accurate:
        return fit_head(design, y, embedding=True, c=C_ACCURATE, ngram_weight=NGRAM_WEIGHT_ACCURATE)
    return fit_head(design, y, embedding=False, c=C_FAST)


def _fit_predict(
    design: Design, y: np.ndarray, train: np.ndarray, test: np.ndarray, *, accurate: bool
) -> np.ndarray:
    head = fit(design.take(np.sort(train)), y[np.sort(train)], accurate=accurate)
    return decide(head, design.take(np.sort(test)))


def cross_validate(
    data: ComplaintData, design: Design, *, accurate: bool, folds: int = FOLDS, seed: int = SEED
) -> tuple[FoldScore, np.ndarray]:
    """Stratified k-fold over the complaints rows (own posts join every training fold).
    Returns the pooled score and the out-of-fold predictions of the complaints rows."""
    from sklearn.model_selection import StratifiedKFold

    scored = np.array([d != OWN for d in data.domains])
    idx = np.flatnonzero(scored)
    always = np.flatnonzero(~scored)
    pred = np.zeros(len(data), dtype=bool)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(idx, data.y[idx]):
        train = np.concatenate([idx[tr], always])
        pred[np.sort(idx[te])] = _fit_predict(design, data.y, train, idx[te], accurate=accurate)
    return _score(f"{folds}-fold", data.y[idx], pred[idx]), pred[idx]


def leave_one_industry_out(
    data: ComplaintData, design: Design, *, accurate: bool
) -> list[FoldScore]:
    """Train on every industry but one (plus random tweets and own posts); test on it."""
    domains = np.array(data.domains)
    industries = sorted(set(data.domains) - {*RANDOM_DOMAINS, OWN})
    out = []
    for industry in industries:
        test = np.flatnonzero(domains == industry)
        train = np.flatnonzero(domains != industry)
        pred = _fit_predict(design, data.y, train, test, accurate=accurate)
        out.append(_score(industry, data.y[test], pred))
    return out
