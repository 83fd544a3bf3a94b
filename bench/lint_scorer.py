"""Measure a learned tone scorer beside the rules, on paraphrase families held out whole.

The labelled drafts are ``src/uproar/respond/lint/scorer/drafts.yaml`` (760 drafts in 76
families: blame, defensive, flippant, dismissive and clean, many registers; batch 2, 16
families written after every rule, is also scored apart). Features:
word 1-2-gram and character 2-5-gram TF-IDF plus the shipped MiniLM's mean-pooled sentence
embedding (``/Div_output_0`` of ``sentiment-minilm.int8.onnx``, exposed with the ``onnx``
package from the ``train`` extra); a logistic regression; six-fold GroupKFold by family.
Prints, per category, the recall of the rules alone and of rules-or-scorer at several
thresholds, with the share of clean drafts flagged, the share of the 2,222 real TWCS agent
replies a scorer trained on every family flags, and the embedding rate on one core.

    python bench/lint_scorer.py
    python scripts/export_sentence_encoder.py --out /tmp/enc     # needs the train extra
    python bench/lint_scorer.py --encoder /tmp/enc/sentence-minilm.int8.onnx

``--encoder`` swaps the embedding for a general sentence encoder: all-MiniLM-L6-v2 itself
(trained on paraphrase pairs), built as int8 ONNX by ``scripts/export_sentence_encoder.py``,
whose output is already the pooled, unit-length sentence embedding.

The experiment that chose the shipped scorer (``uproar.respond.lint.tone``): the MiniLM
embedding did not lift held-out recall enough to pay for its cost per sentence, so the
linter ships the n-gram part alone; ``uproar eval lint`` measures that one.
"""

from __future__ import annotations

import argparse
import time
from importlib import resources

import numpy as np
import onnx
import onnxruntime as ort
import regex
import scipy.sparse as sp
import yaml
from onnx import TensorProto, helper
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_union
from tokenizers import Tokenizer

from uproar.respond.lint import default_linter
from uproar.respond.twcs import read_twcs
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


def general(path: str) -> tuple[ort.InferenceSession, Tokenizer, str]:
    """A sentence encoder written by ``scripts/export_sentence_encoder.py``."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(path.replace(".int8.onnx", ".tokenizer.json"))
    tok.enable_truncation(128)
    tok.no_padding()
    return session, tok, "embedding"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", help="an ONNX sentence encoder instead of the shipped MiniLM")
    args = parser.parse_args()
    text = (resources.files("uproar.respond.lint") / "scorer" / "drafts.yaml").read_text("utf-8")
    families = yaml.safe_load(text)
    drafts = [t for f in families for t in f["drafts"]]
    labels = np.array([f["label"] for f in families for _ in f["drafts"]])
    groups = [f["family"] for f in families for _ in f["drafts"]]
    batch2 = np.array([f.get("batch", 1) >= 2 for f in families for _ in f["drafts"]])
    session, tok, output = general(args.encoder) if args.encoder else (*embedder(), POOLED)

    def embed(texts: list[str]) -> np.ndarray:
        rows = []
        for d in texts:
            ids = np.asarray([tok.encode(normalise(d)).ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            rows.append(session.run([output], feeds)[0][0])
        out = np.stack(rows)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    start = time.process_time()
    emb = embed(drafts)
    rate = len(drafts) / (time.process_time() - start)
    # Real agent replies (TWCS), never trained on: the share a scorer trained on every
    # family would flag, handles and sign-offs as the linter masks them.
    replies = [regex.sub(r"^(?:@\w+\s*)+", "", r.text) for r in read_twcs().agent_replies]
    twcs = embed(replies)
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
    vec = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    full = LogisticRegression(C=10, max_iter=3000, class_weight="balanced")
    full.fit(sp.hstack([vec.fit_transform(drafts), emb]).tocsr(), labels)
    real = (
        1
        - full.predict_proba(sp.hstack([vec.transform(replies), twcs]).tocsr())[
            :, list(full.classes_).index("clean")
        ]
    )
    bad, clean_mask = labels != "clean", labels == "clean"

    def line(name: str, flagged: np.ndarray) -> str:
        per = ", ".join(f"{c} {flagged[labels == c].mean():.2f}" for c in CATEGORIES)
        return (
            f"{name}: {per}; overall {flagged[bad].mean():.2f}; "
            f"clean flagged {flagged[clean_mask].mean():.1%}"
        )

    def held(flagged: np.ndarray) -> str:
        per = ", ".join(f"{c} {flagged[batch2 & (labels == c)].mean():.2f}" for c in CATEGORIES)
        return f"batch 2 only: {per}; clean flagged {flagged[batch2 & clean_mask].mean():.1%}"

    print(
        f"scorer: {len(drafts)} drafts in {len(families)} families, embeddings {rate:.0f}/s "
        f"(CPU, one core), {len(replies)} real TWCS agent replies"
    )
    print(line("rules alone", rules))
    print("  " + held(rules))
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        flagged = rules | (proba > threshold)
        print(line(f"rules or scorer > {threshold}", flagged))
        print(f"  {held(flagged)}; TWCS replies the scorer flags {(real > threshold).mean():.1%}")


if __name__ == "__main__":
    main()
