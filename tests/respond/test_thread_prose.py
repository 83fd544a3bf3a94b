"""The composer's prose, over the shapes a person types: every fact as a sentence, a
clause or a fragment, in any case, with or without a full stop (hypothesis), checked on
the output: no doubled subjects, no capitals mid-sentence, no repeated intensifier, no link
running into text, at most one colon per sentence."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.respond.lint import Linter
from uproar.respond.thread import compose_thread, parse_facts

# Each fact in the shapes people write it; the last word list is what the prose must never
# show capitalised mid-sentence.
WHAT = [
    "broadband is down",
    "Broadband is down",
    "Broadband is down.",
    "BROADBAND IS DOWN",
    "We're sorry: broadband is down",
    "the internet is really slow for a lot of you",
]
WHO = [
    "customers in Wellington",
    "Customers in Wellington.",
    "It's affecting customers in Wellington",
    "affecting everyone in the Hutt Valley",
    "Customers in Wellington are affected.",
    "some homes in Petone",
]
DO = [
    "restart your modem",
    "Restart your modem.",
    "In the meantime, restart your modem",
    "You can use mobile data for now.",
    "switch your modem off for 30 seconds: it clears the fault",
    "please keep your modem switched on",
]
DOING = [
    "replacing a damaged fibre cable in Petone",
    "Replacing a damaged fibre cable in Petone.",
    "Our engineers are replacing a damaged fibre cable in Petone",
    "We're replacing a damaged fibre cable in Petone.",
    "We will replace the damaged cable tonight.",
    "working really hard to fix it",
]
NEXT = ["9am", "by 9am.", "at 11.30pm tonight", "Next update at 3pm", "2014-09-05T11:30:00Z"]
COMMON = {
    "broadband", "customers", "restart", "replacing", "switch", "please", "affecting",
    "some", "everyone", "the", "our", "you", "we", "in", "working", "keep",
}  # fmt: skip
URL = re.compile(r"https?://\S+")
SUFFIX = re.compile(r"( \d+/\d+)?( #\w+)?$")


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", URL.sub("LINK", text)) if s]


@settings(max_examples=120, deadline=None)
@given(
    what=st.sampled_from(WHAT),
    who=st.sampled_from(WHO),
    do=st.sampled_from(DO),
    doing=st.sampled_from(DOING),
    next_update=st.sampled_from(NEXT),
    platform=st.sampled_from(["x", "mastodon", "facebook"]),
    update=st.sampled_from([1, 2]),
)
def test_prose_is_grammatical_for_every_fact_shape(
    what: str, who: str, do: str, doing: str, next_update: str, platform: str, update: int
) -> None:
    data = {
        "brand": "KiwiNet",
        "what": what,
        "who": who,
        "do": do,
        "doing": doing,
        "next_update": next_update,
        "link": "https://kiwinet.co.nz/status",
        "update": update,
    }
    if update > 1:
        data["changed"] = "Update 2: we've found the cause: a fault in a cable"
    facts = parse_facts(data, tz="Pacific/Auckland")
    thread = compose_thread(facts, platform, linter=Linter(rules=[]))
    prose = " ".join(SUFFIX.sub("", p.text) for p in thread.posts)
    doubled = (
        r"\b(?:is|are|affecting|meantime,|now,|sorry[:.]?|affects)\s+"
        r"(?:Our|We|We're|It's|This|You|Customers|Please|In)\b"
    )
    assert not re.search(doubled, prose), prose
    assert "by by" not in prose and "update update" not in prose.lower(), prose
    for sentence in sentences(prose):
        words = sentence.split()
        assert words[0][0].isupper() or words[0][0].isdigit(), sentence
        for word in words[1:]:
            bare = word.strip(".,:;!?")
            assert not (bare[:1].isupper() and bare.lower() in COMMON), sentence
        assert sentence.lower().count("really") <= 1, sentence
        assert sentence.count(":") <= 1, sentence
    # The link ends its post (only the number or hashtag may follow), never runs into text.
    for post in thread.posts:
        for m in URL.finditer(post.text):
            assert SUFFIX.fullmatch(post.text[m.end() :]), post.text


def test_example_threads_pass_the_linter_with_no_warning() -> None:
    from uproar.respond.lint import default_linter
    from uproar.respond.thread import example_facts

    linter = default_linter()
    for name, previous in (("kiwinet-update1", 0), ("kiwinet-update2", 3)):
        for platform in ("x", "mastodon", "bluesky", "facebook"):
            thread = compose_thread(example_facts(name), platform, previous=previous)
            for post in thread.posts:
                assert post.findings == (), (name, platform, post.text, post.findings)
            facts_rules = {r.id for r in linter.rules if r.extends == "facts"}
            whole = "\n".join(p.text for p in thread.posts)
            assert not [f for f in linter.lint(whole, kind="update") if f.rule in facts_rules]
