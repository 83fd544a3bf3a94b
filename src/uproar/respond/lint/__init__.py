"""Brand-voice linter: Vale-format rules grouped into styles, checked against every draft.

    from uproar.respond.lint import Linter, load_profile

    linter = Linter(load_profile("acme.toml"))   # or Linter() for the shipped defaults
    findings = linter.lint(draft, kind="update")  # "reply" skips the status-update facts
    if linter.has_errors(findings): ...

Finding offsets follow Vale: 1-based line, 1-based inclusive ``start``/``end`` columns.
"""

from uproar.respond.lint.engine import (
    Linter,
    default_linter,
    load_linter,
    load_rules,
    shipped_styles,
)
from uproar.respond.lint.profile import Profile, load_profile, parse_profile
from uproar.respond.lint.rules import CATEGORIES, Rule, load_style, parse_rule

__all__ = [
    "CATEGORIES",
    "Linter",
    "Profile",
    "Rule",
    "default_linter",
    "load_linter",
    "load_profile",
    "load_rules",
    "load_style",
    "parse_profile",
    "parse_rule",
    "shipped_styles",
]
