"""The evaluation harness's own pieces: onset classes, the latency floor, the split table."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from uproar.errors import ConfigError
from uproar.eval.detect import (
    FLOOR_HORIZON,
    EvalReport,
    ScenarioScore,
    TrueEvent,
    evaluate,
    latency_floor,
    noise_shape,
    scenario_files,
    truth_events,
)
from uproar.simulate.scenario import load_scenario
from uproar.store import Store

from .conftest import T0, Surge, archive


def _truth(onset: str, shape: str = "sharp") -> dict[str, object]:
    return {
        "incidents": [
            {
                "id": "acme-1",
                "brand": "acme",
                "onset": onset,
                "end": "2024-03-06T03:00:00Z",
                "scope": "brand",
                "onset_shape": shape,
                "peers_hit": ["bolt"],
            }
        ]
    }


def test_day_or_night_follows_the_brands_local_clock() -> None:
    # 14:00 UTC is 03:00 in Auckland (NZDT, UTC+13) and 14:00 in UTC
    auckland = truth_events(_truth("2024-03-05T14:00:00Z"), {"acme": "Pacific/Auckland"})
    utc = truth_events(_truth("2024-03-05T14:00:00Z"))
    assert auckland[0].onset_class == "sharp/night"
    assert utc[0].onset_class == "sharp/day"
    slow = truth_events(_truth("2024-03-05T22:30:00Z", "slow"))
    assert slow[0].onset_class == "slow/night"
    # the peer's event is scored for scope only; it carries no onset class of its own
    assert [e.primary for e in auckland] == [True, False]


def _event(onset_minutes: int) -> TrueEvent:
    onset = T0 + timedelta(minutes=onset_minutes)
    return TrueEvent("acme", onset, onset + timedelta(hours=1), "brand", True, "acme-1")


def test_the_floor_is_the_first_post_that_makes_the_count_since_onset_significant(
    store: Store,
) -> None:
    onset = 2 * 1440 + 600  # day three, 10:00, after two days of history
    surge = Surge("acme", T0 + timedelta(minutes=onset), minutes=30, per_minute=8.0)
    store.insert_posts(archive({"acme": 0.8}, hours=60, surges=[surge], seed=11))
    event = _event(onset)
    floor = latency_floor(store, event, [event], data_start=T0)
    assert floor is not None
    # eight complaints a minute over a background of well under one: about a minute
    assert 0.0 <= floor <= 2.0
    # a stricter level never makes the floor earlier
    stricter = latency_floor(store, event, [event], data_start=T0, level=1e-9)
    assert stricter is not None and stricter >= floor
    # nor does noise: the NB floor is at or after the Poisson one, and burstier noise (a
    # smaller gamma shape) puts it later still
    nb = latency_floor(store, event, [event], data_start=T0, dispersion=25.0)
    bursty = latency_floor(store, event, [event], data_start=T0, dispersion=2.0)
    assert nb is not None and bursty is not None
    assert floor <= nb <= bursty and floor < bursty


def test_the_nb_floor_takes_the_noise_of_the_onset_s_local_day() -> None:
    scenario = load_scenario(scenario_files("noisy-days-no-incident")[0])
    noisy = scenario.noisy_days[0]
    brand = noisy.brands[0]  # every brand when the file names none
    zone = next(b.timezone for b in scenario.brands if b.id == brand)

    def at(day: date) -> TrueEvent:
        onset = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone))
        return TrueEvent(brand, onset, onset + timedelta(hours=1), "brand", True, "x")

    assert noise_shape(scenario, at(noisy.date), zone) == pytest.approx(
        scenario.dispersion / noisy.variance
    )
    other = noisy.date - timedelta(days=1)  # the scenario's first day: no noise of its own
    assert noise_shape(scenario, at(other), zone) == scenario.dispersion


def test_no_floor_without_an_excess(store: Store) -> None:
    store.insert_posts(archive({"acme": 0.8}, hours=60, seed=12))
    event = _event(2 * 1440 + 600)
    assert latency_floor(store, event, [event], data_start=T0) is None


def test_a_cold_start_floor_uses_the_hours_before_the_onset(store: Store) -> None:
    onset = 300  # five hours in: no earlier day to compare with
    surge = Surge("acme", T0 + timedelta(minutes=onset), minutes=30, per_minute=8.0)
    store.insert_posts(archive({"acme": 0.8}, hours=8, surges=[surge], seed=13))
    event = _event(onset)
    floor = latency_floor(store, event, [event], data_start=T0)
    assert floor is not None and floor <= 2.0


def test_latency_is_split_by_onset_class() -> None:
    a = ScenarioScore("a", brands=1, days=1.0, posts=10)
    a.latencies, a.classes, a.floors = [2.0, 4.0], ["sharp/day", "sharp/day"], [1.0, None]
    a.nb_floors = [1.5, None]
    b = ScenarioScore("b", brands=1, days=1.0, posts=10)
    b.latencies, b.classes, b.floors, b.nb_floors = [20.0], ["slow/day"], [15.0], [12.0]
    b.missed_classes = ["sharp/night"]
    rows = {r["onset"]: r for r in EvalReport((a, b)).by_onset()}
    assert list(rows) == ["sharp/day", "sharp/night", "slow/day"]
    assert rows["sharp/day"]["latency_median_min"] == pytest.approx(3.0)
    # a floor not reached within the horizon counts as the horizon
    assert rows["sharp/day"]["floor_p90_min"] == pytest.approx(
        1.0 + 0.9 * (FLOOR_HORIZON.total_seconds() / 60 - 1.0)
    )
    assert rows["sharp/night"] == {
        "onset": "sharp/night",
        "events": 1,
        "found": 0,
        "latency_median_min": None,
        "latency_p90_min": None,
        "floor_median_min": None,
        "floor_p90_min": None,
        "nb_floor_median_min": None,
        "nb_floor_p90_min": None,
    }
    assert rows["slow/day"]["nb_floor_median_min"] == pytest.approx(12.0)
    totals = EvalReport((a, b)).totals()
    assert totals["latency_floor_median_min"] == pytest.approx(15.0)
    assert totals["latency_nb_floor_median_min"] == pytest.approx(12.0)
    # each latency target is judged against each floor on its own
    passed = EvalReport((a, b)).passed()
    assert passed["latency_median slow/day <= 1.5x floor"] is True  # 20 <= 1.5 x 15
    assert passed["latency_median slow/day <= 1.5x nb floor"] is False  # 20 > 1.5 x 12


@pytest.mark.slow
def test_progress_reports_each_run_and_the_report_keeps_run_order() -> None:
    calls: list[tuple[int, int, int]] = []
    report = evaluate(
        scenario_files("short-blip"),
        seeds=2,
        seed_offset=3,
        jobs=2,
        progress=lambda score, done, total: calls.append((score.seed, done, total)),
    )
    base = load_scenario(scenario_files("short-blip")[0]).seed
    assert [s.seed for s in report.scenarios] == [base + 3, base + 4]
    assert sorted(seed for seed, _, _ in calls) == [base + 3, base + 4]
    assert [(done, total) for _, done, total in calls] == [(1, 2), (2, 2)]


def _reaction(at_hours: float, brand: str = "acme") -> object:
    from uproar.detect.rumours import Rumour

    at = T0 + timedelta(hours=at_hours)
    return Rumour(brand, "reaction", "post 1", at, at, 20, 20, at, 1.0, ())


def test_a_reaction_during_a_true_incident_is_no_false_rumour() -> None:
    from uproar.eval.detect import score

    truth = {
        "start": "2024-03-04T00:00:00Z",
        "end": "2024-03-07T00:00:00Z",
        "brands": ["acme", "bolt"],
        **_truth("2024-03-05T20:00:00Z"),
    }
    during, outside, other = _reaction(45), _reaction(60), _reaction(45, "bolt")
    s = score("x", truth, [], [during, outside, other], posts=1)  # type: ignore[list-item]
    # replies to the brand's updates during its incident are true; the others are not
    # (bolt is only a peer hit: its replies would be to its own incident's updates)
    assert (s.rumours_flagged, s.rumours_flagged_true) == (3, 1)


def test_a_mistyped_scenario_names_the_close_one_and_the_shipped_ones() -> None:
    with pytest.raises(ConfigError) as err:
        scenario_files("sharp-outage-dya")
    message = str(err.value)
    assert "did you mean 'sharp-outage-day'?" in message
    assert "'suite'" in message and "night-outage-isp" in message
