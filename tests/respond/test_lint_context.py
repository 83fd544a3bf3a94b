"""The linter in context: draft kinds, kind detection, the brand's voice, real replies."""

from __future__ import annotations

import pytest

from uproar.respond.lint import Linter, Profile
from uproar.respond.lint.engine import default_linter, detect_kind
from uproar.respond.lint.evaluate import score_real_replies
from uproar.respond.twcs import read_twcs, twcs_path

LINTER = default_linter()
needs_twcs = pytest.mark.skipif(not twcs_path().is_file(), reason="../shared/data/twcs absent")


def _errors(text: str, kind: str | None = None, linter: Linter = LINTER) -> list[str]:
    return [f.rule for f in linter.lint(text, kind=kind) if f.severity == "error"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("@sam Sorry about this, could you DM us your address?", "reply"),
        ("Hi Priya, sorry your order is late.", "reply"),
        ("Service is back to normal for everyone in Auckland.", "resolved"),
        ("Broadband is down in Leeds. Next update at 3pm.", "update"),
        ("Broadband is back for most of Leeds; we're still working on the rest.", "update"),
        # No addressee, no service state: thanks or a promise to one person is a reply.
        ("Thanks so much, we're really glad to hear it!", "reply"),
        ("We'll call you back within two hours.", "reply"),
        ("Aw that's rubbish, sorry! We'll get it fixed.", "reply"),
        ("Sorry your trip was disrupted. You can choose a refund or a new date online.", "reply"),
        ("Yes, the app is down for everyone right now; we're on it.", "reply"),
        ("The website is slow for some users. We'll post again within the hour.", "update"),
        ("We apologise to all customers affected by today's outage.", "update"),
    ],
)
def test_kind_is_detected(text: str, kind: str) -> None:
    assert detect_kind(text) == kind


def test_reply_and_resolution_need_no_next_update() -> None:
    reply = "Hi Sam, we're so sorry. Please DM us your address so we can check your line."
    resolved = "Service is back to normal for everyone in Auckland. Sorry for the disruption."
    assert _errors(reply) == []
    assert _errors(resolved) == []
    # The same resolution linted as an update is missing what to do and when: a suggestion
    # at most, never the error a vague update gets.
    assert "Uproar.MissingFacts" not in _errors(resolved, "update")


def test_good_replies_without_markers_get_no_error() -> None:
    for text in (
        "Thanks so much, we're really glad to hear it!",
        "We'll call you back within two hours.",
        "Your plan includes unlimited calls and texts.",
        "Your device is fine, the problem is with our servers.",
    ):
        assert _errors(text) == [], text


def test_resolution_must_say_it_is_fixed() -> None:
    assert "Uproar.ResolvedFacts" in _errors("Thanks for your patience today.", "resolved")


def test_update_naming_the_cause_says_what_is_wrong() -> None:
    text = (
        "Malware on home modems is flooding the network for customers in Wellington. "
        "Please switch your modem off and on. Next update at 9pm."
    )
    assert _errors(text, "update") == []


def test_signoffs_and_leading_handles_are_not_prose() -> None:
    for text in (
        "@115716 No thank you. ^JK",
        "@sam Thanks for letting us know! /AY",
        "Thanks for the photo! -Becky",
        "We've passed this on. *ABN 2/2",
    ):
        assert _errors(text, "reply") == [], text


def test_voice_profile_decides_emoji() -> None:
    text = "Thanks for sharing 😊"
    assert LINTER.lint(text, kind="reply") == []
    strict = Linter(Profile(emoji="none"))
    assert [f.rule for f in strict.lint(text, kind="reply")] == ["Uproar.Emoji"]
    # Mocking emoji in a broadcast are an error whatever the voice allows.
    assert "Uproar.FlippantEmoji" in _errors("The app is down again 😂", "update")


def test_known_terms_are_not_jargon() -> None:
    text = "We're replacing one of our core routers in Petone."
    assert any(f.rule == "Uproar.Jargon" for f in LINTER.lint(text, kind="reply"))
    own = Linter(Profile(known_terms=("core routers",)))
    assert not any(f.rule == "Uproar.Jargon" for f in own.lint(text, kind="reply"))


@needs_twcs
def test_real_agent_replies_rarely_get_an_error() -> None:
    sample = read_twcs()
    result = score_real_replies(LINTER, [r.text for r in sample.agent_replies])
    assert result.replies == 2222
    assert result.error_share <= 0.02, result.by_rule
