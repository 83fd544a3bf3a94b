"""The status thread composer: facts, numbering, exact fit, splitting, the lint gate."""

from __future__ import annotations

import dataclasses
import json
import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from uproar.errors import InputError
from uproar.respond.lint import Linter
from uproar.respond.platforms import PLATFORMS, fits, link_spans, weighted_length
from uproar.respond.thread import (
    REQUIRED_FACTS,
    Facts,
    Section,
    ThreadTemplates,
    compose_thread,
    example_facts,
    load_facts,
    load_templates,
    parse_facts,
)

EXAMPLES = resources.files("uproar.respond") / "examples"
SUFFIX = re.compile(r" (\d+)/(\d+)(?: #\w+)?$")


def example(name: str) -> Facts:
    return load_facts(Path(str(EXAMPLES / name)))


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter()


FACTS = {
    "brand": "KiwiNet",
    "what": "broadband is down",
    "who": "customers in Auckland",
    "do": "keep your modem switched on",
    "doing": "working to restore the connection",
    "next_update": "9am",
    "link": "https://status.kiwinet.co.nz",
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_example_thread_fits_and_is_numbered(platform: str, linter: Linter) -> None:
    thread = compose_thread(example("kiwinet-update1.toml"), platform, linter=linter)
    assert thread.posts
    whole_thread = {r.id for r in linter.rules if r.extends == "facts"}
    for n, post in enumerate(thread.posts, start=1):
        assert fits(post.text, platform)
        assert post.length == weighted_length(post.text, platform) <= thread.limit
        assert post.number == n
        errors = [f for f in linter.lint(post.text, kind="update") if f.severity == "error"]
        assert [f.rule for f in errors if f.rule not in whole_thread] == []
        if platform != "facebook" and len(thread.posts) > 1:
            m = SUFFIX.search(post.text)
            assert m and (int(m[1]), int(m[2])) == (n, len(thread.posts))
    joined = "\n".join(p.text for p in thread.posts)
    assert not linter.has_errors(linter.lint(joined, kind="update"))
    assert "https://www.kiwinet.co.nz/status" in joined


def test_x_thread_is_several_posts_facebook_is_one(linter: Linter) -> None:
    facts = example("kiwinet-update1.toml")
    assert len(compose_thread(facts, "x", linter=linter).posts) >= 2
    (post,) = compose_thread(facts, "facebook", linter=linter).posts
    assert not SUFFIX.search(post.text)


def test_follow_up_continues_numbering_and_leads_with_change(linter: Linter) -> None:
    facts = example("kiwinet-update2.toml")
    thread = compose_thread(facts, "x", previous=3, linter=linter)
    first = thread.posts[0]
    assert first.text.startswith("Update 2. We've found the cause: a malicious attack")
    assert first.number == 4
    assert thread.total == 3 + len(thread.posts)
    m = SUFFIX.search(first.text)
    assert m and (m[1], m[2]) == ("4", str(thread.total))
    # The facts' own `previous` key does the same when the caller passes none.
    from_facts = compose_thread(dataclasses.replace(facts, previous=3), "x", linter=linter)
    assert [p.text for p in from_facts.posts] == [p.text for p in thread.posts]


def test_optional_thanks_never_stands_alone(linter: Linter) -> None:
    facts = parse_facts({**FACTS, "hashtag": "KiwiOut"})
    (post,) = compose_thread(facts, "x", linter=linter).posts  # the thanks would need a 2nd
    assert "Thanks" not in post.text and post.text.endswith("kiwinet.co.nz #KiwiOut")
    (long_form,) = compose_thread(facts, "facebook", linter=linter).posts
    assert "Thanks for bearing with us. Follow along here" in long_form.text


def test_single_post_has_no_number_unless_it_continues_a_thread(linter: Linter) -> None:
    facts = parse_facts(FACTS)
    (alone,) = compose_thread(facts, "mastodon", linter=linter).posts
    assert not SUFFIX.search(alone.text)
    (later,) = compose_thread(facts, "mastodon", previous=2, linter=linter).posts
    assert later.text.endswith(" 3/3")


def test_to_dict_is_the_json_contract(linter: Linter) -> None:
    thread = compose_thread(example("kiwinet-update1.toml"), "bluesky", linter=linter)
    data = thread.to_dict()
    assert data["platform"] == "bluesky"
    assert [set(p) for p in data["posts"]] == [{"text", "length"}] * len(thread.posts)


# -- facts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("key", REQUIRED_FACTS)
def test_missing_key_is_named(key: str, tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_text("\n".join(f'{k} = "{v}"' for k, v in FACTS.items() if k != key))
    with pytest.raises(InputError, match=f"missing key '{key}'") as err:
        load_facts(path)
    assert err.value.field == key and err.value.file == str(path)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"update": 0}, "update"),
        ({"update": "two"}, "update"),
        ({"update": 2}, "changed"),
        ({"previous": -1}, "previous"),
        ({"link": "not a link"}, "link"),
        ({"what": "  "}, "what"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_facts_name_the_field(extra: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_facts({**FACTS, **extra})
    assert err.value.field == field


def test_facts_are_normalised() -> None:
    facts = parse_facts({**FACTS, "link": "status.kiwinet.co.nz", "what": "email is  down.",
                         "hashtag": "KiwiOut"})  # fmt: skip
    assert facts.link == "https://status.kiwinet.co.nz"
    assert facts.what == "email is down"
    assert facts.hashtag == "#KiwiOut"


def test_example_facts_ship_with_the_package() -> None:
    assert example_facts().brand == "KiwiNet"
    assert example_facts("kiwinet-update2").update == 2
    with pytest.raises(InputError, match="no example facts"):
        example_facts("nope")


def test_unreadable_facts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_facts(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("brand = ")
    with pytest.raises(InputError, match="not valid TOML"):
        load_facts(bad)


# -- the lint gate -------------------------------------------------------------------------
def test_blaming_fact_is_refused_and_named(linter: Linter) -> None:
    facts = parse_facts({**FACTS, "what": "your modem caused this, not our network"})
    with pytest.raises(InputError, match="reword the fact") as err:
        compose_thread(facts, "x", linter=linter)
    assert err.value.field == "what"


def test_rejected_phrasing_moves_to_the_next_variant(linter: Linter) -> None:
    shipped = load_templates()
    # A first phrasing the default style rejects (defensive: "as we already said").
    sections = tuple(
        dataclasses.replace(s, variants=("As we already said, {what}.", *s.variants))
        if s.name == "what"
        else s
        for s in shipped.sections
    )
    templates = ThreadTemplates(sections, shipped.numbered, shipped.joiner)
    assert linter.has_errors(linter.lint("As we already said, broadband is down.", kind="update"))
    thread = compose_thread(parse_facts(FACTS), "x", linter=linter, templates=templates)
    text = " ".join(p.text for p in thread.posts)
    assert "already said" not in text
    assert "We're sorry. Broadband is down." in text


def test_missing_facts_in_the_whole_thread_are_refused(linter: Linter) -> None:
    sections = (Section("thanks", ("Thanks for bearing with us.",)),)
    templates = ThreadTemplates(sections, {}, {})
    with pytest.raises(InputError, match=r"Uproar\.MissingFacts"):
        compose_thread(parse_facts(FACTS), "x", linter=linter, templates=templates)


# -- splitting -----------------------------------------------------------------------------
def test_long_sentence_splits_at_clauses_then_words(linter: Linter) -> None:
    long_do = ", ".join(f"check step {i} of the guide on our help pages" for i in range(12))
    facts = parse_facts({**FACTS, "do": long_do})
    thread = compose_thread(facts, "x", linter=linter)
    assert all(fits(p.text, "x") for p in thread.posts)
    assert len(thread.posts) >= 3
    body = " ".join(SUFFIX.sub("", p.text) for p in thread.posts)
    assert long_do in body


def test_cjk_and_emoji_count_double_on_x() -> None:
    facts = parse_facts({**FACTS, "who": "東京と大阪のお客様" * 8 + " 🙇‍♀️"})
    thread = compose_thread(facts, "x", linter=Linter(rules=[]))  # counting, not voice
    assert all(p.length <= 280 for p in thread.posts)
    assert any(p.length > len(p.text) for p in thread.posts)  # CJK weighs 2


def test_word_too_long_for_any_post_is_refused() -> None:
    facts = parse_facts({**FACTS, "who": "x" * 400})
    with pytest.raises(InputError, match="cannot fit one bluesky post"):
        compose_thread(facts, "bluesky", linter=Linter(rules=[]))


WORD = st.one_of(
    st.sampled_from(["our", "modem", "Auckland", "naïve", "東京", "🙇‍♀️", "🇳🇿", "e\u0301", "3/5",
                     "https://kiwinet.co.nz/status/42", "kiwinet.co.nz/help", "—", "and,"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=25),
)  # fmt: skip
THANKS = ["Thanks", "for", "bearing", "with", "us."]
PHRASE = st.lists(WORD, min_size=1, max_size=60).map(" ".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(what=PHRASE, who=PHRASE, do=PHRASE, platform=st.sampled_from(["x", "mastodon", "bluesky"]))
def test_splitter_never_exceeds_limits_or_cuts_words(
    what: str, who: str, do: str, platform: str
) -> None:
    facts = parse_facts({**FACTS, "what": what, "who": who, "do": do})
    thread = compose_thread(facts, platform, linter=Linter(rules=[]))
    unsplit = compose_thread(facts, "facebook", linter=Linter(rules=[])).posts[0].text.split()
    pieces: list[str] = []
    for post in thread.posts:
        assert fits(post.text, platform), post.text
        body = SUFFIX.sub("", post.text) if len(thread.posts) > 1 else post.text
        pieces.extend(body.split())
        for start, end in link_spans(post.text, platform):
            assert post.text[start:end] in facts.link or " " not in post.text[start:end]
    # Every word and link arrives whole and in order (the optional thanks may be left out).
    assert pieces in (unsplit, _without_thanks(unsplit))


def _without_thanks(words: list[str]) -> list[str]:
    for i in range(len(words) - len(THANKS) + 1):
        if words[i : i + len(THANKS)] == THANKS:
            return words[:i] + words[i + len(THANKS) :]
    return words


# -- CLI -----------------------------------------------------------------------------------
def test_cli_thread_json() -> None:
    from uproar.cli import respond  # noqa: F401  (registers the commands)
    from uproar.cli.app import app

    path = str(EXAMPLES / "kiwinet-update1.toml")
    result = CliRunner().invoke(app, ["thread", path, "--platform", "x", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["platform"] == "x"
    assert all(p["length"] == weighted_length(p["text"], "x") <= 280 for p in data["posts"])
    human = CliRunner().invoke(app, ["thread", path, "--platform", "mastodon", "--previous", "2"])
    assert human.exit_code == 0 and "3/" in human.stdout
