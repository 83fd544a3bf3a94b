"""The Composer's view: a draft's linter findings as character spans, its length on every
platform, and the thread it would need on each.

Spans are given twice: in code points (Python's string offsets) and in UTF-16 code units
(what a browser's ``String`` indexes), so the page can highlight without converting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from uproar.errors import InputError
from uproar.records import Finding
from uproar.respond.lint import Linter, default_linter
from uproar.respond.lint.engine import detect_kind
from uproar.respond.platforms import PLATFORMS, fits, rules_for, weighted_length
from uproar.respond.thread import split_text

# The longest draft the Composer checks: a long status update is a few thousand characters;
# a megabyte pasted by accident should be refused, not linted on every keystroke.
MAX_DRAFT = 20_000
# Rules that judge the whole draft (is it missing facts, is it too long to read) point at
# no words: the page lists them above the text instead of highlighting a line.
WHOLE_DRAFT_KINDS = frozenset({"facts", "metric", "conditional", "repetition"})


@dataclass(frozen=True, slots=True)
class Span:
    """One finding, located: ``start``/``end`` in code points (end exclusive), ``start16``/
    ``end16`` in UTF-16 units; ``whole`` when it is about the whole draft."""

    start: int
    end: int
    start16: int
    end16: int
    rule: str
    category: str
    severity: str
    message: str
    suggestion: str | None
    whole: bool


@dataclass(frozen=True, slots=True)
class LengthCount:
    """The draft's length as one platform counts it, against its limit."""

    platform: str
    name: str
    length: int
    limit: int
    unit: str
    fits: bool


@dataclass(frozen=True, slots=True)
class ThreadPreview:
    """The posts the draft becomes on one platform (or why it cannot be split)."""

    platform: str
    name: str
    posts: tuple[tuple[str, int], ...]  # (text, length)
    limit: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ComposerView:
    text: str
    kind: str
    spans: tuple[Span, ...]
    counts: tuple[LengthCount, ...]
    threads: tuple[ThreadPreview, ...]

    @property
    def errors(self) -> int:
        return sum(s.severity == "error" for s in self.spans)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "errors": self.errors,
            "spans": [_asdict(s) for s in self.spans],
            "counts": [_asdict(c) for c in self.counts],
            "threads": [
                {
                    "platform": t.platform,
                    "name": t.name,
                    "limit": t.limit,
                    "error": t.error,
                    "posts": [{"text": text, "length": n} for text, n in t.posts],
                }
                for t in self.threads
            ],
        }


def _asdict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def composer_view(
    text: str,
    *,
    kind: str | None = None,
    linter: Linter | None = None,
    platforms: tuple[str, ...] = PLATFORMS,
    threads: bool = True,
) -> ComposerView:
    """Lint ``text`` as a draft of ``kind`` (``update``, ``resolved`` or ``reply``; guessed
    when None) and measure it on each platform."""
    if len(text) > MAX_DRAFT:
        raise InputError(
            f"the draft is {len(text):,} characters; the Composer checks up to {MAX_DRAFT:,}",
            field="text",
        )
    linter = linter or default_linter()
    kind = kind or detect_kind(text)
    findings = linter.lint(text, kind=kind)
    whole_rules = {r.id for r in linter.rules if r.extends in WHOLE_DRAFT_KINDS}
    spans = tuple(locate(text, f, whole=f.rule in whole_rules) for f in findings)
    counts = []
    previews = []
    for platform in platforms:
        rules = rules_for(platform)
        counts.append(
            LengthCount(
                platform=platform,
                name=rules.name,
                length=weighted_length(text, platform),
                limit=rules.max,
                unit=rules.unit,
                fits=fits(text, platform),
            )
        )
        if threads:
            previews.append(_thread(text, platform, rules.name, rules.max))
    return ComposerView(
        text=text, kind=kind, spans=spans, counts=tuple(counts), threads=tuple(previews)
    )


def _thread(text: str, platform: str, name: str, limit: int) -> ThreadPreview:
    if not text.strip():
        return ThreadPreview(platform, name, (), limit)
    try:
        thread = split_text(text, platform)
    except InputError as exc:
        return ThreadPreview(platform, name, (), limit, error=exc.message)
    return ThreadPreview(platform, name, tuple((p.text, p.length) for p in thread.posts), limit)


def locate(text: str, finding: Finding, *, whole: bool = False) -> Span:
    """Where a finding lies in ``text``: Vale's 1-based line and inclusive columns turned
    into offsets (code points and UTF-16 units)."""
    starts = [0]
    for n, ch in enumerate(text):
        if ch == "\n":
            starts.append(n + 1)
    base = starts[min(finding.line, len(starts)) - 1]
    start = min(len(text), base + finding.start - 1)
    end = min(len(text), max(start, base + finding.end))
    return Span(
        start=start,
        end=end,
        start16=_utf16(text, start),
        end16=_utf16(text, end),
        rule=finding.rule,
        category=finding.category,
        severity=finding.severity,
        message=finding.message,
        suggestion=finding.suggestion,
        whole=whole,
    )


def _utf16(text: str, offset: int) -> int:
    """The UTF-16 offset of code point ``offset`` (astral characters take two units)."""
    return offset + sum(ord(ch) > 0xFFFF for ch in text[:offset])
