"""The linter: load the profile's styles once, compile every rule once, lint many drafts.

Offsets in findings follow Vale: ``line`` is 1-based, and ``start``/``end`` are 1-based
character columns within that line, ``end`` inclusive, so the flagged text is
``line_text[start - 1 : end]``. Alerts about the whole draft (missing facts, readability)
point at its first non-blank line. A match that runs over a line break is clipped to the
line it starts on.

Before the rules read a draft, text that is not the brand's prose (handles, an agent's
sign-off such as ``^JK``, the profile's known product terms) is blanked with spaces of the
same length (``voice.toml``), so offsets still point into the draft as written.

After the rules, the learned tone scorer (``tone.py``) reads each sentence that no rule
flagged at warning level or above and adds an ``Uproar.ToneScorer`` finding, a warning,
naming the sentence and its category (blame, defensive, flippant, dismissive). A profile
switches it off or changes its level by that id, like any rule.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import regex

from uproar.errors import InputError, RuleError
from uproar.records import Finding, Severity
from uproar.respond.lint.checks import Check, Hit, Spans, compile_rule
from uproar.respond.lint.prefilter import Prefilter
from uproar.respond.lint.profile import Profile, load_profile
from uproar.respond.lint.rules import DRAFT_KINDS, LEVELS, Rule, load_style
from uproar.respond.lint.text import Document
from uproar.respond.lint.tone import RULE_ID as SCORER_ID
from uproar.respond.lint.tone import ToneScorer, shipped_scorer

# A sentence with a rule's finding at these levels is not scored: the rule explains it.
_COUNTED: frozenset[str] = frozenset({"warning", "error"})
SCORER_LEVEL: Severity = "warning"
SCORER_MESSAGE = (
    'This sentence reads as {category} (tone scorer, {score:.0%}): "{sentence}". '
    "Say what happened and what you are doing about it."
)


def shipped_styles() -> list[str]:
    """Names of the styles that ship with Uproar."""
    root = resources.files("uproar.respond") / "styles"
    return sorted(e.name for e in root.iterdir() if e.is_dir() and not e.name.startswith("_"))


def load_rules(profile: Profile) -> list[Rule]:
    """Every rule the profile asks for: shipped styles, extra style folders, its own terms."""
    root = resources.files("uproar.respond") / "styles"
    rules: list[Rule] = []
    extra: dict[str, Path] = {}
    for base in profile.paths:
        if not base.is_dir():
            raise RuleError(f"{base}: style path not found", file=str(base))
        for folder in sorted(base.iterdir()):
            if folder.is_dir():
                extra[folder.name] = folder
    shipped = set(shipped_styles())
    for style in profile.styles:
        if style in extra:
            rules.extend(load_style(extra[style], name=style))
        elif style in shipped:
            rules.extend(load_style(root / style, name=style))
        else:
            raise RuleError(
                f"profile {profile.name!r}: unknown style {style!r} "
                f"(shipped: {', '.join(sorted(shipped))})",
                rule=style,
            )
    for name, folder in extra.items():
        if name not in profile.styles:
            rules.extend(load_style(folder, name=name))
    rules.extend(profile.generated_rules())
    return rules


@dataclass(frozen=True, slots=True)
class Voice:
    """The shipped ``voice.toml``: what to blank before linting, how to guess a kind."""

    mask: tuple[str, ...]
    kinds: Mapping[str, tuple[str, ...]]


@cache
def shipped_voice() -> Voice:
    data = tomllib.loads((resources.files("uproar.respond.lint") / "voice.toml").read_text("utf-8"))
    return Voice(
        mask=tuple(data["mask"]["patterns"]),
        kinds={k: tuple(v) for k, v in data["kinds"].items()},
    )


def _any_of(patterns: Sequence[str]) -> regex.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns) or "(?!)"
    return regex.compile(body, regex.IGNORECASE | regex.MULTILINE | regex.VERSION0)


@cache
def _kind_patterns() -> tuple[regex.Pattern[str], ...]:
    kinds = shipped_voice().kinds
    return tuple(_any_of(kinds[k]) for k in ("reply", "resolved", "ongoing", "update"))


def detect_kind(text: str) -> str:
    """Guess what a draft is: ``reply`` when it addresses someone (a handle, a greeting by
    name, a request to them), ``resolved`` when it says the problem is fixed and nothing is
    still going on, ``update`` when it tells many people about a service's state (who is
    affected, an outage, work going on, the next update), else ``reply``: a sentence to one
    person, such as thanks or a promise to call back, owes no next-update time."""
    reply, resolved, ongoing, update = _kind_patterns()
    if reply.search(text):
        return "reply"
    if resolved.search(text) and not ongoing.search(text):
        return "resolved"
    if update.search(text) or ongoing.search(text):
        return "update"
    return "reply"


class Linter:
    """Lints drafts against a profile's rules. Build once; ``lint`` is cheap and thread-safe.

    ``rules`` replaces the profile's styles (tests use it to run one rule alone).
    ``prefilter=False`` runs every rule on every draft: the same findings, slower (the
    benchmark's naive baseline and the tests' check that the prefilter loses nothing).
    ``scorer`` is the learned tone scorer: ``True`` the shipped one, ``False`` none (rules
    alone), or a fitted :class:`ToneScorer`; the profile can switch it off
    (``disable = ["Uproar.ToneScorer"]``) or change its level. With ``rules`` given, the
    default is no scorer."""

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        rules: Sequence[Rule] | None = None,
        prefilter: bool = True,
        scorer: ToneScorer | bool | None = None,
    ) -> None:
        self.profile = profile if profile is not None else Profile()
        self.use_prefilter = prefilter
        if scorer is None:
            scorer = rules is None
        if scorer is True:
            scorer = shipped_scorer()
        self.scorer: ToneScorer | None = (
            scorer if isinstance(scorer, ToneScorer) and self.profile.enabled(SCORER_ID) else None
        )
        self.scorer_level: Severity = self.profile.levels.get(SCORER_ID, SCORER_LEVEL)
        loaded = list(rules) if rules is not None else load_rules(self.profile)
        seen: set[str] = set()
        active: list[Rule] = []
        for rule in loaded:
            if rule.id in seen:
                raise RuleError(f"{rule.source}: duplicate rule id {rule.id}", rule=rule.id)
            seen.add(rule.id)
            if not self.profile.enabled(rule.id) or self.profile.tone not in rule.tones:
                continue
            level = self.profile.levels.get(rule.id)
            active.append(dataclasses.replace(rule, level=level) if level else rule)
        self.rules: tuple[Rule, ...] = tuple(active)
        self._mask = _any_of(shipped_voice().mask + self.profile.mask_patterns())
        self.checks: tuple[Check, ...] = tuple(compile_rule(r) for r in active)
        # Per draft kind, a prefilter: one Aho-Corasick pass over the draft picks the checks
        # whose trigger could match (see prefilter.py); the rest cannot fire and are skipped.
        # Each check is split into parts (a rule's tokens, each matched on its own), so a
        # draft runs only the few tokens whose literals it contains.
        self._checks: dict[str, list[Check]] = {}
        self._parts: dict[str, list[tuple[int, int]]] = {}
        self._prefilter: dict[str, Prefilter] = {}
        for kind in DRAFT_KINDS:
            checks = [c for c in self.checks if kind in c.rule.applies_to]
            parts = [(ci, pi) for ci, c in enumerate(checks) for pi in range(len(c.gates))]
            self._checks[kind] = checks
            self._parts[kind] = parts
            self._prefilter[kind] = Prefilter([checks[ci].gates[pi] for ci, pi in parts])

    def mask(self, text: str) -> str:
        """The draft with handles, sign-offs and known terms blanked (same length)."""
        return str(self._mask.sub(lambda m: " " * len(m.group()), text))

    def lint(self, text: str, *, kind: str | None = None, line_offset: int = 0) -> list[Finding]:
        """Findings for one draft, sorted by position. ``kind`` is ``update`` (a status
        update: what, who, what to do, next update), ``resolved`` (a resolution notice: what
        happened and that it is fixed) or ``reply`` (a reply to one person); ``None``
        guesses it (``detect_kind``)."""
        if kind is None:
            kind = detect_kind(text)
        if kind not in DRAFT_KINDS:
            raise InputError(
                f"draft kind must be one of {', '.join(DRAFT_KINDS)}, got {kind!r}", field="kind"
            )
        if not text.strip():
            return []
        text = self.mask(text)
        if not text.strip():
            return []
        doc = Document(text)
        every = self._checks[kind]
        findings: dict[tuple[str, int, int], Finding] = {}
        selections: dict[int, dict[int, Spans | None] | None]
        if self.use_prefilter:
            selections = {}
            parts = self._parts[kind]
            for flat, offsets in self._prefilter[kind].hits(text).items():
                ci, pi = parts[flat]
                # A sentence-scoped rule only needs the sentences where its literals occur.
                chosen = selections.setdefault(ci, {})
                assert chosen is not None
                if offsets is not None and every[ci].rule.scope == "sentence":
                    chosen[pi] = doc.sentences_at(offsets)
                else:
                    chosen[pi] = None
        else:
            selections = dict.fromkeys(range(len(every)))
        toned: list[int] = []
        for index in sorted(selections):
            check = every[index]
            rule = check.rule
            for hit in check.run_selected(doc, selections[index]):
                if hit.level is None and kind in rule.kind_levels:
                    hit = dataclasses.replace(hit, level=rule.kind_levels[kind])
                finding = self._finding(doc, hit, rule.id, rule.category, rule.level, line_offset)
                findings.setdefault((rule.id, finding.line, finding.start), finding)
                whole = hit.start == 0 and hit.end == len(text)  # about the draft, not a sentence
                if (hit.level or rule.level) in _COUNTED and not whole:
                    toned.append(hit.start)
        if self.scorer is not None:
            for finding in self._scored(doc, toned, line_offset):
                findings.setdefault((finding.rule, finding.line, finding.start), finding)
        return sorted(findings.values(), key=lambda f: (f.line, f.start, f.end, f.rule))

    def _scored(self, doc: Document, toned: list[int], line_offset: int) -> list[Finding]:
        """The scorer's findings: one per flagged sentence that no rule flagged at warning
        level or above (a rule's finding already says what is wrong, and explains it)."""
        assert self.scorer is not None
        skip = set(doc.sentences_at(toned)) if toned else set()
        out: list[Finding] = []
        for start, end in doc.sentences:
            if (start, end) in skip:
                continue
            sentence = doc.text[start:end]
            verdict = self.scorer.verdict(sentence)
            if not verdict.flagged:
                continue
            shown = " ".join(sentence.split())
            message = SCORER_MESSAGE.format(
                category=verdict.category, score=verdict.score, sentence=shown
            )
            hit = Hit(start, end, message)
            out.append(
                self._finding(doc, hit, SCORER_ID, verdict.category, self.scorer_level, line_offset)
            )
        return out

    def sentences(self, text: str) -> list[str]:
        """The sentences the scorer reads in a draft (after masking), in order."""
        masked = self.mask(text)
        doc = Document(masked)
        return [" ".join(masked[s:e].split()) for s, e in doc.sentences]

    def lint_lines(self, text: str, *, kind: str | None = None) -> list[Finding]:
        """Each non-blank line as its own draft; findings carry that line's number."""
        out: list[Finding] = []
        for number, line in enumerate(text.split("\n"), start=1):
            out.extend(self.lint(line.rstrip("\r"), kind=kind, line_offset=number - 1))
        return out

    @staticmethod
    def has_errors(findings: Iterable[Finding]) -> bool:
        return any(f.severity == "error" for f in findings)

    @staticmethod
    def worst(findings: Iterable[Finding]) -> str | None:
        ranked = [f.severity for f in findings]
        return max(ranked, key=LEVELS.index) if ranked else None

    @staticmethod
    def _finding(
        doc: Document,
        hit: Hit,
        rule_id: str,
        category: str,
        level: Severity,
        line_offset: int,
    ) -> Finding:
        text = doc.text
        start, end = hit.start, hit.end
        if start == 0 and end == len(text):
            # A whole-draft alert: point at the first non-blank line.
            stripped = len(text) - len(text.lstrip())
            start = stripped
            newline = text.find("\n", start)
            end = newline if newline != -1 else len(text.rstrip())
        line, col = doc.position(start)
        line_len = len(doc.line_text(line))
        last = max(start, end - 1)
        end_line, end_col = doc.position(last)
        if end_line != line:
            end_col = line_len - 1
        s = min(col + 1, max(1, line_len))
        e = min(max(end_col + 1, s), max(1, line_len))
        return Finding(
            line=line + line_offset,
            start=s,
            end=e,
            rule=rule_id,
            category=category,
            severity=hit.level or level,
            message=hit.message,
            suggestion=hit.suggestion,
        )


@cache
def default_linter() -> Linter:
    """The shipped profile's linter, built once per process: building loads every style
    and compiles every rule, which callers that lint one draft per call should not repeat."""
    return Linter()


def load_linter(profile: str | Path | None = None) -> Linter:
    """The linter for a profile TOML file, or the shipped default (built once) without one."""
    return Linter(load_profile(profile)) if profile else default_linter()
