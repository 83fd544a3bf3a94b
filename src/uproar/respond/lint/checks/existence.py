"""Vale's ``existence``: flag any of the tokens."""

from __future__ import annotations

import re

from uproar.respond.lint.checks.base import (
    Hit,
    PartsCheck,
    alternation,
    bool_key,
    fmt,
    token_list,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class Existence(PartsCheck):
    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        nonword = bool_key(rule, "nonword", False)
        if "raw" in rule.spec:
            sources = ["".join(token_list(rule, "raw"))]
        else:
            sources = [alternation([t], nonword=nonword) for t in token_list(rule, "tokens")]
        self.compile_parts(sources, key="tokens")

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = m.group()
        if not text or self.excepted(text):
            return None
        return Hit(m.start(), m.end(), fmt(self.rule.message, text), self.rule.suggestion)
