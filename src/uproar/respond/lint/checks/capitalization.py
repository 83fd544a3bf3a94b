"""Vale's ``capitalization``: each unit of a scope must follow a case style."""

from __future__ import annotations

import re
from collections.abc import Iterator

from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Pattern,
    Spans,
    compile_pattern,
    fmt,
    rule_error,
    scope_spans,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class Capitalization(Check):
    """Vale's ``capitalization``: each unit of ``scope`` must follow ``match``."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        match = rule.spec.get("match")
        if not isinstance(match, str) or not match:
            raise rule_error(rule, "match", "expected $title, $sentence, $lower, $upper or a regex")
        self.match = match
        self.regex: Pattern | None = None
        if not match.startswith("$"):
            self.regex = compile_pattern(match, ignorecase=False, rule=rule, key="match")
        elif match not in ("$title", "$sentence", "$lower", "$upper"):
            raise rule_error(rule, "match", f"unknown style {match!r}")

    def ok(self, text: str) -> bool:
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return True
        if self.regex is not None:
            return self.regex.search(text) is not None
        if self.match == "$upper":
            return all(c.isupper() for c in letters)
        if self.match == "$lower":
            return all(c.islower() for c in letters)
        words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", text) if not self.excepted(w)]
        if not words:
            return True
        if self.match == "$sentence":
            return words[0][0].isupper() and all(
                not w[0].isupper() or w.isupper() or w[1:] != w[1:].lower() or i == 0
                for i, w in enumerate(words)
            )
        small = {
            "a",
            "an",
            "and",
            "as",
            "at",
            "but",
            "by",
            "for",
            "in",
            "of",
            "on",
            "or",
            "the",
            "to",
        }
        return all(w[0].isupper() or (w.lower() in small and i) for i, w in enumerate(words))

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for s, e in scope_spans(doc, self.rule.scope):
            if not self.ok(doc.text[s:e]):
                yield Hit(s, e, fmt(self.rule.message, doc.text[s:e]), self.rule.suggestion)
