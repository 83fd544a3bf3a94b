"""Every template in every vocabulary renders cleanly, with entities on the right text."""

from __future__ import annotations

import random

import pytest

from uproar.simulate.pools import verbatim
from uproar.simulate.scenario import INDUSTRIES
from uproar.simulate.vocab import Mention, RenderContext, Renderer, vocabulary


def context() -> RenderContext:
    handles = [Mention("@Acme", "mention", "Acme", "101", 0), Mention("@AcmeHelp", "mention",
               "AcmeHelp", "102", 1)]  # fmt: skip
    names = [Mention("acme", "plain"), Mention("Acme Net", "plain")]
    tags = [Mention("#acme", "hashtag")]
    return RenderContext(
        brand_forms=[*handles, *names, *tags],
        brand_cum=[0.3, 0.5, 0.7, 0.9],
        handles=handles,
        hashtags=tags,
        names=names,
        peers=[Mention("@Rival", "mention", "Rival", "103", 2)],
        cities=["Wellington", "Whangārei"],
        pick_user=lambda: Mention("@some_user", "mention", "some_user", "104", 3),
        bait_url="http://bait.example.com/pics",
        copypasta="share this {handle}",
    )


def check(text: str, entities: dict[str, list[dict[str, object]]] | None) -> None:
    assert text == text.strip() and "  " not in text, repr(text)
    # X escapes & < > in v2 text; the vocabulary avoids them so offsets stay simple.
    assert not set(text) & set("&<>"), text
    for m in (entities or {}).get("mentions", []):
        assert text[m["start"] : m["end"]].lower() == "@" + str(m["username"]).lower()  # type: ignore[index,misc]
    for h in (entities or {}).get("hashtags", []):
        assert text[h["start"] : h["end"]] == "#" + str(h["tag"])  # type: ignore[index,misc]
    for u in (entities or {}).get("urls", []):
        assert text[u["start"] : u["end"]] == u["url"]  # type: ignore[index,misc]
        assert str(u["url"]).startswith("https://t.co/")


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_every_template_renders(industry: str) -> None:
    vocab = vocabulary(industry)
    renderer = Renderer(vocab, random.Random(1))
    ctx = context()
    for topic, templates in vocab.topics.items():
        mood = vocab.moods.get(topic, "angry")
        for template in templates:
            for _ in range(8):
                r = renderer.render(template, ctx, mood)
                check(r.text, r.entities)
                assert r.text
    for kind, templates in vocab.own.items():
        for template in templates:
            r = renderer.render(template, ctx, "own")
            check(r.text, r.entities)
            assert r.text[0].isupper() or r.text[0].isdigit(), (kind, r.text)


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_mixes_and_rhythms(industry: str) -> None:
    vocab = vocabulary(industry)
    assert {"complaint", "chatter", "incident"} <= set(vocab.mix)
    assert len(vocab.rhythm_daily) == 24 and len(vocab.rhythm_weekly) == 7
    assert {"ack", "update", "resolved", "reply"} <= set(vocab.own)
    for mood in ("angry", "happy", "neutral"):
        for tail in vocab.slots[f"tails_{mood}"]:
            assert tail.startswith(" ") and not set(tail) & set("@#&<>"), tail


def test_scripted_text_gets_entities_and_tco_links() -> None:
    r = verbatim(
        "1/2 Ask @AcmeHelp or see https://acme.example.com/help #AcmeUpdate",
        {"acmehelp": 0},
        ["AcmeHelp"],
        ["102"],
    )
    assert "https://acme.example.com" not in r.text
    check(r.text, r.entities)
    assert r.entities is not None
    assert r.entities["urls"][0]["expanded_url"] == "https://acme.example.com/help"
    assert r.entities["mentions"][0]["id"] == "102"
    assert r.entities["hashtags"][0]["tag"] == "AcmeUpdate"
