"""What every check kind shares: the hit record, pattern compilation, key validation,
the base classes (a rule split into independently matched tokens is a ``PartsCheck``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, cast

import regex

from uproar.errors import RuleError
from uproar.records import Severity
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document

# ``regex`` patterns duck-type as ``re`` ones (the module ships no type stubs).
Pattern: TypeAlias = re.Pattern[str]
Spans: TypeAlias = Sequence[tuple[int, int]]
Selection: TypeAlias = Mapping[int, Spans | None]


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    message: str
    suggestion: str | None = None
    level: Severity | None = None


def rule_error(rule: Rule, key: str, why: str) -> RuleError:
    return RuleError(
        f"{rule.source}: {rule.id}: key {key!r}: {why}", file=rule.source, rule=rule.id, key=key
    )


def compile_pattern(source: str, *, ignorecase: bool, rule: Rule, key: str) -> Pattern:
    """Compile with the ``regex`` module (Vale's RE2-style syntax plus variable-width
    lookbehinds; its case-insensitive matching of long alternations is about twice as fast
    as the standard library's); errors name the rule and key."""
    flags = (regex.IGNORECASE if ignorecase else 0) | regex.VERSION0
    try:
        return cast(Pattern, regex.compile(source, flags))
    except regex.error as exc:
        raise rule_error(rule, key, f"bad regular expression: {exc}") from exc


def alternation(tokens: Sequence[str], *, nonword: bool) -> str:
    body = "|".join(f"(?:{t})" for t in tokens)
    return f"(?:{body})" if nonword else rf"\b(?:{body})\b"


def fmt(message: str, *args: str) -> str:
    """Go-style ``%s`` and ``%[n]s`` substitution, as Vale messages use."""
    it = iter(args)

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            idx = int(m.group(1)) - 1
            return args[idx] if 0 <= idx < len(args) else ""
        return next(it, "")

    return re.sub(r"%(?:\[(\d+)\])?s", sub, message)


def bool_key(rule: Rule, key: str, default: bool) -> bool:
    value = rule.spec.get(key, default)
    if not isinstance(value, bool):
        raise rule_error(rule, key, "expected true or false")
    return value


def token_list(rule: Rule, key: str) -> list[str]:
    value = rule.spec.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise rule_error(rule, key, "expected a list of non-empty strings")
    return list(value)


def int_key(rule: Rule, key: str, default: int | None) -> int | None:
    value = rule.spec.get(key, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise rule_error(rule, key, "expected a non-negative integer")
    return value


class Check:
    """Base: holds the rule and the exception list shared by most kinds."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.ignorecase = bool_key(rule, "ignorecase", False)
        self.exceptions: Pattern | None = None
        if "exceptions" in rule.spec:
            exc = token_list(rule, "exceptions")
            if exc:
                self.exceptions = compile_pattern(
                    "(?:" + "|".join(f"(?:{e})" for e in exc) + r")\Z",
                    ignorecase=self.ignorecase,
                    rule=rule,
                    key="exceptions",
                )

    def excepted(self, text: str) -> bool:
        return self.exceptions is not None and self.exceptions.match(text) is not None

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        """Hits in ``doc``. ``spans`` (from the engine's prefilter) limits a sentence-scoped
        rule to the sentences that could hold a match; None means all of its scope."""
        raise NotImplementedError  # pragma: no cover - abstract

    def regions(self, doc: Document, spans: Spans | None) -> Spans:
        if spans is not None:
            return spans
        if self.rule.scope == "sentence":
            return doc.sentences
        return [(0, len(doc.text))]

    def finditer(
        self, pattern: Pattern, doc: Document, spans: Spans | None
    ) -> Iterator[re.Match[str]]:
        text = doc.text
        for s, e in self.regions(doc, spans):
            yield from pattern.finditer(text, s, e)

    def gate_for(self, source: str) -> str:
        """A pattern this check compiled, as the prefilter reads it: with the case flag."""
        return ("(?i)" if self.ignorecase else "") + source

    @property
    def gate(self) -> str | None:
        """A regex every hit of this check contains a match of, or None (always run);
        the engine's prefilter derives required literals from it."""
        return None

    @property
    def gates(self) -> list[str | None]:
        """One gate per part (a part is one token of a rule matched on its own)."""
        return [self.gate]

    def run_selected(self, doc: Document, selection: Selection | None) -> Iterator[Hit]:
        """Hits from the selected parts only (part index -> its spans, None for all of
        the rule's scope); ``selection=None`` runs every part everywhere."""
        if selection is None:
            return self.run(doc)
        return self.run(doc, selection.get(0))


def leftmost(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits of one rule: keep the leftmost, and the longest of equal starts."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, h.start - h.end)):
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


class PartsCheck(Check):
    """A rule whose tokens are matched each on its own, so the prefilter can pick the few
    tokens that could match a draft instead of running one big alternation. Overlapping
    hits of the same rule are reduced to the leftmost (then longest)."""

    sources: list[str]
    patterns: list[Pattern]

    def compile_parts(self, sources: list[str], *, key: str | Sequence[str]) -> None:
        """Compile each part; ``key`` names the rule key in errors (one per part, or one
        for all)."""
        keys = [key] * len(sources) if isinstance(key, str) else key
        self.sources = sources
        self.patterns = [
            compile_pattern(src, ignorecase=self.ignorecase, rule=self.rule, key=k)
            for src, k in zip(sources, keys, strict=True)
        ]

    @property
    def gates(self) -> list[str | None]:
        return [self.gate_for(src) for src in self.sources]

    def matches(
        self, doc: Document, selection: Selection | None
    ) -> Iterator[tuple[int, re.Match[str]]]:
        chosen = (
            selection.items()
            if selection is not None
            else [(i, None) for i in range(len(self.patterns))]
        )
        for index, spans in chosen:
            for m in self.finditer(self.patterns[index], doc, spans):
                yield index, m

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        every = None if spans is None else dict.fromkeys(range(len(self.patterns)), spans)
        return self.run_selected(doc, every)

    def run_selected(self, doc: Document, selection: Selection | None) -> Iterator[Hit]:
        hits = [h for index, m in self.matches(doc, selection) if (h := self.judge(doc, index, m))]
        return iter(leftmost(hits))

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        raise NotImplementedError  # pragma: no cover - abstract


def scope_spans(doc: Document, scope: str) -> list[tuple[int, int]]:
    if scope == "sentence":
        return doc.sentences
    if scope == "paragraph":
        return doc.paragraphs
    if scope == "line":
        starts = doc.line_starts
        ends = [s - 1 for s in starts[1:]] + [len(doc.text)]
        return [(s, e) for s, e in zip(starts, ends, strict=True) if doc.text[s:e].strip()]
    return [(0, len(doc.text))] if doc.text.strip() else []
