"""The complaint heads, plain outage wording, questions without '?' and language."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from uproar.understand import Classifier
from uproar.understand import complaint_eval as ce
from uproar.understand.complaint import fit_head, load_head, macro_f1, save_heads
from uproar.understand.evaluate import language_score


def one(clf: Classifier, text: str):  # type: ignore[no-untyped-def]
    return clf.classify([text])[0]


@pytest.mark.parametrize(
    "text",
    [
        "my wifi is dead",
        "anyone else's wifi dead in Wellington?",
        "broadband's been dead all morning",
    ],
)
def test_plain_outage_wording_is_a_complaint_about_connection(fast: Classifier, text: str) -> None:
    labels = one(fast, text)
    assert labels.complaint
    assert "no_connection" in labels.topics


def test_anyone_else_is_an_outage_question(fast: Classifier) -> None:
    labels = one(fast, "anyone else's wifi dead in Wellington?")
    assert labels.question and "outage_question" in labels.topics


@pytest.mark.parametrize(
    "text",
    [
        "@acme been transferred 5 times and still nobody can tell me anything",
        "@acme still waiting for a call back, third day now",
        "@SwiftAir sat on the tarmac for two hours and nobody told us anything",
        "@ShopCo my parcel says delivered but it never arrived",
    ],
)
def test_complaints_beyond_outages(fast: Classifier, accurate: Classifier, text: str) -> None:
    assert one(fast, text).complaint
    assert one(accurate, text).complaint


@pytest.mark.parametrize(
    "text",
    [
        "happy friday everyone",
        "@ShopCo what time does the Leeds store open on Sunday",
        "good morning",
    ],
)
def test_not_complaints(fast: Classifier, accurate: Classifier, text: str) -> None:
    assert not one(fast, text).complaint
    assert not one(accurate, text).complaint


def test_question_by_form_without_a_question_mark(fast: Classifier) -> None:
    assert one(fast, "phone line has been dead since yesterday, what do I do").question
    assert one(fast, "does anyone know how to reset the router").question
    assert not one(fast, "phone line has been dead since yesterday").question


def test_airline_words_are_not_tv(fast: Classifier) -> None:
    assert "tv" not in one(fast, "Freezing on a runway for an hour @SwiftAir").topics


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Do less please @JetBlue", "en"),
        ("lol ur app is trash fr", "en"),
        ("@united", None),
        ("@JetBlue 😡😡", None),
        ("https://t.co/abc123", None),
        ("Flug gestrichen ohne Info", "de"),
        ("vlucht geannuleerd zonder uitleg", "nl"),
        ("sin internet otra vez", "es"),
    ],
)
def test_language(fast: Classifier, text: str, language: str | None) -> None:
    assert one(fast, text).language == language


def test_language_accuracy_on_labelled_short_posts(fast: Classifier) -> None:
    score = language_score(fast, None)
    assert score.posts >= 300
    assert score.accuracy >= 0.95, score.errors


def test_a_head_fits_saves_and_loads(tmp_path: Path) -> None:
    texts = [
        "my internet is down again",
        "no signal for three days, useless",
        "flight cancelled and no refund",
        "still waiting for my parcel",
        "happy friday everyone",
        "thanks for the help today",
        "what time do you open",
        "love the new app",
    ] * 3
    y = np.tile(np.array([True] * 4 + [False] * 4), 3)
    design = ce.design_for(texts, accurate=False)
    head = fit_head(design, y, embedding=False, c=1.0, min_count=1)
    assert macro_f1(y, head.predict(design)) == 1.0
    save_heads(tmp_path, {"fast": head}, {"note": "test"})
    meta = json.loads((tmp_path / "complaint.json").read_text())
    assert meta["note"] == "test" and "fast" in meta["heads"]


def test_ngram_weight_is_folded_into_the_stored_weights() -> None:
    """A head fitted with scaled n-grams scores raw designs as the fitted model does."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    from uproar.understand.complaint import _ngram_matrix, _scale

    texts = [
        "my internet is down again",
        "no signal for three days, useless",
        "still waiting for my parcel, again",
        "happy friday everyone",
        "thanks for the help again",
        "what time do you open",
    ] * 2
    y = np.tile(np.array([True] * 3 + [False] * 3), 2)
    design = ce.design_for(texts, accurate=False)
    head = fit_head(design, y, embedding=False, c=0.5, min_count=1, ngram_weight=3.0)
    mean, scale = _scale(design.dense)
    x = sparse.hstack(
        [_ngram_matrix(design.tokens, head.vocab) * 3.0, (design.dense - mean) / scale]
    ).tocsr()
    clf = LogisticRegression(C=0.5, max_iter=3000, class_weight="balanced").fit(x, y)
    assert np.allclose(head.decision(design), clf.decision_function(x), atol=1e-4)
    plain = fit_head(design, y, embedding=False, c=0.5, min_count=1)
    # Scaling the n-grams up regularises them less: they carry more of the decision.
    assert np.abs(head.w_ngram).sum() > np.abs(plain.w_ngram).sum()


def test_accurate_complaint_vector_is_the_onnx_complaint_output() -> None:
    """The accurate head reads ``complaint_embedding`` (layer 4), not the sentiment head's
    input, and a post's vector does not depend on its batch."""
    from uproar.understand.accurate import AccurateSentiment

    model = AccurateSentiment(threads=1)
    outputs = {o.name for o in model.session.get_outputs()}
    assert {"logits", "embedding", "complaint_embedding"} <= outputs
    texts = ["@acme still waiting for a call back", "happy friday everyone"]
    _, vectors = model.encode(texts)
    ids = model.tokenizer.encode("@user still waiting for a call back").ids
    x = np.asarray([ids], dtype=np.int64)
    feeds = {"input_ids": x, "attention_mask": np.ones_like(x)}
    layer4, last = model.session.run(["complaint_embedding", "embedding"], feeds)
    assert vectors.shape == (2, 384)
    assert np.allclose(vectors[0], layer4[0])
    assert not np.allclose(layer4[0], last[0])
    assert np.allclose(model.encode(texts[:1])[1][0], vectors[0])


def test_shipped_heads_load() -> None:
    assert not load_head("fast").uses_embedding
    assert load_head("accurate").uses_embedding


def test_macro_f1() -> None:
    y = np.array([True, True, False, False])
    assert macro_f1(y, y) == 1.0
    # complaint F1 2/3, not-complaint F1 0.8
    assert macro_f1(y, np.array([True, False, False, False])) == pytest.approx((2 / 3 + 0.8) / 2)


@pytest.mark.slow
def test_fast_head_cross_validates_on_the_complaints_set(shared_data: Path) -> None:
    data = ce.join(ce.read_complaints(shared_data), ce.read_own())
    design = ce.design_for(data.texts, accurate=False)
    score, pred = ce.cross_validate(data, design, accurate=False)
    assert score.posts == 3449 and len(pred) == 3449
    assert score.macro_f1 >= 0.80


@pytest.mark.slow
def test_accurate_head_cross_validates_on_the_complaints_set(shared_data: Path) -> None:
    data = ce.join(ce.read_complaints(shared_data), ce.read_own())
    design = ce.design_for(data.texts, accurate=True)
    accurate, _ = ce.cross_validate(data, design, accurate=True)
    fast, _ = ce.cross_validate(data, design, accurate=False)
    assert accurate.posts == 3449
    # The encoder's vector adds to the fast head's inputs (0.85 against 0.83 when written).
    assert accurate.macro_f1 > fast.macro_f1 + 0.01
    assert accurate.macro_f1 >= 0.85
