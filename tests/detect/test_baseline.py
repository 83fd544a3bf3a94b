"""The seasonal baseline: profile recovery, cold start, robustness."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from uproar.detect.baseline import SeasonalBaseline, hour_of_week

from .conftest import T0


def profile(t) -> float:  # type: ignore[no-untyped-def]
    """A known rate: busy weekday afternoons, quiet nights, quieter Sundays."""
    base = 0.5 + 4.0 * (9 <= t.hour < 18)
    return base * (0.5 if t.weekday() == 6 else 1.0)


def test_hour_of_week_index() -> None:
    assert hour_of_week(T0) == 0  # Monday 00:00
    assert hour_of_week(T0 + timedelta(days=6, hours=23)) == 167


def test_recovers_a_seasonal_profile() -> None:
    b = SeasonalBaseline(level_half_life=timedelta(hours=1))
    b.grow(1)
    t = T0
    for _ in range(3 * 7 * 1440):
        b.learn(t, np.array([profile(t)]), np.array([True]))
        t += timedelta(minutes=1)
    for probe in (
        T0 + timedelta(days=1, hours=3),
        T0 + timedelta(days=2, hours=14),
        T0 + timedelta(days=6, hours=12),
    ):
        assert float(b.seasonal(probe)[0]) == pytest.approx(profile(probe), rel=0.12)


def test_cold_start_uses_the_global_rate() -> None:
    b = SeasonalBaseline()
    b.grow(1)
    t = T0 + timedelta(hours=10)
    for _ in range(180):  # three hours at 2 per minute
        b.learn(t, np.array([2.0]), np.array([True]))
        t += timedelta(minutes=1)
    # an hour it has never seen: the brand's overall rate, not the prior
    assert float(b.expected(T0 + timedelta(hours=20))[0]) == pytest.approx(2.0, rel=0.15)


def test_unlearned_rows_stay_put() -> None:
    b = SeasonalBaseline()
    b.grow(2)
    t = T0
    for _ in range(600):
        b.learn(t, np.array([3.0, 50.0]), np.array([True, False]))
        t += timedelta(minutes=1)
    e = b.expected(t)
    assert float(e[0]) == pytest.approx(3.0, rel=0.1)
    assert float(e[1]) == pytest.approx(b.prior_rate, rel=1e-9)


def test_a_quiet_hour_seen_once_is_not_pulled_up_to_the_daily_mean() -> None:
    # One day of history: 0.05 a minute from 01:00 to 05:00 (three complaints an hour at
    # night), 1 a minute otherwise. The next night's 03:00 is judged against that night,
    # not against the day's mean (the global prior put it at three times the truth).
    def rate(t) -> float:  # type: ignore[no-untyped-def]
        return 0.05 if 1 <= t.hour < 5 else 1.0

    b = SeasonalBaseline()
    b.grow(1)
    t = T0
    for _ in range(1440):
        b.learn(t, np.array([rate(t)]), np.array([True]))
        t += timedelta(minutes=1)
    night = T0 + timedelta(days=1, hours=3)
    assert float(b.seasonal(night)[0]) == pytest.approx(0.05, rel=0.3)
    # and two minutes of one complaint each, in an hour of the week not seen before, do
    # not double it (the week cell's prior was 15 bins, 0.75 complaints, at this rate)
    for k in range(2):
        b.learn(night + timedelta(minutes=k), np.array([1.0]), np.array([True]))
    assert float(b.seasonal(night + timedelta(minutes=2))[0]) < 0.08
