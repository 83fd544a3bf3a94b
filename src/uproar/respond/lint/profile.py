"""Brand profiles: which styles to run, the brand's own terms, its tone, rules switched off.

A profile is TOML::

    [profile]
    name = "acme"
    styles = ["Uproar", "Plain"]     # shipped styles, in order
    paths = ["./styles"]             # extra style folders (relative to this file); every
                                     # sub-folder is a style, named by the folder
    tone = "chatty"                  # chatty | neutral | formal
    disable = ["Plain.Readability"]  # rule ids (or whole styles) to switch off

    [profile.levels]                 # change a rule's level
    "Uproar.Jargon" = "error"

    [voice]
    emoji = "warm"                   # none | warm (friendly emoji allowed) | any
    signoff = "^KN"                  # the brand's sign-off, added to inbox drafts
    mask = ['~[A-Z]{2}$']            # more text that is not prose (agents' sign-offs)
    known_terms = ["PE router"]      # product terms its customers know: never flagged

    [terms]
    banned = ["glitch", "blip"]      # generated existence rule Profile.Banned
    banned_level = "error"
    [terms.prefer]                   # generated substitution rule Profile.Preferred
    "outage" = "service problem"     # Vale's swap: pattern to avoid = what to use
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uproar.errors import ConfigError
from uproar.records import Severity
from uproar.respond.lint.rules import LEVELS, TONES, Rule

DEFAULT_STYLES: tuple[str, ...] = ("Uproar", "Plain")
EMOJI: tuple[str, ...] = ("none", "warm", "any")
# Rules the voice's emoji setting switches off: "warm" allows friendly emoji and smileys,
# "any" every emoji (mocking ones included).
_EMOJI_OFF: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "warm": frozenset({"Uproar.Emoji"}),
    "any": frozenset({"Uproar.Emoji", "Uproar.FlippantEmoji", "Uproar.Emoticon"}),
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A brand's voice settings. The default is the shipped styles in a chatty tone."""

    name: str = "default"
    styles: tuple[str, ...] = DEFAULT_STYLES
    paths: tuple[Path, ...] = ()
    tone: str = "chatty"
    disable: frozenset[str] = frozenset()
    levels: Mapping[str, Severity] = field(default_factory=dict)
    banned: tuple[str, ...] = ()
    banned_level: Severity = "error"
    prefer: Mapping[str, str] = field(default_factory=dict)
    emoji: str = "warm"
    signoff: str | None = None
    mask: tuple[str, ...] = ()
    known_terms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.emoji not in EMOJI:
            raise ConfigError(
                f"profile {self.name!r}: voice.emoji must be one of {', '.join(EMOJI)}, "
                f"got {self.emoji!r}",
                key="voice.emoji",
            )
        if self.tone not in TONES:
            raise ConfigError(
                f"profile {self.name!r}: tone must be one of {', '.join(TONES)}, got {self.tone!r}",
                key="profile.tone",
            )
        for rule_id, level in self.levels.items():
            if level not in LEVELS:
                raise ConfigError(
                    f"profile {self.name!r}: level for {rule_id} "
                    f"must be one of {', '.join(LEVELS)}",
                    key=f"profile.levels.{rule_id}",
                )
        if self.banned_level not in LEVELS:
            raise ConfigError(
                f"profile {self.name!r}: terms.banned_level must be one of {', '.join(LEVELS)}",
                key="terms.banned_level",
            )

    def enabled(self, rule_id: str) -> bool:
        if rule_id in _EMOJI_OFF[self.emoji]:
            return False
        return rule_id not in self.disable and rule_id.split(".", 1)[0] not in self.disable

    def mask_patterns(self) -> tuple[str, ...]:
        """Regexes for text the rules must not read: its sign-off, its known terms."""
        own = (re.escape(self.signoff) + r"(?=\s*$)",) if self.signoff else ()
        terms = tuple(r"\b" + _literal(t) + r"\b" for t in self.known_terms)
        return self.mask + own + terms

    def generated_rules(self) -> list[Rule]:
        """The brand's own terms as Vale-format rules: Profile.Banned, Profile.Preferred."""
        rules: list[Rule] = []
        if self.banned:
            rules.append(
                Rule(
                    id="Profile.Banned",
                    extends="existence",
                    category="tone",
                    level=self.banned_level,
                    message=f"'%s' is on {self.name}'s banned list.",
                    spec={"tokens": [_literal(t) for t in self.banned], "ignorecase": True},
                    source=f"profile {self.name}",
                )
            )
        if self.prefer:
            rules.append(
                Rule(
                    id="Profile.Preferred",
                    extends="substitution",
                    category="tone",
                    level="warning",
                    message=f"{self.name} says '%s' rather than '%s'.",
                    spec={
                        "swap": {_literal(k): v for k, v in self.prefer.items()},
                        "ignorecase": True,
                    },
                    source=f"profile {self.name}",
                )
            )
        return rules


def _literal(term: str) -> str:
    """Brand terms are words, not regexes: escape them, let spaces match any whitespace."""
    return r"\s+".join(re.escape(part) for part in term.split())


def _strings(value: Any, key: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"{source}: {key} must be a list of non-empty strings", file=source, key=key
        )
    return tuple(value)


def parse_profile(
    data: Mapping[str, Any], *, source: str = "<profile>", base: Path | None = None
) -> Profile:
    """Validate a parsed profile document; errors name the file and key."""
    unknown = set(data) - {"profile", "terms", "voice"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{source}: unknown table {key!r}", file=source, key=key)
    prof = data.get("profile", {})
    terms = data.get("terms", {})
    if not isinstance(prof, Mapping) or not isinstance(terms, Mapping):
        raise ConfigError(f"{source}: [profile] and [terms] must be tables", file=source)
    allowed = {"name", "styles", "paths", "tone", "disable", "levels"}
    for key in prof:
        if key not in allowed:
            raise ConfigError(
                f"{source}: unknown key profile.{key}", file=source, key=f"profile.{key}"
            )
    for key in terms:
        if key not in {"banned", "banned_level", "prefer"}:
            raise ConfigError(f"{source}: unknown key terms.{key}", file=source, key=f"terms.{key}")
    name = prof.get("name", Path(source).stem if source != "<profile>" else "profile")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"{source}: profile.name must be a string", file=source, key="profile.name"
        )
    styles = _strings(prof.get("styles", list(DEFAULT_STYLES)), "profile.styles", source)
    paths = tuple(
        (base / p if base is not None else Path(p))
        for p in _strings(prof.get("paths", []), "profile.paths", source)
    )
    levels = prof.get("levels", {})
    if not isinstance(levels, Mapping) or not all(isinstance(v, str) for v in levels.values()):
        raise ConfigError(
            f"{source}: profile.levels must map rule ids to levels",
            file=source,
            key="profile.levels",
        )
    prefer = terms.get("prefer", {})
    if not isinstance(prefer, Mapping) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) for k, v in prefer.items()
    ):
        raise ConfigError(
            f"{source}: terms.prefer must map terms to strings", file=source, key="terms.prefer"
        )
    voice = data.get("voice", {})
    if not isinstance(voice, Mapping):
        raise ConfigError(f"{source}: [voice] must be a table", file=source, key="voice")
    for key in voice:
        if key not in {"emoji", "signoff", "mask", "known_terms"}:
            raise ConfigError(f"{source}: unknown key voice.{key}", file=source, key=f"voice.{key}")
    signoff = voice.get("signoff")
    if signoff is not None and (not isinstance(signoff, str) or not signoff.strip()):
        raise ConfigError(
            f"{source}: voice.signoff must be a non-empty string", file=source, key="voice.signoff"
        )
    mask = _strings(voice.get("mask", []), "voice.mask", source)
    for pattern in mask:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{source}: voice.mask: bad regular expression {pattern!r}: {exc}",
                file=source,
                key="voice.mask",
            ) from exc
    tone = prof.get("tone", "chatty")
    banned_level = terms.get("banned_level", "error")
    try:
        return Profile(
            name=name,
            styles=styles,
            paths=paths,
            tone=tone,
            disable=frozenset(_strings(prof.get("disable", []), "profile.disable", source)),
            levels=dict(levels),
            banned=_strings(terms.get("banned", []), "terms.banned", source),
            banned_level=banned_level,
            prefer=dict(prefer),
            emoji=voice.get("emoji", "warm"),
            signoff=signoff,
            mask=mask,
            known_terms=_strings(voice.get("known_terms", []), "voice.known_terms", source),
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}", file=source, **exc.context) from exc


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: profile not found", file=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", file=str(path)) from exc
    return parse_profile(data, source=str(path), base=path.parent)
