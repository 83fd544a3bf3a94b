"""Uproar's ``context``: a trigger judged by the words around it (negation, hedges)."""

from __future__ import annotations

import re

from uproar.respond.lint.checks.base import (
    Hit,
    PartsCheck,
    Pattern,
    alternation,
    bool_key,
    compile_pattern,
    fmt,
    int_key,
    rule_error,
    token_list,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document, words_after, words_before


class Context(PartsCheck):
    """Uproar's ``context``: a trigger pattern judged by the words around it, within its
    sentence. ``near`` patterns must occur within ``window`` words on either side (or the
    one ``near_side`` names: ``before`` or ``after``);
    ``unless`` patterns within ``window`` words before cancel it (negation, hedges,
    instructions) and ``unless_after`` patterns within ``after_window`` words after."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        nonword = bool_key(rule, "nonword", False)
        self.compile_parts(
            [alternation([t], nonword=nonword) for t in token_list(rule, "tokens")], key="tokens"
        )
        window = int_key(rule, "window", 6)
        assert window is not None
        self.window = window
        after_window = int_key(rule, "after_window", window)
        assert after_window is not None
        self.after_window = after_window

        def opt(key: str) -> Pattern | None:
            toks = token_list(rule, key) if key in rule.spec else []
            if not toks:
                return None
            return compile_pattern(
                alternation(toks, nonword=False), ignorecase=True, rule=rule, key=key
            )

        self.near, self.unless, self.unless_after = opt("near"), opt("unless"), opt("unless_after")
        side = rule.spec.get("near_side", "both")
        if side not in ("before", "after", "both"):
            raise rule_error(rule, "near_side", "expected before, after or both")
        self.near_before, self.near_after = side != "after", side != "before"

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = doc.text
        start, end = m.span()
        if start == end or self.excepted(m.group()):
            return None
        s_start, s_end = doc.sentence_at(start)
        before = words_before(text, start, self.window, floor=s_start)
        after = min(s_end, words_after(text, end, self.window))
        if self.unless is not None and self.unless.search(text, before, start):
            return None
        if self.unless_after is not None and self.unless_after.search(
            text, end, min(s_end, words_after(text, end, self.after_window))
        ):
            return None
        if self.near is not None and not (
            (self.near_before and self.near.search(text, before, start))
            or (self.near_after and self.near.search(text, end, after))
        ):
            return None
        return Hit(start, end, fmt(self.rule.message, m.group()), self.rule.suggestion)
