"""Check kinds: each turns a validated :class:`Rule` into a compiled check, once.

A check's ``run(doc)`` yields :class:`Hit` records with 0-based, end-exclusive character
offsets into the draft; the engine turns them into :class:`~uproar.records.Finding`.
Vale's kinds keep Vale's semantics where Uproar implements them (``sequence`` matches
patterns only: Uproar ships no part-of-speech tagger, so ``tag`` is rejected). Uproar's
own kinds are ``context`` (a pattern with negation and context windows) and ``facts``
(the facts a status update must state).
"""

from uproar.respond.lint.checks.base import Check, Hit, PartsCheck, Selection, Spans
from uproar.respond.lint.checks.capitalization import Capitalization
from uproar.respond.lint.checks.conditional import Conditional
from uproar.respond.lint.checks.context import Context
from uproar.respond.lint.checks.existence import Existence
from uproar.respond.lint.checks.facts import Facts
from uproar.respond.lint.checks.metric import Metric
from uproar.respond.lint.checks.occurrence import Occurrence
from uproar.respond.lint.checks.repetition import Repetition
from uproar.respond.lint.checks.sequence import SequenceCheck
from uproar.respond.lint.checks.substitution import Substitution
from uproar.respond.lint.rules import Rule

KINDS: dict[str, type[Check]] = {
    "existence": Existence,
    "substitution": Substitution,
    "occurrence": Occurrence,
    "repetition": Repetition,
    "sequence": SequenceCheck,
    "metric": Metric,
    "capitalization": Capitalization,
    "conditional": Conditional,
    "context": Context,
    "facts": Facts,
}


def compile_rule(rule: Rule) -> Check:
    return KINDS[rule.extends](rule)


__all__ = ["KINDS", "Check", "Hit", "PartsCheck", "Selection", "Spans", "compile_rule"]
