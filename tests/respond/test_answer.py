"""Answering what was asked, on real customer messages from ../shared/data/twcs/: no claim
of a known problem without an open incident, thanks without apology, the link warning only
with a link, the security answer, airline replies to airlines; and the packs themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from uproar.config import INDUSTRIES
from uproar.errors import ConfigError
from uproar.respond.answer import (
    INTENTS,
    SILENT,
    PackFile,
    classify_intent,
    compose_reply,
    has_link,
    load_pack,
)
from uproar.respond.inbox_eval import Answered, answer_all, load_inbox_labels, twcs_industries
from uproar.respond.lint import default_linter
from uproar.respond.thread import parse_facts
from uproar.respond.twcs import TwcsSample, read_twcs, twcs_path
from uproar.understand.classifier import Classifier

LINTER = default_linter()
needs_twcs = pytest.mark.skipif(not twcs_path().is_file(), reason="../shared/data/twcs absent")


@pytest.fixture(scope="module")
def sample() -> TwcsSample:
    return read_twcs()


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier("fast")


@pytest.fixture(scope="module")
def answered(sample: TwcsSample, classifier: Classifier) -> list[Answered]:
    return answer_all(sample, load_inbox_labels(), LINTER, classifier)


def _reply(text: str, industry: str | None, classifier: Classifier, *, incident: bool = False):
    pack = load_pack(industry)
    labels = classifier.classify([text])[0]
    intent = classify_intent(text, labels, pack)
    topic = pack.topic_of(labels.topics)
    reply = compose_reply(
        pack, intent, topic, incident_open=incident, link=has_link(text), linter=LINTER
    )
    return intent, topic, reply


# -- the packs -----------------------------------------------------------------------------
def test_every_industry_has_a_pack() -> None:
    for industry in INDUSTRIES:
        assert load_pack(industry).topics


@pytest.mark.parametrize("industry", [None, *INDUSTRIES])
def test_every_shipped_reply_lints_clean(industry: str | None) -> None:
    facts = parse_facts(
        {
            "brand": "KiwiNet",
            "what": "broadband is down",
            "who": "customers in Auckland",
            "do": "restart your modem",
            "doing": "replacing a damaged cable",
            "next_update": "9am",
            "link": "https://status.kiwinet.co.nz",
        }
    )
    pack = load_pack(industry)
    for reply in pack.replies:
        text = reply.text.replace("{identifier}", pack.identifier)
        from uproar.respond.thread import fill_facts

        text = fill_facts(text, facts)
        assert LINTER.lint(text, kind="reply") == [], text  # not even a warning


def test_pack_rules_hold_whatever_the_data_says(tmp_path: Path) -> None:
    bad = tmp_path / "airline.toml"
    bad.write_text(
        'industry = "airline"\nname = "x"\nidentifier = "your booking reference"\n'
        '[[replies]]\nintent = "thanks"\ntext = "Sorry, and thanks!"\n'
    )
    with pytest.raises(ConfigError, match="must not apologise"):
        load_pack("airline", bad)
    bad.write_text(
        'industry = "airline"\nname = "x"\nidentifier = "your booking reference"\n'
        '[[replies]]\nintent = "question"\ntext = "It\'s not just you, we know about it."\n'
    )
    with pytest.raises(ConfigError, match="incident = true"):
        load_pack("airline", bad)
    with pytest.raises(ConfigError, match="unknown industry"):
        load_pack("shipping")
    assert set(INTENTS) >= SILENT and PackFile


# -- real customer messages ----------------------------------------------------------------
@needs_twcs
def test_no_known_problem_without_an_open_incident(answered: list[Answered]) -> None:
    drafts = [a.draft for a in answered if a.draft is not None]
    assert len(drafts) > 250
    for draft in drafts:
        assert "not just you" not in draft.lower() and "we know about" not in draft.lower()


@needs_twcs
def test_known_problem_only_while_an_incident_is_open(classifier: Classifier) -> None:
    # A real post (TWCS 61, to Verizon) asking whether everything is down.
    text = "@VerizonSupport All of VERIZON IS DOWN When can we expect a fix ?"
    _, _, quiet = _reply(text, "telco", classifier)
    _, _, during = _reply(text, "telco", classifier, incident=True)
    assert quiet is not None and during is not None
    assert "not just you" not in quiet.text.lower()
    assert "not just you" in during.text.lower()


@needs_twcs
def test_thanks_get_thanks_not_an_apology(
    sample: TwcsSample, classifier: Classifier, answered: list[Answered]
) -> None:
    thanked = [a for a in answered if a.intent == "thanks" and a.predicted_intent == "thanks"]
    assert len(thanked) >= 20
    for a in thanked:
        assert a.draft is not None and "thank" in a.draft.lower()
        assert "sorry" not in a.draft.lower() and "apolog" not in a.draft.lower(), a.text
    rows = sample.by_id()
    # "You guys are amazing, seriously thank you" (TWCS 1235, to Southwest).
    intent, _, reply = _reply(rows["1235"].text, "airline", classifier)
    assert intent == "thanks" and reply is not None and "sorry" not in reply.text.lower()


@needs_twcs
def test_link_warning_only_with_a_link(sample: TwcsSample, classifier: Classifier) -> None:
    rows = sample.by_id()
    # A real security post without a link (TWCS 5055: "my Executive Club account has been
    # hacked") gets the security answer and no link warning.
    intent, topic, reply = _reply(rows["5055"].text, "airline", classifier)
    assert topic == "security" and reply is not None
    assert "never ask for your password" in reply.text
    assert "link" not in reply.text.lower()
    # The same words with a link attached get the warning.
    with_link = rows["5055"].text + " they sent me https://t.co/abc123"
    *_, warned = _reply(with_link, "airline", classifier)
    assert warned is not None and "don't open the link" in warned.text
    # Across every real customer message: a warning only where the post has a link.
    pack = load_pack(None)
    posts = sample.customer_messages
    for r, labels in zip(posts, classifier.classify([r.text for r in posts]), strict=True):
        topic = pack.topic_of(labels.topics)
        if topic != "security":
            continue
        intent = classify_intent(r.text, labels, pack)
        reply = compose_reply(
            pack, intent, topic, incident_open=False, link=has_link(r.text), linter=LINTER
        )
        if reply is not None and "don't open the link" in reply.text:
            assert has_link(r.text), r.text


@needs_twcs
def test_security_questions_get_the_security_answer(
    sample: TwcsSample, classifier: Classifier
) -> None:
    rows = sample.by_id()
    for tid, industry in (("1264", "online"), ("1993", "telco"), ("5055", "airline")):
        _, topic, reply = _reply(rows[tid].text, industry, classifier)
        assert topic == "security", rows[tid].text
        assert reply is not None and "never ask for your password" in reply.text


@needs_twcs
def test_airline_brands_get_airline_replies(
    classifier: Classifier, answered: list[Answered]
) -> None:
    industries = twcs_industries()
    airline = [a for a in answered if industries.get(a.brand) == "airline" and a.draft]
    assert len(airline) >= 30
    for a in airline:
        assert a.draft is not None
        for word in ("modem", "router", "cut off", "broadband", "order number"):
            assert word not in a.draft.lower(), (a.text, a.draft)
    asks = [a.draft for a in airline if a.draft and "DM" in a.draft and "booking" in a.draft]
    assert len(asks) >= len(airline) // 2
    # "How do I change my flight that was cancelled?" gets rebooking, not modem advice.
    _, topic, reply = _reply("How do I change my flight that was cancelled?", "airline", classifier)
    assert topic == "delay_cancellation" and reply is not None and "booking reference" in reply.text
