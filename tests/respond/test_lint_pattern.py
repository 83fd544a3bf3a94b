"""``pattern.parse`` (the prefilter's public regex parser) gives the prefilter the same
literals as the standard library's private parser did, which stays here as the oracle: on
every shipped rule's trigger and on generated patterns."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.respond.lint.engine import DRAFT_KINDS, Linter
from uproar.respond.lint.pattern import PatternError, parse
from uproar.respond.lint.prefilter import required_literals, tree_literals

try:  # private, and may go: then only the explicit cases below run
    std_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover
    std_parser = None
needs_std = pytest.mark.skipif(std_parser is None, reason="no re._parser in this Python")


def std_literals(pattern: str) -> frozenset[str] | None:
    """What the prefilter derived with the standard library's parser."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like
            tree = std_parser.parse(pattern)
    except Exception:  # any refusal: no literals, as before
        return None
    return tree_literals(tree)


@needs_std
def test_every_shipped_trigger_gets_the_same_literals() -> None:
    linter = Linter()
    gates = {g for kind in DRAFT_KINDS for c in linter._checks[kind] for g in c.gates if g}
    assert len(gates) > 100
    for gate in sorted(gates):
        assert required_literals(gate) == std_literals(gate), gate


PIECES = (
    "a", "b", "x", "ab", "abc", " ", "'", "’", "é", "😂", "we", "we've", "never", "[abc]",
    "[a-c]", "[^x]", "[xX]", "[]a]", "[a-]", "[\\w.]", "\\b", "\\B", "\\w", "\\s+", "\\d{2}",
    "\\.", "\\n", "\\x41", "\\u00e9", "\\0", "\\1", ".", "^", "$", "(?:", "(", "(?P<n>",
    "(?=", "(?!", "(?<=", "(?<!", "(?i:", "(?-i:", ")", ")", ")", "|", "|", "?", "*", "+",
    "{2}", "{1,3}", "{,2}", "{2,}", "{", "}", "??", "+?", "*+", "(?#c)",
)  # fmt: skip
patterns = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join)


@needs_std
@settings(max_examples=600, deadline=None)
@given(pattern=patterns, flags=st.sampled_from(["", "(?i)"]))
def test_generated_patterns_get_the_same_literals(pattern: str, flags: str) -> None:
    assert required_literals(flags + pattern) == std_literals(flags + pattern)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b(?:our|the) (?:supplier|vendor)s?\b", {"supplier", "vendor"}),
        (r"(?:supplier|support)s", {"supp"}),  # the branches' common prefix moves out
        (r"x(?:a|b)y", {"xay", "xby"}),  # single characters become a class
        ("(?i)(?:we've|we have) (?:always|never)", {"always", "never"}),
        ("[😂🤣]", {"😂", "🤣"}),
        (r"[a-z]+", None),
        (r"\p{L}+", None),  # the regex module's syntax: unread, so the rule always runs
    ],
)
def test_literals(pattern: str, expected: set[str] | None) -> None:
    assert required_literals(pattern) == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize("pattern", ["(", "a)", "[a", "*a", "a**", "[b-a]", "\\q", "(?x)a b"])
def test_unread_patterns_raise(pattern: str) -> None:
    with pytest.raises(PatternError):
        parse(pattern)
