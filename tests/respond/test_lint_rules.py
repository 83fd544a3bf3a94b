"""Every shipped rule's own examples: each bad one is flagged by that rule, no good one is."""

from __future__ import annotations

import pytest

from uproar.respond.lint import Linter, Profile, Rule, load_rules
from uproar.respond.lint.engine import shipped_styles

RULES = load_rules(Profile(styles=tuple(shipped_styles())))


def _linter(rule: Rule) -> Linter:
    tone = rule.tones[0]
    return Linter(Profile(tone=tone, emoji="none"), rules=[rule])


def _kind(rule: Rule) -> str:
    return rule.applies_to[0]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_examples(rule: Rule) -> None:
    assert rule.bad, f"{rule.id} has no bad examples"
    assert rule.good, f"{rule.id} has no good examples"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_bad_examples_are_flagged(rule: Rule) -> None:
    linter = _linter(rule)
    for text in rule.bad:
        found = [f for f in linter.lint(text, kind=_kind(rule)) if f.rule == rule.id]
        assert found, f"{rule.id} missed its bad example: {text!r}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_good_examples_are_clean(rule: Rule) -> None:
    linter = _linter(rule)
    for text in rule.good:
        found = [f for f in linter.lint(text, kind=_kind(rule)) if f.rule == rule.id]
        assert not found, f"{rule.id} flagged its good example {text!r}: {found}"
