"""``split_text``: a free text as the thread each platform needs; every post fits, nothing is
lost or reordered, and numbering appears only when there is more than one post."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.errors import InputError
from uproar.respond.platforms import PLATFORMS, fits
from uproar.respond.thread import split_text

WORDS = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "So"), exclude_characters="\u2028\u2029"
    ),
    min_size=1,
    max_size=20,
)
TEXTS = st.lists(WORDS, min_size=1, max_size=120).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(text=TEXTS, platform=st.sampled_from(PLATFORMS))
def test_every_post_fits_and_the_words_survive(text: str, platform: str) -> None:
    thread = split_text(text, platform)
    total = len(thread.posts)
    bodies = []
    for n, post in enumerate(thread.posts, start=1):
        assert fits(post.text, platform), post
        assert post.number == n
        suffix = f" {n}/{total}"
        if total > 1 and platform != "facebook":
            assert post.text.endswith(suffix)
            bodies.append(post.text[: -len(suffix)])
        else:
            bodies.append(post.text)
    assert " ".join(bodies).split() == text.split()


def test_a_short_text_is_one_unnumbered_post() -> None:
    thread = split_text("We're sorry. Fixed now.", "x")
    assert [p.text for p in thread.posts] == ["We're sorry. Fixed now."]


def test_numbering_continues_after_earlier_posts() -> None:
    text = " ".join(["Our engineers are replacing the failed router in Wellington."] * 12)
    thread = split_text(text, "bluesky", previous=3)
    assert thread.posts[0].number == 4 and thread.total == 3 + len(thread.posts)


def test_nothing_to_split() -> None:
    with pytest.raises(InputError, match="empty"):
        split_text("   ", "x")
    with pytest.raises(InputError, match="cannot fit"):
        split_text("a" * 400, "x")
