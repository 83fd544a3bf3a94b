"""Rule files: Vale's YAML format plus Uproar's own keys, validated once at load time.

A rule lives in ``<Style>/<Rule>.yml``; its id is ``Style.Rule``. The ``extends`` key names
one check kind. Vale's kinds keep Vale's keys (``tokens``, ``swap``, ``nonword``, ``max``,
``formula``...); Uproar adds two kinds (``context``, ``facts``) and four keys every rule may
carry:

* ``category`` (required): one of :data:`CATEGORIES`, shown in the JSON output;
* ``examples``: ``{bad: [...], good: [...]}``, run by the test suite;
* ``applies_to``: draft kinds the rule checks (``update``, ``reply``, ``resolved``; default
  all three);
* ``kind_levels``: a different level for some draft kinds (``{reply: warning}``);
* ``tones``: profile tones under which the rule is active (default: all).

Anything else is an error that names the file and the key, so a typo never silently
disables a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from uproar.errors import RuleError
from uproar.records import Severity

CATEGORIES: tuple[str, ...] = (
    "blame",
    "defensive",
    "flippant",
    "dismissive",
    "jargon",
    "vague",
    "overpromise",
    "apology",
    "shouting",
    "tone",
    "readability",
)
LEVELS: tuple[Severity, ...] = ("suggestion", "warning", "error")
# update: a broadcast status update; reply: an answer to one person; resolved: the notice
# that a problem is over.
DRAFT_KINDS: tuple[str, ...] = ("update", "reply", "resolved")
TONES: tuple[str, ...] = ("chatty", "neutral", "formal")

# Keys every rule may carry (Vale's header keys and Uproar's additions).
_COMMON = {
    "extends",
    "message",
    "level",
    "category",
    "examples",
    "applies_to",
    "kind_levels",
    "tones",
    "link",
    "description",
    "action",
    "scope",
    "vocab",
    "suggestion",
}
# Keys each kind accepts on top of the common ones (Vale's names where Vale has the kind).
KIND_KEYS: dict[str, set[str]] = {
    "existence": {"tokens", "raw", "nonword", "ignorecase", "exceptions", "append"},
    "substitution": {"swap", "nonword", "ignorecase", "exceptions", "append", "capitalize"},
    "occurrence": {"token", "max", "min", "ignorecase"},
    "repetition": {"tokens", "alpha", "ignorecase", "exceptions"},
    "sequence": {"tokens", "ignorecase"},
    "metric": {"formula", "condition"},
    "capitalization": {"match", "style", "exceptions", "indicators", "threshold"},
    "conditional": {"first", "second", "exceptions", "ignorecase"},
    "context": {
        "tokens",
        "nonword",
        "ignorecase",
        "exceptions",
        "near",
        "window",
        "after_window",
        "unless_window",
        "near_side",
        "unless",
        "unless_after",
        "unless_text",
    },
    "facts": {"facts", "max_missing", "minor_level", "ignorecase"},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "existence": (),
    "substitution": ("swap",),
    "occurrence": ("token",),
    "repetition": ("tokens",),
    "sequence": ("tokens",),
    "metric": ("formula", "condition"),
    "capitalization": ("match",),
    "conditional": ("first", "second"),
    "context": ("tokens",),
    "facts": ("facts",),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated rule. ``spec`` holds the kind-specific keys as written."""

    id: str
    extends: str
    category: str
    level: Severity
    message: str
    spec: Mapping[str, Any]
    source: str = ""
    scope: str = "text"
    suggestion: str | None = None
    applies_to: tuple[str, ...] = DRAFT_KINDS
    kind_levels: Mapping[str, Severity] = field(default_factory=dict)
    tones: tuple[str, ...] = TONES
    bad: tuple[str, ...] = ()
    good: tuple[str, ...] = ()
    link: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def style(self) -> str:
        return self.id.split(".", 1)[0]


def _fail(source: str, rule_id: str, key: str | None, why: str) -> RuleError:
    where = f"{source}: {rule_id}" + (f": key {key!r}" if key else "")
    return RuleError(f"{where}: {why}", file=source, rule=rule_id, key=key)


def _str_list(value: Any, *, source: str, rule_id: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, rule_id, key, "expected a list of strings")
    return tuple(value)


def parse_rule(data: Any, *, rule_id: str, source: str) -> Rule:
    """Validate one parsed YAML document as a rule; errors name the file, rule and key."""
    if not isinstance(data, Mapping):
        raise _fail(source, rule_id, None, "a rule file must be a YAML mapping")
    extends = data.get("extends")
    if extends not in KIND_KEYS:
        raise _fail(
            source, rule_id, "extends", f"expected one of {', '.join(KIND_KEYS)}, got {extends!r}"
        )
    allowed = _COMMON | KIND_KEYS[extends]
    for key in data:
        if key not in allowed:
            raise _fail(source, rule_id, str(key), f"unknown key for extends: {extends}")
    for key in REQUIRED[extends]:
        if key not in data:
            raise _fail(source, rule_id, key, f"required for extends: {extends}")
    if extends in ("existence", "context") and not (data.get("tokens") or data.get("raw")):
        raise _fail(source, rule_id, "tokens", "an existence rule needs tokens or raw")
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise _fail(source, rule_id, "message", "expected a non-empty string")
    level = data.get("level", "warning")
    if level not in LEVELS:
        raise _fail(source, rule_id, "level", f"expected one of {', '.join(LEVELS)}")
    category = data.get("category")
    if category not in CATEGORIES:
        raise _fail(source, rule_id, "category", f"expected one of {', '.join(CATEGORIES)}")
    applies = _str_list(
        data.get("applies_to", list(DRAFT_KINDS)), source=source, rule_id=rule_id, key="applies_to"
    )
    if not applies or any(a not in DRAFT_KINDS for a in applies):
        raise _fail(source, rule_id, "applies_to", f"expected some of {', '.join(DRAFT_KINDS)}")
    kind_levels = data.get("kind_levels", {})
    if not isinstance(kind_levels, Mapping) or any(
        k not in DRAFT_KINDS or v not in LEVELS for k, v in kind_levels.items()
    ):
        raise _fail(source, rule_id, "kind_levels", "expected {draft kind: level}")
    tones = _str_list(data.get("tones", list(TONES)), source=source, rule_id=rule_id, key="tones")
    if not tones or any(t not in TONES for t in tones):
        raise _fail(source, rule_id, "tones", f"expected some of {', '.join(TONES)}")
    examples = data.get("examples", {})
    if not isinstance(examples, Mapping) or set(examples) - {"bad", "good"}:
        raise _fail(source, rule_id, "examples", "expected a mapping with 'bad' and 'good' lists")
    bad = _str_list(examples.get("bad", []), source=source, rule_id=rule_id, key="examples.bad")
    good = _str_list(examples.get("good", []), source=source, rule_id=rule_id, key="examples.good")
    # Vale scopes sequence rules to sentences; Uproar's context and facts kinds too.
    scope = data.get("scope", "sentence" if extends in ("sequence", "context", "facts") else "text")
    if scope not in ("text", "sentence", "paragraph", "line", "raw"):
        raise _fail(source, rule_id, "scope", "expected text, sentence, paragraph, line or raw")
    suggestion = data.get("suggestion")
    if suggestion is not None and not isinstance(suggestion, str):
        raise _fail(source, rule_id, "suggestion", "expected a string")
    spec = {k: v for k, v in data.items() if k in KIND_KEYS[extends]}
    return Rule(
        id=rule_id,
        extends=extends,
        category=category,
        level=level,
        message=message.strip(),
        spec=spec,
        source=source,
        scope=scope,
        suggestion=suggestion,
        applies_to=applies,
        kind_levels=dict(kind_levels),
        tones=tones,
        bad=bad,
        good=good,
        link=data.get("link"),
    )


def load_rule_text(text: str, *, rule_id: str, source: str) -> Rule:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(source, rule_id, None, f"not valid YAML: {exc}") from exc
    return parse_rule(data, rule_id=rule_id, source=source)


def load_style(folder: Path | Traversable, *, name: str | None = None) -> list[Rule]:
    """Every ``*.yml`` rule in a style folder, sorted by rule id."""
    style = name or folder.name
    if not folder.is_dir():
        raise RuleError(f"{folder}: style folder not found", file=str(folder), rule=style)
    rules = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yml"):
            continue
        rule_id = f"{style}.{entry.name[: -len('.yml')]}"
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleError(f"{entry}: cannot read rule file: {exc}", file=str(entry)) from exc
        rules.append(load_rule_text(text, rule_id=rule_id, source=str(entry)))
    return rules
