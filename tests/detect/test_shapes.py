"""Real-world shapes (issue 13): a day-long storm on a sampled stream, a collection that
begins, a reaction to a brand's own post, a bait link written only in the text, and what
no incident may look like (no posts, a peak outside its span)."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from uproar.config import Brand
from uproar.detect.batch import detect_store
from uproar.store import Store

from .conftest import T0, Surge, archive


def brands(*ids: str) -> dict[str, Brand]:
    return {b: Brand(id=b, name=b.title(), handles=(f"@{b}",), keywords=(b,)) for b in ids}


def stored(posts: pa.Table, ids: tuple[str, ...]) -> Store:
    s = Store()
    s.insert_posts(posts)
    s.save_brands(brands(*ids))
    return s


def _sane(result: object) -> None:
    for i in result.incidents:  # type: ignore[attr-defined]
        assert i.posts > 0, i
        assert i.start <= i.peak and (i.end is None or i.peak <= i.end), i


@pytest.mark.slow
def test_a_day_long_storm_on_a_sampled_stream_is_one_incident() -> None:
    # A 5 % sample of a brand with a post a minute: three posts an hour. On the fourth day
    # every hour brings 2.5 times as many (a storm), and no minute stands out.
    rate = 0.05
    storm = Surge(
        "acme", T0 + timedelta(days=3, hours=6), 18 * 60, 1.5 * rate,
        text="flight cancelled again, on hold for hours",
    )  # fmt: skip
    store = stored(archive({"acme": rate}, hours=4 * 24, surges=[storm], seed=11), ("acme",))
    result = detect_store(store, brands=brands("acme"), save=False, hourly=True)
    _sane(result)
    hits = [
        i
        for i in result.incidents
        if i.start <= storm.onset + timedelta(minutes=storm.minutes)
        and (i.end is None or i.end >= storm.onset)
    ]
    assert len(hits) == 1, result.incidents
    assert len(result.incidents) == 1, result.incidents


@pytest.mark.slow
def test_a_collection_that_begins_is_no_incident() -> None:
    # acme is watched from the start but its own collection begins on day three: before
    # that only a stray mention every few hours (posts naming it among others).
    strays = archive({"acme": 0.004}, hours=48, seed=12)
    flowing = archive({"acme": 1.5, "bolt": 1.0}, hours=48, seed=13, start=T0 + timedelta(days=2))
    early = archive({"bolt": 1.0}, hours=48, seed=14)
    posts = pa.concat_tables([strays, early, flowing]).sort_by("created_at")
    ids = [f"p{k:08d}" for k in range(posts.num_rows)]
    posts = posts.set_column(posts.schema.get_field_index("id"), "id", pa.array(ids))
    store = stored(posts, ("acme", "bolt"))
    result = detect_store(store, brands=brands("acme", "bolt"), save=False, hourly=True)
    _sane(result)
    assert [i for i in result.incidents if i.brand == "acme"] == []
    # the start is named when the jump would have opened an incident: here two hours into
    # the brand's quiet early morning
    starts = [c for c in result.coverage if c.brand == "acme" and c.kind == "start"]
    began = T0 + timedelta(days=2)
    assert any(began <= c.since <= began + timedelta(hours=3) for c in starts), starts


@pytest.mark.slow
def test_a_reaction_to_an_own_post_is_found_and_a_text_only_bait_link_flagged() -> None:
    # 40 authors quote the brand's own post in two hours, as old archives keep quotes
    # ("RT @Acme: ..."), mostly not complaints; later a bait link spreads with no entities,
    # written only in the text.
    reaction = Surge(
        "acme", T0 + timedelta(hours=27), 120, 0.4,
        text='lol "@acme: our fleet is on fleek" who wrote this',
    )  # fmt: skip
    bait = Surge(
        "acme", T0 + timedelta(hours=30), 90, 0.6,
        text="omg leaked pics lol celebleaks.example/x",
    )  # fmt: skip
    store = stored(archive({"acme": 1.0}, hours=33, surges=[reaction, bait], seed=15), ("acme",))
    result = detect_store(store, brands=brands("acme"), save=False)
    _sane(result)
    reactions = [r for r in result.rumours if r.kind == "reaction"]
    assert len(reactions) == 1, result.rumours
    assert reactions[0].key == "quote our fleet is on fleek"
    assert reaction.onset <= reactions[0].detected_at <= reaction.onset + timedelta(hours=1)
    assert reactions[0].as_dict()["reacts_to"] == "quote our fleet is on fleek"
    domains = [r for r in result.rumours if r.kind == "domain"]
    assert [r.key for r in domains] == ["celebleaks.example"]
