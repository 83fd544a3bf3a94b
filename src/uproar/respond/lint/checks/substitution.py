"""Vale's ``substitution``: flag a pattern and suggest its swap."""

from __future__ import annotations

import re
from collections.abc import Mapping

from uproar.respond.lint.checks.base import (
    Hit,
    PartsCheck,
    alternation,
    bool_key,
    fmt,
    rule_error,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class Substitution(PartsCheck):
    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        swap = rule.spec.get("swap")
        if not isinstance(swap, Mapping) or not swap:
            raise rule_error(rule, "swap", "expected a mapping of pattern: replacement")
        self.replacements: list[str] = []
        nonword = bool_key(rule, "nonword", False)
        sources = []
        for pattern, replacement in swap.items():
            if not isinstance(pattern, str) or not isinstance(replacement, str):
                raise rule_error(rule, "swap", f"entry {pattern!r} must map a string to a string")
            sources.append(alternation([pattern], nonword=nonword))
            self.replacements.append(replacement)
        self.compile_parts(sources, key=[f"swap.{pat}" for pat in swap])

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = m.group()
        replacement = self.replacements[index]
        if not text or self.excepted(text) or replacement.lower() == text.lower():
            return None
        return Hit(m.start(), m.end(), fmt(self.rule.message, replacement, text), replacement)
