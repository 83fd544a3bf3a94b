"""Labels on crafted posts, for both paths."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from uproar.records import Labels
from uproar.understand import Classifier, complaint_signal


@pytest.fixture(params=["fast", "accurate"])
def clf(request: pytest.FixtureRequest) -> Classifier:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def one(clf: Classifier, text: str) -> Labels:
    (labels,) = clf.classify([text])
    return labels


def test_sarcasm_is_a_negative_complaint(clf: Classifier) -> None:
    labels = one(clf, "great job @brand, third outage this week")
    assert labels.complaint and labels.sarcasm
    assert labels.sentiment == "negative"
    assert "no_connection" in labels.topics
    assert labels.sentiment_scores["negative"] == max(labels.sentiment_scores.values())


def test_plain_praise_is_neither_complaint_nor_sarcasm(clf: Classifier) -> None:
    labels = one(clf, "Just switched to @acme fibre and it's honestly brilliant, love it")
    assert not labels.complaint and not labels.sarcasm
    assert labels.sentiment == "positive"


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [("😡😡😡", "negative"), ("🎉👍", "positive"), ("🤷", "neutral")],
)
def test_emoji_only_posts(clf: Classifier, text: str, sentiment: str) -> None:
    labels = one(clf, text)
    assert labels.sentiment == sentiment
    assert labels.language is None
    assert labels.topics == ()


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_empty_text_is_neutral_and_unlabelled(clf: Classifier, text: str) -> None:
    labels = one(clf, text)
    assert labels == Labels(
        complaint=False,
        sentiment="neutral",
        topics=(),
        question=False,
        urgency=False,
        language=None,
        sarcasm=False,
        sentiment_scores=labels.sentiment_scores,
    )


@pytest.mark.parametrize(
    ("text", "language", "complaint"),
    [
        ("¿Alguien más sin internet con @movil? Desde las 8 no funciona nada", "es", True),
        ("@nordnetz seit gestern kein Internet, die Hotline ist dauerbesetzt", "de", True),
        ("toujours pas d'internet depuis ce matin, c'est inadmissible", "fr", True),
        ("インターネットが繋がらない", "ja", False),
        ("Интернет не работает", "ru", False),
        ("网络又断了", "zh", False),
    ],
)
def test_other_languages(clf: Classifier, text: str, language: str, complaint: bool) -> None:
    labels = one(clf, text)
    assert labels.language == language
    assert labels.complaint is complaint


def test_question_urgency_and_topics(clf: Classifier) -> None:
    q = one(clf, "@acme is the internet down in Leeds? any ETA")
    assert q.question and q.complaint
    assert {"no_connection", "outage_question"} <= set(q.topics)
    u = one(clf, "@acme my mum's medical alarm relies on the landline and it has been dead all day")
    assert u.urgency and u.complaint and "mobile" in u.topics
    s = one(clf, "@skylink flight cancelled and they lost my bag")
    assert {"delay_cancellation", "baggage"} <= set(s.topics) and s.complaint
    assert not one(clf, "@acme we're hiring engineers in Leeds, apply now").complaint


def test_resolution_is_not_a_complaint(clf: Classifier) -> None:
    assert not one(clf, "internet is back up, thanks @acme").complaint


def test_accepts_lists_arrow_and_chunked(fast: Classifier) -> None:
    texts = ["down again 🙄", None, "love it"]
    as_list = fast.classify([t or "" for t in texts])
    assert fast.classify(pa.array(texts)) == as_list
    assert fast.classify(pa.chunked_array([pa.array(texts[:1]), pa.array(texts[1:])])) == as_list


def test_complaint_signal_is_a_bool_array(fast: Classifier) -> None:
    sig = complaint_signal(["@acme no internet since 6am", "happy friday"])
    assert sig.dtype == np.bool_ and sig.tolist() == [True, False]
    assert fast.complaint_signal(["@acme no internet since 6am"]).tolist() == [True]


def test_hostile_text_is_just_text(fast: Classifier) -> None:
    nasty = [
        "'); DROP TABLE labels; --",
        "<script>alert(1)</script>",
        "\x00\u202e" * 50,
        "a" * 100_000,
    ]
    assert len(fast.classify(nasty)) == len(nasty)
