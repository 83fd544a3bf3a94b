"""``MetricDetector`` (river's protocol) and ``detect --series`` on real-valued metrics."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.detect.metric import (
    MetricDetector,
    MultiScaleDetector,
    alerts,
    choose_family,
    scores,
)
from uproar.detect.series import Series, SeriesAnalysis, detect_series, incidents, read_series

from .conftest import T0


def metric(n: int = 2000, *, seed: int = 3, spike_at: int | None = None) -> list[float]:
    """A CPU-like real metric: a daily cycle around 40 %, noise, fractions."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 40 + 10 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 2, n)
    if spike_at is not None:
        values[spike_at : spike_at + 4] += 45
    return [float(v) for v in values]


def write(path: Path, values: list[float], *, times: list[int] | None = None) -> Path:
    minutes = times if times is not None else [5 * i for i in range(len(values))]
    lines = ["timestamp,value"]
    for m, v in zip(minutes, values, strict=True):
        when = (T0 + timedelta(minutes=m)).replace(tzinfo=None).isoformat()
        lines.append(f"{when},{'' if v != v else v}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("values", "family"),
    [
        ([3, 0, 12, 7, 5], "count"),
        ([0.5, 1.2, 0.7, 0.9], "real"),
        ([-3.5, 2.0, 1.0], "real"),
        ([1.5] * 90 + [3.5] * 10, "real"),
        ([1.5] * 90 + [50.5] * 10, "log"),
        ([], "real"),
    ],
)
def test_the_family_is_chosen_from_the_data(values: list[float], family: str) -> None:
    assert choose_family(values) == family


def test_clone_pickle_and_reset_give_the_same_scores() -> None:
    values = metric(1200, spike_at=1000)
    model = MetricDetector(window=500, horizon=500)
    first = scores(model, values)
    assert scores(model.clone(), values) == first
    fresh = pickle.loads(pickle.dumps(MetricDetector(window=500, horizon=500)))
    assert scores(fresh, values) == first
    restored = pickle.loads(pickle.dumps(model))
    assert restored.score_one(90.0) == model.score_one(90.0)
    assert scores(model.reset(), values) == first
    assert repr(model.clone()) == repr(model)


def test_score_one_changes_nothing() -> None:
    model = MetricDetector()
    for x in metric(400):
        model.learn_one(x)
    before = pickle.dumps(model)
    model.score_one(1e6)
    assert pickle.dumps(model) == before


def test_warm_up_scores_zero_and_a_planted_spike_scores_highest() -> None:
    values = metric(2000, spike_at=1500)
    model = MetricDetector()
    out = scores(model, values)
    assert all(s == 0.0 for s in out[: model.warmup])
    assert int(np.argmax(out)) in range(1500, 1504)
    assert model.family_ == "real"


def test_one_alert_per_event() -> None:
    flagged, _ = alerts(MetricDetector(), metric(2000, spike_at=1500))
    assert flagged == [1500]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=300))
def test_scores_are_probabilities_for_any_finite_series(values: list[float]) -> None:
    out = scores(MetricDetector(warmup=10, window=50, horizon=50), values)
    assert all(0.0 <= s <= 1.0 for s in out)


def test_multi_scale_clones_pickles_and_resets() -> None:
    values = metric(1200, spike_at=1000)
    model = MultiScaleDetector(scales=(1, 12), window=500, horizon=500)
    first = scores(model, values)
    assert scores(model.clone(), values) == first
    assert scores(pickle.loads(pickle.dumps(model.clone())), values) == first
    assert scores(model.reset(), values) == first
    assert model.family_ == "real" and "scales=(1, 12)" in repr(model)


def test_a_small_sustained_shift_is_found_on_the_longer_scale() -> None:
    """A level shift of 1.2 noise deviations: one row of it is ordinary, 24 rows are not,
    so the 24-row scale finds it first."""
    rng = np.random.default_rng(5)
    values = list(rng.normal(10, 1, 3000))
    values[2000:] = [v + 1.2 for v in values[2000:]]
    one, _ = alerts(MultiScaleDetector(scales=(1,)), values)
    both, _ = alerts(MultiScaleDetector(scales=(1, 24)), values)
    assert not [a for a in one if 2000 <= a < 2050]
    assert [a for a in both if 2000 <= a < 2050]


def test_bad_parameters_say_what_was_expected() -> None:
    with pytest.raises(ValueError, match="warmup"):
        MetricDetector(warmup=1)
    with pytest.raises(ValueError, match="family"):
        MetricDetector(family="gamma")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scales"):
        MultiScaleDetector(scales=(1, 1))


def test_a_negative_real_metric_spike_is_one_incident(tmp_path: Path) -> None:
    values = [v - 60 for v in metric(2000, spike_at=1500)]  # -30 .. -10: all negative
    result = detect_series(write(tmp_path / "m.csv", values))
    assert len(result.incidents) == 1 and result.posts == 0
    inc = result.incidents[0]
    assert inc.start == T0 + timedelta(minutes=5 * 1500) and inc.end is not None
    assert inc.start <= inc.peak <= inc.end


def test_alerts_within_an_incident_are_one_incident() -> None:
    times = tuple(T0 + timedelta(minutes=5 * i) for i in range(10))
    series = Series(times, (1.0,) * 10, timedelta(minutes=5))
    scores = (0.0, 0.1, 1.0, 0.9, 1.0, 0.8, 0.2, 1.0, 0.3, 0.0)
    found = incidents(series, SeriesAnalysis("real", scores, (2, 4, 7)), tail=1e-3, short=3)
    assert [(i.start, i.end) for i in found] == [(times[2], times[6]), (times[7], times[8])]
    assert all(i.start <= i.peak <= i.end for i in found if i.end is not None)


def test_a_quiet_metric_has_at_most_a_low_incident(tmp_path: Path) -> None:
    """The NAB-chosen sensitivity alerts about once in 1,500 ordinary rows (a week of
    5-minute rows here), never above low severity."""
    found = detect_series(write(tmp_path / "q.csv", metric(2000))).incidents
    assert len(found) <= 1 and all(i.severity == "low" for i in found)


def test_times_that_do_not_advance_and_gaps_are_kept_and_noted(tmp_path: Path) -> None:
    values = metric(300)
    values[100] = float("nan")
    times = [5 * i for i in range(300)]
    times[200] = times[199]  # a repeated hour, as at the end of daylight saving
    series = read_series(write(tmp_path / "odd.csv", values, times=times))
    assert len(series.values) == 300 and series.step == timedelta(minutes=5)
    assert series.notes == (
        "1 row(s) whose time does not advance, kept in file order",
        "1 row(s) without a finite value, kept as gaps",
    )
