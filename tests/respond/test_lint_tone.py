"""The learned tone scorer: shipped files, findings that name the sentence, held-out targets."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from uproar.respond.lint import Linter, Profile
from uproar.respond.lint.evaluate import load_evalset, load_families, score_scorer, score_twcs
from uproar.respond.lint.tone import (
    CLEAN,
    RULE_ID,
    TONE_CLASSES,
    ToneScorer,
    TrainingSet,
    fit,
    load_scorer,
    shipped_scorer,
)
from uproar.respond.twcs import read_twcs

# Written for this test, in words that appear in no family and that no rule matches.
BLAME = (
    "Honestly the folks who share their wifi password with half the street brought this "
    "on themselves."
)
DISMISSIVE = "There is really nothing more for us to discuss here."
NEUTRAL = "Broadband is down in Leeds. We're sorry."


def test_shipped_model_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model is two package files read with importlib.resources: no network at all."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the tone scorer tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    scorer = load_scorer()
    assert set(scorer.classes) == {CLEAN, *TONE_CLASSES}
    assert set(scorer.thresholds) == set(TONE_CLASSES)
    assert 0.0 < scorer.verdict(BLAME).score <= 1.0
    folder = Path(__file__).parents[2] / "src" / "uproar" / "respond" / "lint" / "scorer"
    assert (folder / "tone.npz").stat().st_size < 2_000_000


def test_held_out_phrasings_are_caught_and_named_by_sentence() -> None:
    rules = Linter(scorer=False)
    linter = Linter()
    families = {t for f in load_families() for t in f.drafts}
    for sentence, category in ((BLAME, "blame"), (DISMISSIVE, "dismissive")):
        assert sentence not in families
        assert not [f for f in rules.lint(sentence, kind="reply") if f.category == category]
        draft = f"{NEUTRAL} {sentence}"
        found = [f for f in linter.lint(draft, kind="reply") if f.rule == RULE_ID]
        assert len(found) == 1, found
        finding = found[0]
        assert finding.category == category and finding.severity == "warning"
        assert draft[finding.start - 1 : finding.end] == sentence
        assert sentence in finding.message


def test_profile_switches_the_scorer_off_or_changes_its_level() -> None:
    off = Linter(Profile(disable=frozenset({RULE_ID})))
    assert off.scorer is None
    assert not [f for f in off.lint(BLAME, kind="reply") if f.rule == RULE_ID]
    loud = Linter(Profile(levels={RULE_ID: "error"}))
    assert {f.severity for f in loud.lint(BLAME, kind="reply") if f.rule == RULE_ID} == {"error"}
    assert Linter(scorer=False).scorer is None


def _tiny() -> TrainingSet:
    sentences = (
        "it is your fault",
        "you broke it yourself",
        "we did nothing wrong",
        "our network was fine",
        "lol oops",
        "haha whatever",
        "not our problem",
        "nothing we can do",
        "we are sorry, engineers are on it",
        "service is back, thanks for waiting",
    )
    labels = ("blame", "blame", "defensive", "defensive", "flippant", "flippant")
    labels += ("dismissive", "dismissive", CLEAN, CLEAN)
    return TrainingSet(sentences, labels, tuple(f"g{i}" for i in range(len(labels))))


def test_fit_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    thresholds = dict.fromkeys(TONE_CLASSES, 0.5)
    a, b = fit(_tiny(), thresholds), fit(_tiny(), thresholds)
    assert np.array_equal(a.coef, b.coef)
    a.save(tmp_path)
    c = load_scorer(tmp_path)
    assert isinstance(c, ToneScorer) and c.classes == a.classes
    for s in ("it is your fault", "we are sorry", "brand new words"):
        assert np.allclose(a.proba(s), c.proba(s), atol=1e-5)


def test_shipped_model_is_what_the_script_records() -> None:
    meta = shipped_scorer().meta
    assert meta["script"] == "scripts/train_tone.py"
    assert meta["drafts"] == sum(len(f.drafts) for f in load_families())


@pytest.mark.slow
def test_scorer_meets_the_targets_on_held_out_families() -> None:
    """The issue's bar: on paraphrase families held out whole (nested GroupKFold), rules or
    scorer catch >= 0.85 of each tone category and >= 0.9 overall; real agent replies with
    an error stay <= 2% and clean drafts with an error <= 5% (scorer findings are warnings)."""
    rules = Linter(scorer=False)
    replies = read_twcs().agent_replies
    held = score_scorer(rules, load_families(), replies)
    assert all(held.recall[c] >= 0.85 for c in TONE_CLASSES), held.recall
    assert held.overall_recall >= 0.9
    assert held.clean_flagged <= 0.3  # reported by `uproar eval lint`; guards regressions
    real = score_twcs(Linter(), replies)
    assert real.error_share <= 0.02
    assert real.unseen_scorer_share <= 0.15
    clean = [d for d in load_evalset() if not d.labels]
    linter = Linter()
    with_error = sum(Linter.has_errors(linter.lint(d.text, kind=d.kind)) for d in clean)
    assert with_error / len(clean) <= 0.05
