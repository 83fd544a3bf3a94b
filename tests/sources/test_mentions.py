"""Brand matching: case-insensitive, word boundaries, one pass for all brands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uproar.config import Brand
from uproar.sources.mentions import BrandMatcher


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@KiwiNet my internet is down", ["kiwinet"]),
        ("@kiwinethelp please call me back", ["kiwinet"]),  # the other handle, once
        ("@KiwiNetHelpDesk is not a KiwiNet handle", []),
        ("kiwinetwork is a different word", []),
        ("write to me@kiwinet.co.nz", []),
        ("#KIWINET down again", ["kiwinet"]),
        ("#kiwinetdown is another tag", []),
        ("KiwiNet Broadband is crawling", ["kiwinet"]),
        ("the kiwinet broadbandwidth", []),
        ("@KiwiNet @TuiNet @WekaMobile all of you", ["kiwinet", "tuinet", "wekamobile"]),
        ("(@KiwiNet) and tuinet.", ["kiwinet", "tuinet"]),
        ("nothing to see", []),
        ("", []),
    ],
)
def test_mentions(brands: dict[str, Brand], text: str, expected: list[str]) -> None:
    assert BrandMatcher(brands).match(text) == expected


def test_own_posts_by_handle(brands: dict[str, Brand]) -> None:
    matcher = BrandMatcher(brands)
    assert matcher.own_brand("KiwiNetHelp") == "kiwinet"
    assert matcher.own_brand("@tuinet") == "tuinet"
    assert matcher.own_brand("someone") is None
    assert matcher.own_brand(None) is None


@given(st.text(max_size=80))
def test_never_crashes_and_only_known_brands(text: str) -> None:
    brands = {"a": Brand(id="a", name="A", handles=("@Alpha",), keywords=("alpha net",))}
    found = BrandMatcher(brands).match(text)
    assert set(found) <= {"a"}
    if found:
        assert "alpha" in text.lower()
