"""How many posts, minute by minute: rhythms, noise, incident and rumour curves.

Everything here is columnar: one float per simulated minute, built with numpy. Counts are
drawn elsewhere (Poisson around these rates), in a fixed order, from the run's generator.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from uproar.simulate.scenario import IncidentSpec, RumourSpec, Scenario, SimBrand

Floats = npt.NDArray[np.float64]
_EPOCH = date(1970, 1, 1)


def local_minutes(scenario: Scenario, tz: str) -> npt.NDArray[np.int64]:
    """Minutes since the Unix epoch in local time, for every simulated minute."""
    zone = ZoneInfo(tz)
    minutes = scenario.minutes
    hours = minutes // 60 + 2
    offsets = np.empty(hours, dtype=np.int64)
    for h in range(hours):
        t = scenario.start + timedelta(hours=h)
        off = t.astimezone(zone).utcoffset() or timedelta(0)
        offsets[h] = int(off.total_seconds() // 60)
    m = np.arange(minutes, dtype=np.int64)
    utc = int(scenario.start.timestamp()) // 60 + m
    return utc + offsets[m // 60]


def rhythm(
    scenario: Scenario,
    brand: SimBrand,
    daily_default: tuple[float, ...],
    weekly_default: tuple[float, ...],
    scale: float,
) -> Floats:
    """Expected mentions per minute: rate x daily x weekly x holidays x scale."""
    daily = np.array(brand.daily or daily_default, dtype=float)
    weekly = np.array(brand.weekly or weekly_default, dtype=float)
    daily, weekly = daily / daily.mean(), weekly / weekly.mean()
    local = local_minutes(scenario, brand.timezone)
    # Interpolate between hour centres so the rhythm has no steps on the hour.
    hour_pos = (local % 1440 - 30) / 60.0
    d = np.interp(hour_pos, np.arange(-1, 25), np.concatenate([[daily[-1]], daily, [daily[0]]]))
    local_day = local // 1440
    dow = (local_day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    rate = brand.mentions_per_hour / 60.0 * d * weekly[dow] * scale
    for h in scenario.holidays:
        if brand.id in h.brands:
            rate = np.where(local_day == (h.date - _EPOCH).days, rate * h.factor, rate)
    return np.asarray(rate, dtype=float)


def noise(
    scenario: Scenario, brand: SimBrand, dispersion: float, rng: np.random.Generator
) -> Floats:
    """Gamma(k, 1/k) multipliers per 10 minutes (mean 1): bursty, overdispersed counts.

    Noisy days divide k by their ``variance``: more spread, same mean, no incident.
    """
    minutes = scenario.minutes
    local_day = local_minutes(scenario, brand.timezone)[::10] // 1440
    k = np.full(len(local_day), dispersion)
    for nd in scenario.noisy_days:
        if brand.id in nd.brands:
            k = np.where(local_day == (nd.date - _EPOCH).days, k / nd.variance, k)
    g = rng.gamma(k, 1.0 / k)
    return np.asarray(np.repeat(g, 10)[:minutes], dtype=float)


def _since(scenario: Scenario, t: datetime) -> Floats:
    """Minutes from ``t`` for every simulated minute (negative before it)."""
    offset = (t - scenario.start).total_seconds() / 60
    return np.arange(scenario.minutes, dtype=float) - offset


def incident_profile(scenario: Scenario, inc: IncidentSpec) -> Floats:
    """Incident intensity per minute in [0, 1]: ramp, plateau with fatigue, recovery.

    Each minute takes the curve at its midpoint, the minute's mean on the linear ramp: at
    its start the first minute after a sharp onset would have no excess at all, as if the
    incident began a minute after its stated onset.
    """
    start = _since(scenario, inc.onset)
    x = start + 0.5
    dur = inc.duration.total_seconds() / 60
    ramp = max(1.0, inc.ramp.total_seconds() / 60)
    rise = np.clip(x / ramp, 0, 1)
    # People tire of complaining: the plateau sags towards 55% over a long incident.
    fatigue = 0.55 + 0.45 * np.exp(-np.clip(x - ramp, 0, None) / max(dur / 2, 1))
    tail = min(60.0, 0.15 * dur)
    fall = np.clip((dur - x) / tail, 0.15, 1)
    p = rise * fatigue * fall
    p[(start < 0) | (start >= dur)] = 0
    return np.asarray(p, dtype=float)


def rumour_rate(scenario: Scenario, rumour: RumourSpec, scale: float) -> Floats:
    """Posts per minute: doubling every ``doubling`` from 1/64 of the peak, then decaying."""
    x = _since(scenario, rumour.onset)
    dur = rumour.duration.total_seconds() / 60
    doubling = rumour.doubling.total_seconds() / 60
    grow = 6 * doubling
    half_life = max(3 * doubling, (dur - grow) / 3)
    curve = np.where(x < grow, 2.0 ** ((x - grow) / doubling), 0.5 ** ((x - grow) / half_life))
    curve[(x < 0) | (x >= dur)] = 0
    return np.asarray(rumour.peak_per_hour / 60.0 * curve * scale, dtype=float)
