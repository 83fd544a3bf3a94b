"""Uproar's ``context``: a trigger judged by the words around it (negation, hedges)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from uproar.respond.lint.checks.base import (
    Hit,
    PartsCheck,
    Pattern,
    Selection,
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
    one ``near_side`` names: ``before`` or ``after``); ``unless`` patterns within
    ``unless_window`` (default ``window``) words before cancel it (negation, hedges,
    instructions) and ``unless_after`` patterns within ``after_window`` words after;
    ``unless_text`` patterns anywhere in the draft switch the rule off for it."""

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
        unless_window = int_key(rule, "unless_window", window)
        assert unless_window is not None
        self.unless_window = unless_window

        def opt(key: str) -> Pattern | None:
            toks = token_list(rule, key) if key in rule.spec else []
            if not toks:
                return None
            return compile_pattern(
                alternation(toks, nonword=False), ignorecase=True, rule=rule, key=key
            )

        self.near, self.unless, self.unless_after = opt("near"), opt("unless"), opt("unless_after")
        self.unless_text = opt("unless_text")
        side = rule.spec.get("near_side", "both")
        if side not in ("before", "after", "both"):
            raise rule_error(rule, "near_side", "expected before, after or both")
        self.near_before, self.near_after = side != "after", side != "before"

    def run_selected(self, doc: Document, selection: Selection | None) -> Iterator[Hit]:
        # ``unless_text`` patterns anywhere in the draft cancel the rule (e.g. a draft that
        # says "this is our responsibility" is not passing the blame).
        if self.unless_text is not None and self.unless_text.search(doc.text):
            return iter(())
        return super().run_selected(doc, selection)

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = doc.text
        start, end = m.span()
        if start == end or self.excepted(m.group()):
            return None
        s_start, s_end = doc.sentence_at(start)
        before = words_before(text, start, self.window, floor=s_start)
        after = min(s_end, words_after(text, end, self.window))
        unless_from = words_before(text, start, self.unless_window, floor=s_start)
        if self.unless is not None and self.unless.search(text, unless_from, start):
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
