"""Vale's ``repetition``: the same token twice in a row."""

from __future__ import annotations

from collections.abc import Iterator

from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Spans,
    alternation,
    bool_key,
    compile_pattern,
    fmt,
    token_list,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class Repetition(Check):
    """Vale's ``repetition``: the same token twice in a row (one backreference regex)."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self.alpha = bool_key(rule, "alpha", False)
        token = alternation(token_list(rule, "tokens"), nonword=True)
        source = rf"(?<!\S)(?P<tok>{token})\s+(?P=tok)(?!\S)"
        self.pattern = compile_pattern(source, ignorecase=self.ignorecase, rule=rule, key="tokens")

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for m in self.pattern.finditer(doc.text):
            word = m.group("tok")
            if (self.alpha and not word.isalpha()) or self.excepted(word):
                continue
            second = doc.text[m.end() - len(word) : m.end()]
            yield Hit(m.start(), m.end(), fmt(self.rule.message, second), second)
