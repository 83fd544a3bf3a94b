"""Hostile post text quoted in an alert can neither ping, link, nor break the layout."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from uproar.alerts import neutralise

ZWSP = "\u200b"


def test_slack_and_discord_control_sequences_are_neutralised() -> None:
    hostile = (
        "<!channel> <!everyone> <@U024BE7LH> @here @everyone <#C123|general> "
        "[click for a refund](https://evil.example/login) <https://evil.example|kiwinet.co.nz>"
        " `code` \u202egnp.exe\u202c line\nbreak\r\n> quote"
    )
    out = neutralise(hostile)
    assert "<" not in out and ">" not in out
    assert "[" not in out.replace("[.]", "") and "]" not in out.replace("[.]", "")
    assert not re.search(r"@\w", out)  # every @ is followed by a zero-width space
    assert "@\u200beveryone" in out and "@\u200bhere" in out
    assert "https://" not in out and "evil[.]example" in out and "hxxps://" in out
    assert "\u202e" not in out and "\n" not in out and "\r" not in out
    assert "`" not in out


def test_ordinary_complaints_read_as_written() -> None:
    assert neutralise("No internet in Grey Lynn since 4pm, what's going on?") == (
        "No internet in Grey Lynn since 4pm, what's going on?"
    )
    assert neutralise("still down 😡😡") == "still down 😡😡"


def test_long_text_is_trimmed() -> None:
    out = neutralise("down " * 200)
    assert len(out) <= 280 and out.endswith("…")


@given(st.text(max_size=400))
def test_no_text_survives_as_a_mention_link_or_control_sequence(text: str) -> None:
    out = neutralise(text)
    assert "<" not in out and ">" not in out
    assert "](" not in out
    assert not re.search(r"@[^\u200b]", out)
    assert not re.search(r"(?i)https?://", out)
    assert all(ch == ZWSP or not (0 <= ord(ch) < 32) for ch in out)
    assert len(out) <= 400
