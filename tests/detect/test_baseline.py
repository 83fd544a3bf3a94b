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
