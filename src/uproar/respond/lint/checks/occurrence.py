"""Vale's ``occurrence``: too many (or too few) of a token per scope."""

from __future__ import annotations

from collections.abc import Iterator

from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Spans,
    compile_pattern,
    fmt,
    int_key,
    rule_error,
    scope_spans,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class Occurrence(Check):
    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        token = rule.spec.get("token")
        if not isinstance(token, str) or not token:
            raise rule_error(rule, "token", "expected a non-empty string")
        self.pattern = compile_pattern(token, ignorecase=self.ignorecase, rule=rule, key="token")
        self.max = int_key(rule, "max", None)
        self.min = int_key(rule, "min", None)
        if self.max is None and self.min is None:
            raise rule_error(rule, "max", "an occurrence rule needs max or min")

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for s, e in scope_spans(doc, self.rule.scope):
            count = sum(1 for _ in self.pattern.finditer(doc.text, s, e))
            if (self.max is not None and count > self.max) or (
                self.min is not None and count < self.min
            ):
                yield Hit(s, e, fmt(self.rule.message, str(count)), self.rule.suggestion)
