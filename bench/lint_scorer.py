"""Measure a learned tone scorer beside the rules, on paraphrase families held out whole.

The labelled drafts are ``src/uproar/respond/lint/scorer/drafts.yaml`` (600 drafts in 60
families: blame, defensive, flippant, dismissive and clean, many registers). Features:
word 1-2-gram and character 2-5-gram TF-IDF plus the shipped MiniLM's mean-pooled sentence
embedding (``/Div_output_0`` of ``sentiment-minilm.int8.onnx``, exposed with the ``onnx``
package from the ``train`` extra); a logistic regression; six-fold GroupKFold by family.
Prints, per category, the recall of the rules alone and of rules-or-scorer at several
thresholds, with the share of clean drafts flagged, and the embedding rate on one core.

    python bench/lint_scorer.py

Not yet wired into the linter: at the thresholds where recall nears the target, too many
clean drafts are flagged (see the closing note of issue 12).
"""

from __future__ import annotations

import time
from importlib import resources

import numpy as np
import onnx
import onnxruntime as ort
import scipy.sparse as sp
import yaml
from onnx import TensorProto, helper
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_union
from tokenizers import Tokenizer

from uproar.respond.lint import default_linter
from uproar.understand.text import normalise

CATEGORIES = ("blame", "defensive", "flippant", "dismissive")
POOLED = "/Div_output_0"  # mean of the last layer's hidden states, before the head


def embedder() -> tuple[ort.InferenceSession, Tokenizer]:
    base = resources.files("uproar.understand") / "models"
    model = onnx.load_from_string((base / "sentiment-minilm.int8.onnx").read_bytes())
    model.graph.output.append(helper.make_tensor_value_info(POOLED, TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    tok = Tokenizer.from_str((base / "sentiment-minilm.tokenizer.json").read_text("utf-8"))
    tok.enable_truncation(128)
    tok.no_padding()
    return session, tok


def main() -> None:
    text = (resources.files("uproar.respond.lint") / "scorer" / "drafts.yaml").read_text("utf-8")
    families = yaml.safe_load(text)
    drafts = [t for f in families for t in f["drafts"]]
    labels = np.array([f["label"] for f in families for _ in f["drafts"]])
    groups = [f["family"] for f in families for _ in f["drafts"]]
    session, tok = embedder()
    start = time.process_time()
    rows = []
    for d in drafts:
        ids = np.asarray([tok.encode(normalise(d)).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        rows.append(session.run([POOLED], feeds)[0][0])
    rate = len(drafts) / (time.process_time() - start)
    emb = np.stack(rows)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    linter = default_linter()
    rules = np.array(
        [
            any(
                f.severity in ("warning", "error") and f.category in CATEGORIES
                for f in linter.lint(d, kind="reply")
            )
            for d in drafts
        ]
    )
    proba = np.zeros(len(drafts))
    for train, test in GroupKFold(6).split(drafts, labels, groups):
        vec = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        )
        a = sp.hstack([vec.fit_transform([drafts[i] for i in train]), emb[train]]).tocsr()
        clf = LogisticRegression(C=10, max_iter=3000, class_weight="balanced")
        clf.fit(a, labels[train])
        b = sp.hstack([vec.transform([drafts[i] for i in test]), emb[test]]).tocsr()
        clean = list(clf.classes_).index("clean")
        proba[test] = 1 - clf.predict_proba(b)[:, clean]
    bad, clean_mask = labels != "clean", labels == "clean"

    def line(name: str, flagged: np.ndarray) -> str:
        per = ", ".join(f"{c} {flagged[labels == c].mean():.2f}" for c in CATEGORIES)
        return (
            f"{name}: {per}; overall {flagged[bad].mean():.2f}; "
            f"clean flagged {flagged[clean_mask].mean():.1%}"
        )

    print(f"scorer: {len(drafts)} drafts in {len(families)} families, embeddings {rate:.0f}/s")
    print(line("rules alone", rules))
    for threshold in (0.5, 0.6, 0.7, 0.8):
        print(line(f"rules or scorer > {threshold}", rules | (proba > threshold)))


if __name__ == "__main__":
    main()
