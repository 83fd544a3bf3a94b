"""A sound prefilter: which rules could possibly match a draft, from one Aho–Corasick pass.

For each rule's trigger regex we derive, from its parse tree (``pattern.py``), a set of literal
strings such that every match contains at least one of them (for ``(?:our|the) supplier``
that is ``{"supplier"}``; for an alternation, the union over its branches). One automaton
over all rules' strings scans the lower-cased draft once, and only rules with a string
present are run. A rule with no derivable set always runs. Because every match must
contain one of its rule's strings, skipping a rule never loses a finding: the results are
the same as running every rule, only faster. (Case-insensitive matching is covered by
lower-casing both sides; Unicode's rare special case folds, such as the Kelvin sign, are
the one gap.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ahocorasick_rs

from uproar.respond.lint.pattern import PatternError, parse

MAX_SET = 400
MAX_CLASS = 64
# Stands for "some character outside ASCII" (an emoji range, say): such a check runs only
# on drafts that are not pure ASCII.
NON_ASCII = "\x00non-ascii"


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-cased strings of which every match of ``pattern`` contains at least one, or
    None when no such set can be derived (the rule then always runs)."""
    try:
        tree = parse(pattern)
    except (PatternError, RecursionError):  # e.g. a ``regex``-only pattern: always run
        return None
    return tree_literals(tree)


def tree_literals(tree: Sequence[Any]) -> frozenset[str] | None:
    """``required_literals`` of a parse tree (``pattern.parse``'s, or the standard library's
    parser's, which has the same shape)."""
    try:
        found = _required(list(tree))
    except RecursionError:
        return None
    if not found or any(not f for f in found) or len(found) > MAX_SET:
        return None
    return frozenset(found)


# Words so common that requiring one of them prunes nothing; a set containing one scores
# as if its strings were a single character long.
_COMMON = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "it's",
        "its",
        "just",
        "me",
        "more",
        "my",
        "no",
        "not",
        "now",
        "of",
        "oh",
        "on",
        "one",
        "only",
        "or",
        "our",
        "out",
        "she",
        "so",
        "some",
        "that",
        "the",
        "their",
        "them",
        "there",
        "they",
        "this",
        "to",
        "try",
        "up",
        "us",
        "was",
        "we",
        "what",
        "when",
        "will",
        "with",
        "yes",
        "you",
        "your",
        "all",
        "any",
        "ha",
        "ah",
        "he",
    )
)


def _score(found: set[str]) -> tuple[float, float]:
    """Prefer sets whose weakest string is rarest (longer, not a common word, not bare
    punctuation or space), then sets whose strings are rarer on average."""

    def rarity(f: str) -> float:
        if f == NON_ASCII:
            return 8.0
        core = f.strip()
        if not any(ch.isalnum() for ch in core):
            return 0.5 if core else 0.0
        return 1.0 if core in _COMMON else float(len(core))

    scores = [rarity(f) for f in found]
    return (min(scores), sum(scores) / len(scores))


def _required(items: list[Any]) -> set[str] | None:
    """Best required set for a sequence: any one mandatory item's set will do. Runs of
    literals (and small literal classes such as ``[Yy]``) are joined into strings."""
    candidates: list[set[str]] = []
    run: set[str] = {""}
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            run = {r + chr(arg).lower() for r in run}
            continue
        if name == "IN":
            chars = _class(arg)
            if chars is not None and len(chars) * len(run) <= 16:
                run = {r + c for r in run for c in chars}
                continue
        if run != {""}:
            candidates.append(run)
        run = {""}
        item = _item(name, arg)
        if item:
            candidates.append(item)
    if run != {""}:
        candidates.append(run)
    candidates = [c for c in candidates if c and all(c) and len(c) <= MAX_SET]
    if not candidates:
        return None
    return max(candidates, key=_score)


def _non_ascii_class(arg: Any) -> bool:
    for op, value in arg:
        if str(op) == "LITERAL" and value >= 0x80:
            continue
        if str(op) == "RANGE" and value[0] >= 0x80:
            continue
        return False
    return bool(arg)


def _class(arg: Any) -> set[str] | None:
    chars = set()
    for op, value in arg:
        if str(op) == "LITERAL":
            chars.add(chr(value).lower())
        elif str(op) == "RANGE" and value[1] - value[0] < 16:
            chars.update(chr(c).lower() for c in range(value[0], value[1] + 1))
        else:
            return None
    return chars or None


def _item(name: str, arg: Any) -> set[str] | None:
    if name == "SUBPATTERN":
        return _required(list(arg[-1]))
    if name == "BRANCH":
        out: set[str] = set()
        for alt in arg[1]:
            found = _required(list(alt))
            if found is None:
                return None
            out |= found
            if len(out) > MAX_SET:
                return None
        return out
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        lo, _hi, sub = arg
        return _required(list(sub)) if lo >= 1 else None
    if name == "IN":
        if _non_ascii_class(arg):
            return {NON_ASCII}
        chars = _class(arg)
        return chars if chars is not None and len(chars) <= MAX_CLASS else None
    return None  # zero-width assertions, wildcards, classes: no information


class Prefilter:
    """Maps a draft to the indices of the checks that could match it."""

    def __init__(self, patterns: Sequence[str | None]) -> None:
        self.always: list[int] = []
        self.non_ascii: list[int] = []
        literal_to: dict[str, set[int]] = {}
        for index, pattern in enumerate(patterns):
            found = required_literals(pattern) if pattern is not None else None
            if found is None:
                self.always.append(index)
                continue
            for lit in found:
                if lit == NON_ASCII:
                    self.non_ascii.append(index)
                else:
                    literal_to.setdefault(lit, set()).add(index)
        self.literals = sorted(literal_to)
        self.owners = [frozenset(literal_to[lit]) for lit in self.literals]
        self.automaton = ahocorasick_rs.AhoCorasick(self.literals) if self.literals else None

    def hits(self, text: str) -> dict[int, list[int] | None]:
        """For each check that could match: the offsets of its literals in ``text`` (None
        for checks that always run, or when lower-casing changed the text's length)."""
        out: dict[int, list[int] | None] = dict.fromkeys(self.always)
        if self.non_ascii and not text.isascii():
            out.update(dict.fromkeys(self.non_ascii))
        if self.automaton is None:
            return out
        lower = text.lower()
        exact = len(lower) == len(text)
        owners = self.owners
        for lit_index, start, _end in self.automaton.find_matches_as_indexes(
            lower, overlapping=True
        ):
            for check in owners[lit_index]:
                if not exact:
                    out[check] = None
                    continue
                offsets = out.setdefault(check, [])
                if offsets is not None:
                    offsets.append(start)
        return out
