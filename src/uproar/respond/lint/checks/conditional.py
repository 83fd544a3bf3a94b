"""Vale's ``conditional``: the first pattern requires the second."""

from __future__ import annotations

from collections.abc import Iterator

from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Spans,
    compile_pattern,
    fmt,
    rule_error,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class Conditional(Check):
    """Vale's ``conditional``. With a capture group in ``second`` it is Vale's check (each
    ``first`` match must be among ``second``'s captures, e.g. acronyms defined); without
    one, ``first`` anywhere requires ``second`` somewhere (e.g. hurt implies an apology)."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        first, second = rule.spec.get("first"), rule.spec.get("second")
        if not isinstance(first, str) or not isinstance(second, str):
            raise rule_error(rule, "first", "first and second must be regex strings")
        self.first = compile_pattern(first, ignorecase=self.ignorecase, rule=rule, key="first")
        self.second = compile_pattern(second, ignorecase=self.ignorecase, rule=rule, key="second")
        self.first_source = first

    @property
    def gate(self) -> str | None:
        return self.gate_for(self.first_source)

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        text = doc.text
        if self.second.groups:
            known = {m.group(1) for m in self.second.finditer(text)}
            for m in self.finditer(self.first, doc, spans):
                key = m.group(1) if self.first.groups else m.group()
                if key not in known and not self.excepted(m.group()):
                    yield Hit(
                        m.start(), m.end(), fmt(self.rule.message, m.group()), self.rule.suggestion
                    )
            return
        if self.second.search(text) is not None:
            return
        for m in self.finditer(self.first, doc, spans):
            if not self.excepted(m.group()):
                yield Hit(
                    m.start(), m.end(), fmt(self.rule.message, m.group()), self.rule.suggestion
                )
                return
