"""Streaming equals batch, post for post; a restart carries on where it stopped."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from uproar.detect import incident_dict
from uproar.detect.batch import detect_store
from uproar.detect.stream import MONITOR_COLUMNS, Monitor
from uproar.store import Store
from uproar.store.detect import load_incidents

from .conftest import T0, Surge, archive, brands

BRANDS = brands("acme", "bolt", "cyan", peers={"acme": ["bolt"], "bolt": ["acme"]})
SURGES = [
    Surge("acme", T0 + timedelta(hours=26), 40, 12.0),
    Surge("bolt", T0 + timedelta(hours=26, minutes=2), 40, 8.0),
    Surge("cyan", T0 + timedelta(hours=29), 30, 6.0, text="cyan app crashed again"),
]


@pytest.fixture(scope="module")
def posts() -> pa.Table:
    return archive({"acme": 2.0, "bolt": 1.0, "cyan": 0.5}, hours=32, surges=SURGES, seed=3)


def stored(posts: pa.Table, path: str = ":memory:") -> Store:
    s = Store(path)
    s.insert_posts(posts)
    s.save_brands(BRANDS)
    return s


def ordered(store: Store) -> pa.Table:
    return store.posts_arrow(columns=MONITOR_COLUMNS)


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["fresh", "fresh_complaint", "weighted"])
def test_streaming_equals_batch(posts: pa.Table, signal: str) -> None:
    store = stored(posts)
    batch = detect_store(store, brands=BRANDS, signal=signal, details=False, save=False)
    monitor = Monitor.for_brands(BRANDS, signal=signal)
    alerts = monitor.process(ordered(store))
    last = max(store.posts_arrow(columns=("created_at",)).column(0).to_pylist())
    monitor.advance(last.replace(tzinfo=T0.tzinfo) + timedelta(minutes=1))
    assert batch.incidents, "the planted surges must be found"
    assert monitor.incidents() == list(batch.incidents)
    # each incident's detected_at is the time of the post that raised the alert
    opened = {(a.brand, a.at) for a in alerts}
    assert {(i.brand, i.detected_at) for i in batch.incidents} <= opened


@pytest.mark.slow
def test_found_incidents_have_scope_and_details(posts: pa.Table) -> None:
    store = stored(posts)
    result = detect_store(store, brands=BRANDS)
    by_brand = {i.brand: i for i in result.incidents}
    assert by_brand["acme"].scope == "industry"  # its peer bolt surged too
    assert by_brand["cyan"].scope == "brand"
    cyan = by_brand["cyan"]
    assert cyan.start <= SURGES[2].onset + timedelta(minutes=2)
    assert cyan.detected_at - SURGES[2].onset < timedelta(minutes=5)
    assert "crashed" in cyan.terms
    assert cyan.authors > 50 and cyan.posts >= cyan.authors
    assert 1 <= len(set(cyan.sample_post_ids)) == len(cyan.sample_post_ids) <= 5
    # stored whole: peers, phases and term counts included
    assert cyan.term_counts and by_brand["acme"].peers
    assert load_incidents(store, brand="cyan") == [cyan]
    assert load_incidents(store, brand="acme") == [by_brand["acme"]]
    # a window learns from the history before it, so it finds the same incident
    window = detect_store(store, brands=BRANDS, since=T0 + timedelta(hours=28))
    assert window.incidents == (cyan,)


@pytest.mark.slow
def test_restart_keeps_state(posts: pa.Table, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "s.duckdb")
    store = stored(posts, db)
    table = ordered(store)
    last = max(table.column("created_at").to_pylist()).replace(tzinfo=T0.tzinfo)
    one = Monitor.for_brands(BRANDS)
    one.process(table)
    one.advance(last + timedelta(minutes=1))

    half = table.num_rows // 2
    first = Monitor.for_brands(BRANDS)
    first.process(table.slice(0, half))
    first.save(store)
    store.close()

    reopened = Store(db)
    second = Monitor.load(reopened)
    assert second is not None
    second.process(table.slice(half))
    second.advance(last + timedelta(minutes=1))
    assert second.incidents() == one.incidents()
    assert Monitor.load(reopened, "other") is None
    reopened.close()


@pytest.mark.slow
def test_one_author_flood_is_not_an_outage() -> None:
    flood = Surge("acme", T0 + timedelta(hours=26), 60, 5.0, authors=1)
    store = stored(archive({"acme": 1.0}, hours=30, surges=[flood], seed=5))
    assert detect_store(store, brands=brands("acme"), details=False).incidents == ()


@pytest.mark.slow
def test_bait_link_is_flagged_as_a_rumour() -> None:
    bait = Surge(
        "acme",
        T0 + timedelta(hours=26),
        90,
        0.6,
        text="omg leaked pics lol",
        url="http://leaks.example/x",
    )
    outage = Surge("acme", T0 + timedelta(hours=27), 30, 8.0)
    store = stored(archive({"acme": 1.0}, hours=30, surges=[bait, outage], seed=6))
    result = detect_store(store, brands=brands("acme"))
    domains = [r for r in result.rumours if r.kind == "domain"]
    assert [r.key for r in domains] == ["leaks.example"]
    assert domains[0].first_seen >= bait.onset
    assert domains[0].authors >= 10
    # the outage an hour later carries the bait link that was still spreading (the incident
    # may begin with the bait's own surge: the baseline no longer learns it as normal)
    [incident] = [
        i
        for i in result.incidents
        if i.start <= outage.onset + timedelta(minutes=5)
        and (i.end is None or i.end >= outage.onset)
    ]
    shown = incident_dict(incident)
    assert shown["bait_link"] is True
    assert [r["domain"] for r in shown["rumours"] if r["kind"] == "domain"] == ["leaks.example"]


@pytest.mark.slow
def test_streaming_carries_on_from_a_batch_run(posts: pa.Table) -> None:
    cut = T0 + timedelta(hours=28, minutes=30)
    times = posts.column("created_at").to_pylist()
    half = sum(t < cut.replace(tzinfo=None) for t in times)
    first = stored(posts.slice(0, half))
    detect_store(first, brands=BRANDS, details=False)  # saves the monitor
    monitor = Monitor.load(first)
    assert monitor is not None
    rest = stored(posts.slice(half))
    monitor.process(ordered(rest))
    last = max(times).replace(tzinfo=T0.tzinfo)
    monitor.advance(last + timedelta(minutes=1))
    whole = detect_store(stored(posts), brands=BRANDS, details=False, save=False)
    assert monitor.incidents() == list(whole.incidents)
