"""The shipped airline and regional scenarios do what their descriptions promise."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from uproar.simulate import SimulationResult, load_scenario, simulate

from .conftest import read_pages


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("regional") / "regional.jsonl.gz"
    return simulate(load_scenario("regional-mobile-outage"), out, seed=8)


@pytest.fixture(scope="module")
def airline(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("airline") / "airline.jsonl"
    return simulate(load_scenario("airline-disruption"), out, seed=8)


def handles_of(result: SimulationResult) -> dict[str, str]:
    import tomllib

    brands = tomllib.loads(result.brands_path.read_text())["brands"]
    return {h.lower(): bid for bid, b in brands.items() for h in b["handles"]}


def test_regional_outage_hits_every_carrier_in_its_regions(regional: SimulationResult) -> None:
    (inc,) = regional.truth["incidents"]
    assert inc["scope"] == "industry" and set(inc["peers_hit"]) == {"moamobile", "kakatel"}
    onset, end = when(inc["onset"]), when(inc["end"])
    pages = read_pages(regional.out)
    handles = handles_of(regional)
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    places: dict[str, str] = {}
    geo_in: Counter[bool] = Counter()
    for page in pages:
        places.update({p["id"]: p["full_name"] for p in page["includes"].get("places", [])})
        for t in page["data"]:
            brand = next((b for h, b in handles.items() if h in t["text"].lower()), None)
            if brand is None:
                continue
            within = onset <= when(t["created_at"]) < end
            (inside if within else outside)[brand] += 1
            if within and "geo" in t:
                name = places[t["geo"]["place_id"]]
                geo_in[name.startswith(("Wellington", "Palmerston North"))] += 1
    hours_in = (end - onset).total_seconds() / 3600
    hours_out = 96 - hours_in
    for brand in ("wekamobile", "moamobile", "kakatel"):
        assert inside[brand] / hours_in > 2.5 * outside[brand] / hours_out, brand
    # Most geotagged posts during the outage come from the two affected regions.
    assert geo_in[True] > 2 * geo_in[False]


def test_regional_copypasta_and_holiday(regional: SimulationResult) -> None:
    (rumour,) = regional.truth["rumours"]
    assert rumour["kind"] == "copypasta" and rumour["url"] is None
    texts = [t["text"] for p in read_pages(regional.out) for t in p["data"]]
    pasted = [x for x in texts if "secret test of a new government network" in x.lower()]
    assert len(pasted) > 50 and len(set(pasted)) > 10  # near-identical, not identical
    assert regional.truth["holidays"] == ["2014-10-27"]


def test_airline_outage_and_crisis(airline: SimulationResult) -> None:
    truth = airline.truth
    kinds = {i["id"]: i["kind"] for i in truth["incidents"]}
    assert kinds == {"keaair-it-outage": "outage", "keaair-viral-video": "crisis"}
    tweets: list[dict[str, Any]] = [t for p in read_pages(airline.out) for t in p["data"]]
    outage = truth["incidents"][0]
    onset, end = when(outage["onset"]), when(outage["end"])
    during = [t["text"].lower() for t in tweets if onset <= when(t["created_at"]) < end]
    words = ("cancel", "delay", "check in", "check-in", "bag", "kiosk", "refund")
    assert sum(any(w in x for w in words) for x in during) > 0.3 * len(during)
    # No scripted updates: the airline's own posts come from its voice templates.
    brand_ids = _brand_ids(airline, "keaair")
    own = [t for t in tweets if t["author_id"] in brand_ids]
    assert len(own) == truth["own_posts"] > 50
    assert any("system outage" in t["text"] or "IT issue" in t["text"] for t in own)
    assert any("back to normal" in t["text"] or "on schedule" in t["text"] for t in own)


def _brand_ids(result: SimulationResult, brand: str) -> set[str]:
    handles = {h.lstrip("@").lower() for h, b in handles_of(result).items() if b == brand}
    return {
        u["id"]
        for p in read_pages(result.out)
        for u in p["includes"]["users"]
        if u["username"].lower() in handles
    }


def test_every_shipped_scenario_runs_small(tmp_path: Path) -> None:
    from uproar.simulate import shipped_scenarios

    for name in shipped_scenarios():
        result = simulate(load_scenario(name), tmp_path / f"{name}.jsonl", seed=1, scale=0.1)
        assert result.posts > 500
