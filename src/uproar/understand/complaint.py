"""Complaint: is a post the speech act of complaining, in any industry.

A complaint "expresses a mismatch between reality and expectations" (Preoțiuc-Pietro, Găman
and Aletras, ACL 2019): an outage, a late flight, a lost parcel, or customer-service anger
("transferred 5 times", "still waiting for a call back"). Two heads share one design:

* **fast**: logistic regression over word uni/bi-grams plus dense rule features (complaint,
  "problem over", praise, sarcasm and question phrase hits, problem topics, emoji, the fast
  sentiment model's log-probabilities and the old rule decision);
* **accurate**: the same inputs plus the fine-tuned MiniLM's 384-float sentence vector, the
  mean over its layer-4 hidden states (the ONNX model's ``complaint_embedding`` output; the
  last layer is tuned to sentiment), so one encoder run per post gives both sentiment and
  complaint.

Weights ship in ``models/complaint.*`` and are made by ``scripts/train_complaint.py`` from
``../shared/data/complaints`` and Uproar's own labelled posts; ``fit_head`` is the one
training routine, used by that script and by ``uproar eval classify --complaints`` for its
cross-validation. Scoring a batch is one vocabulary look-up and a few numpy products.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from uproar.errors import ModelError
from uproar.understand.features import PhraseTable, Tokens, Vocabulary, vocabulary_hits

if TYPE_CHECKING:  # scipy is for training only: scoring never imports it (0.1-0.2 s)
    from scipy import sparse

MODEL = "complaint"
ORDERS = (1, 2)
# Dense rule features, in column order (``Rules.design`` builds them).
DENSE = (
    "complaint_phrases",
    "not_complaint",
    "praise",
    "sarcasm",
    "question",
    "problem_topic",
    "any_topic",
    "emoji_negative",
    "emoji_positive",
    "rule_complaint",
    "logp_negative",
    "logp_neutral",
    "logp_positive",
    "log_tokens",
)
EMBEDDING = 384


@dataclass(frozen=True, slots=True)
class Design:
    """One batch's inputs to a complaint head (row i belongs to text i)."""

    tokens: Tokens
    dense: np.ndarray  # float32 (n, len(DENSE))
    embedding: np.ndarray | None = None  # float32 (n, EMBEDDING), accurate path only

    @property
    def n(self) -> int:
        return self.tokens.n

    def take(self, rows: np.ndarray) -> Design:
        """The design of a subset of rows (cross-validation folds)."""
        from uproar.understand.features import take_tokens

        emb = None if self.embedding is None else self.embedding[rows]
        return Design(take_tokens(self.tokens, rows), self.dense[rows], emb)


@dataclass(frozen=True, slots=True)
class ComplaintHead:
    """A linear complaint scorer. Dense inputs (and the embedding) are standardised with the
    training set's mean and scale before the weights apply."""

    vocab: pa.StringArray
    w_ngram: np.ndarray  # (len(vocab),)
    w_dense: np.ndarray  # (len(DENSE),)
    dense_mean: np.ndarray
    dense_scale: np.ndarray
    intercept: float
    threshold: float = 0.5
    w_embedding: np.ndarray | None = None  # (EMBEDDING,) for the accurate head
    emb_mean: np.ndarray | None = None
    emb_scale: np.ndarray | None = None
    # ``vocab`` indexed once (a shipped head's), so that scoring a batch hashes only the batch
    index: Vocabulary | None = field(default=None, compare=False, repr=False)

    @property
    def uses_embedding(self) -> bool:
        return self.w_embedding is not None

    def decision(self, design: Design) -> np.ndarray:
        """Log-odds that each post is a complaint, shape (n,)."""
        n = design.n
        vocab = self.vocab if self.index is None else self.index
        rows, cols = vocabulary_hits(design.tokens, vocab, ORDERS)
        score = np.bincount(rows, weights=self.w_ngram[cols], minlength=n).astype(np.float64)
        score += ((design.dense - self.dense_mean) / self.dense_scale) @ self.w_dense
        if self.w_embedding is not None:
            if design.embedding is None:
                raise ModelError("the accurate complaint head needs the encoder's embedding")
            assert self.emb_mean is not None and self.emb_scale is not None
            score += ((design.embedding - self.emb_mean) / self.emb_scale) @ self.w_embedding
        return np.asarray(score + self.intercept, dtype=np.float64)

    def proba(self, design: Design) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.decision(design))), dtype=np.float64)

    def predict(self, design: Design) -> np.ndarray:
        return np.asarray(self.proba(design) >= self.threshold, dtype=bool)


def decide(head: ComplaintHead, design: Design) -> np.ndarray:
    """The complaint label: the head's call, or a problem topic (no connection, slow, power
    out, ...) in a post the sentiment model does not find positive ("is it down?"); never
    with a "problem over" phrase ("back up", "resolved"). Detection counts these outage
    reports, which the complaints data set has few of."""
    d = design.dense
    col = {name: i for i, name in enumerate(DENSE)}
    not_positive = d[:, col["logp_positive"]] < np.maximum(
        d[:, col["logp_negative"]], d[:, col["logp_neutral"]]
    )
    over = d[:, col["not_complaint"]] > 0
    rule = (d[:, col["problem_topic"]] > 0) & not_positive
    return np.asarray((head.predict(design) | rule) & ~over, dtype=bool)


def build_vocab(tokens: Tokens, min_count: int) -> list[str]:
    """Uni- and bi-grams seen in at least ``min_count`` posts of the training rows."""
    counts: dict[str, int] = {}
    for k in ORDERS:
        grams, rows = tokens.ngrams(k)
        if len(grams) == 0:
            continue
        # Count each n-gram once per post (document frequency).
        pairs = pa.table({"g": grams, "r": pa.array(rows)}).group_by(["g", "r"]).aggregate([])
        vc = pairs.column("g").value_counts()
        for value, count in zip(vc.field(0).to_pylist(), vc.field(1).to_pylist(), strict=True):
            if count >= min_count:
                counts[value] = count
    return sorted(counts)


def _ngram_matrix(tokens: Tokens, vocab: pa.StringArray) -> sparse.csr_matrix:
    from scipy import sparse

    rows, cols = vocabulary_hits(tokens, vocab, ORDERS)
    m = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(tokens.n, len(vocab))
    )
    m.sum_duplicates()
    return m


def _scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def fit_head(
    design: Design,
    y: np.ndarray,
    *,
    embedding: bool,
    c: float = 0.5,
    min_count: int = 2,
    threshold: float = 0.5,
    sample_weight: np.ndarray | None = None,
    ngram_weight: float = 1.0,
) -> ComplaintHead:
    """Fit one head (L2 logistic regression, balanced classes) on a training design.

    ``ngram_weight`` scales the n-gram indicators before the fit, which is the same as
    regularising their weights ``ngram_weight**2`` times less than the dense and embedding
    inputs'; the stored weights are rescaled, so scoring needs no such factor."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    vocab = pa.array(build_vocab(design.tokens, min_count), type=pa.string())
    d_mean, d_scale = _scale(design.dense)
    blocks: list[Any] = [
        _ngram_matrix(design.tokens, vocab) * ngram_weight,
        sparse.csr_matrix((design.dense - d_mean) / d_scale),
    ]
    e_mean = e_scale = None
    if embedding:
        if design.embedding is None:
            raise ModelError("fit_head(embedding=True) needs the design's embedding")
        e_mean, e_scale = _scale(design.embedding)
        blocks.append(sparse.csr_matrix((design.embedding - e_mean) / e_scale))
    x = sparse.hstack(blocks).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, np.asarray(y, dtype=bool), sample_weight=sample_weight)
    w = clf.coef_[0]
    nv, nd = len(vocab), len(DENSE)
    return ComplaintHead(
        vocab=vocab,
        w_ngram=(w[:nv] * ngram_weight).astype(np.float64),
        w_dense=w[nv : nv + nd].astype(np.float32),
        dense_mean=d_mean,
        dense_scale=d_scale,
        intercept=float(clf.intercept_[0]),
        threshold=threshold,
        w_embedding=w[nv + nd :].astype(np.float32) if embedding else None,
        emb_mean=e_mean,
        emb_scale=e_scale,
    )


def save_heads(out: Path, heads: dict[str, ComplaintHead], meta: dict[str, Any]) -> None:
    """Write ``complaint.{json,npz}`` and one vocabulary file per head."""
    arrays: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {}
    for name, h in heads.items():
        (out / f"{MODEL}-{name}.vocab.txt").write_text(
            "\n".join(h.vocab.to_pylist()), encoding="utf-8"
        )
        arrays[f"{name}.w_ngram"] = h.w_ngram.astype(np.float32)
        arrays[f"{name}.w_dense"] = h.w_dense
        arrays[f"{name}.dense_mean"] = h.dense_mean
        arrays[f"{name}.dense_scale"] = h.dense_scale
        if h.w_embedding is not None:
            assert h.emb_mean is not None and h.emb_scale is not None
            arrays[f"{name}.w_embedding"] = h.w_embedding
            arrays[f"{name}.emb_mean"] = h.emb_mean
            arrays[f"{name}.emb_scale"] = h.emb_scale
        info[name] = {"intercept": h.intercept, "threshold": h.threshold}
    np.savez_compressed(out / f"{MODEL}.npz", **arrays)  # type: ignore[arg-type]
    doc = {"dense": list(DENSE), "heads": info, **meta}
    (out / f"{MODEL}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


PROBLEM, TOPIC = 0, 1  # ids in the heads' topic phrase table


def load_topic_phrases() -> PhraseTable:
    """The heads' own topic features (``models/complaint-topics.toml``): problem phrases
    (id ``PROBLEM``) and other customer-topic phrases (id ``TOPIC``). They are frozen with the
    heads, so a brand's topic pack never changes a complaint label."""
    path = resources.files("uproar.understand") / "models" / f"{MODEL}-topics.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        groups = ((PROBLEM, data["problem"]), (TOPIC, data["topic"]))
    except (FileNotFoundError, OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"complaint topic features missing or unreadable: {exc}") from exc
    return PhraseTable((phrase, gid) for gid, phrases in groups for phrase in phrases)


def load_head(name: str) -> ComplaintHead:
    """The shipped head ``fast`` or ``accurate`` (read offline from the package)."""
    base = resources.files("uproar.understand") / "models"
    try:
        meta = json.loads((base / f"{MODEL}.json").read_text(encoding="utf-8"))
        words = (base / f"{MODEL}-{name}.vocab.txt").read_text(encoding="utf-8").split("\n")
        with (base / f"{MODEL}.npz").open("rb") as fh:
            data = dict(np.load(fh))
        info = meta["heads"][name]
    except (FileNotFoundError, OSError, KeyError, ValueError) as exc:
        raise ModelError(f"complaint model files missing or unreadable: {exc}") from exc
    if tuple(meta.get("dense", ())) != DENSE:
        raise ModelError(f"{MODEL}.json was trained on other dense features: retrain it")

    def arr(key: str) -> np.ndarray | None:
        value = data.get(f"{name}.{key}")
        return None if value is None else np.asarray(value)

    w_ngram = arr("w_ngram")
    if w_ngram is None or len(w_ngram) != len(words):
        raise ModelError(f"{MODEL}: {name} weights do not fit its vocabulary")
    vocab = pa.array(words, type=pa.string())
    return ComplaintHead(
        vocab=vocab,
        index=Vocabulary(vocab),
        w_ngram=w_ngram.astype(np.float64),
        w_dense=np.asarray(arr("w_dense"), dtype=np.float32),
        dense_mean=np.asarray(arr("dense_mean"), dtype=np.float32),
        dense_scale=np.asarray(arr("dense_scale"), dtype=np.float32),
        intercept=float(info["intercept"]),
        threshold=float(info["threshold"]),
        w_embedding=arr("w_embedding"),
        emb_mean=arr("emb_mean"),
        emb_scale=arr("emb_scale"),
    )


def macro_f1(y: Sequence[bool] | np.ndarray, p: Sequence[bool] | np.ndarray) -> float:
    """Macro-averaged F1 over the two classes (the complaint papers' metric)."""
    yt, pt = np.asarray(y, dtype=bool), np.asarray(p, dtype=bool)
    scores = []
    for cls in (True, False):
        tp = float(np.sum((yt == cls) & (pt == cls)))
        fp = float(np.sum((yt != cls) & (pt == cls)))
        fn = float(np.sum((yt == cls) & (pt != cls)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))
