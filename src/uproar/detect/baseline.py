"""A robust seasonal baseline: the expected count per brand for each bin of the week.

Three levels shrink into each other (a Poisson-gamma posterior mean at each level):

    global rate  <-  hour of day  <-  hour of week (hour-of-day x day-of-week)

so a brand with a few hours of history is judged against its overall rate, and as weeks
accumulate each hour of the week speaks for itself. A short-memory level factor follows
the brand's recent volume (the weeks it has not seen yet, growth, holidays). Robustness:
each count is winsorised before it is learned, and the detector does not teach the
baseline while an incident is open, so past incidents do not raise the bar.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def hour_of_week(t: datetime) -> int:
    """0 = Monday 00:00-00:59 UTC ... 167 = Sunday 23:00-23:59 UTC."""
    return t.weekday() * 24 + t.hour


class SeasonalBaseline:
    """Expected counts per bin for many series at once (one row per brand).

    Parameters are durations, kept as given; the bin counts they come to at ``step`` are
    derived from them (so one baseline serves minute, hourly or five-minute bins alike).
    ``hour_prior`` and ``week_prior`` are how much evidence the parent level counts for;
    ``memory`` is the half-life of the seasonal sums, ``global_half_life`` that of the
    overall rate and ``level_half_life`` that of the recent-volume factor. ``global_prior``
    is in bins: how many bins of ``prior_rate`` a brand with no history is assumed to have.
    These are the only defaults: the detector builds its baseline from ``step`` alone.
    """

    def __init__(
        self,
        *,
        step: timedelta = timedelta(minutes=1),
        prior_rate: float = 0.5,
        global_prior: float = 10.0,
        global_half_life: timedelta = timedelta(days=7),
        hour_prior: timedelta = timedelta(minutes=15),
        week_prior: timedelta = timedelta(minutes=15),
        week_prior_counts: float = 10.0,
        memory: timedelta = timedelta(days=28),
        level_half_life: timedelta = timedelta(hours=2),
        level_bounds: tuple[float, float] = (0.2, 5.0),
    ) -> None:
        if step <= timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        self.step = step
        self.prior_rate = prior_rate
        self.global_prior = global_prior
        self.global_half_life = global_half_life
        self.hour_prior = hour_prior
        self.week_prior = week_prior
        self.week_prior_counts = week_prior_counts
        self.memory = memory
        self.level_half_life = level_half_life
        self.level_bounds = level_bounds
        # in bins of ``step``; a prior is worth at least one bin, a level at least two
        self._hour_prior = max(hour_prior / step, 1.0)
        self._week_prior = max(week_prior / step, 1.0)
        self._memory = memory / step
        self._global_half_life = global_half_life / step
        self._level_half_life = max(level_half_life / step, 2.0)
        self.reset()

    def clone(self) -> SeasonalBaseline:
        """A new baseline with the same parameters and nothing learned."""
        return SeasonalBaseline(
            step=self.step,
            prior_rate=self.prior_rate,
            global_prior=self.global_prior,
            global_half_life=self.global_half_life,
            hour_prior=self.hour_prior,
            week_prior=self.week_prior,
            week_prior_counts=self.week_prior_counts,
            memory=self.memory,
            level_half_life=self.level_half_life,
            level_bounds=self.level_bounds,
        )

    def reset(self) -> None:
        """Forget everything learned, and every series (parameters stay)."""
        self.n = 0
        self.g_sum: FloatArray = np.zeros(0)
        self.g_n: FloatArray = np.zeros(0)
        self.d_sum: FloatArray = np.zeros((0, 24))
        self.d_n: FloatArray = np.zeros((0, 24))
        self.w_sum: FloatArray = np.zeros((0, 168))
        self.w_n: FloatArray = np.zeros((0, 168))
        self.lev_x: FloatArray = np.zeros(0)
        self.lev_m: FloatArray = np.zeros(0)
        self.lev_w: FloatArray = np.zeros(0)

    def forget(self, i: int) -> None:
        """Forget what series ``i`` learned (it starts again from the prior)."""
        for a in (self.g_sum, self.g_n, self.d_sum, self.d_n, self.w_sum, self.w_n):
            a[i] = 0.0
        for a in (self.lev_x, self.lev_m, self.lev_w):
            a[i] = 0.0

    # -- shape -------------------------------------------------------------------------
    def grow(self, n: int) -> None:
        """Make room for ``n`` series (new rows start empty)."""
        extra = n - self.n
        if extra <= 0:
            return

        def pad(a: FloatArray) -> FloatArray:
            return np.concatenate([a, np.zeros((extra, *a.shape[1:]))])

        self.g_sum, self.g_n = pad(self.g_sum), pad(self.g_n)
        self.d_sum, self.d_n = pad(self.d_sum), pad(self.d_n)
        self.w_sum, self.w_n = pad(self.w_sum), pad(self.w_n)
        self.lev_x, self.lev_m = pad(self.lev_x), pad(self.lev_m)
        self.lev_w = pad(self.lev_w)
        self.n = n

    # -- prediction ----------------------------------------------------------------------
    def seasonal(self, t: datetime) -> FloatArray:
        """Expected count per bin at ``t`` from the seasonal sums alone.

        Each hour's cell estimates that hour's mean, which belongs to its middle; between
        middles the estimate is interpolated linearly, so a steep morning ramp is not a
        staircase whose first minutes look quiet and last minutes look busy.
        """
        offset = (t.minute + t.second / 60.0 + 0.5 * self.step.total_seconds() / 60.0) - 30.0
        other = t + timedelta(hours=1) if offset >= 0 else t - timedelta(hours=1)
        weight = abs(offset) / 60.0
        here = self._cell(t)
        if weight == 0.0:
            return here
        out: FloatArray = (1.0 - weight) * here + weight * self._cell(other)
        return out

    def _global(self) -> FloatArray:
        out: FloatArray = (self.g_sum + self.global_prior * self.prior_rate) / (
            self.g_n + self.global_prior
        )
        return out

    def _day_prior(self, h: int, g: FloatArray) -> FloatArray:
        """What an hour of day is expected to be before its own counts: the global rate, or
        the mean of its two neighbouring hours where that is lower (each neighbour leaning
        on the global rate for one bin's worth, so an hour not seen yet is the global rate).

        The global rate alone was the prior until 2026-12-06: at 2 am, with one night of
        history (3 complaints in the hour against a daily mean of 34), it put the
        expectation at three times the truth, and a night outage's threefold rise looked
        ordinary. Only a lower neighbourhood is taken: an hour that has just been learned
        during a slow build would otherwise carry the build into the next hour's prior, and
        the build would be absorbed as it grew."""
        before, after = (h - 1) % 24, (h + 1) % 24
        nb = (self.d_sum[:, before] + g) / (self.d_n[:, before] + 1.0)
        na = (self.d_sum[:, after] + g) / (self.d_n[:, after] + 1.0)
        out: FloatArray = np.minimum(g, 0.5 * (nb + na))
        return out

    def _cell(self, t: datetime) -> FloatArray:
        """The hour-of-week cell's estimate, shrunk toward hour of day, which is shrunk
        toward its neighbouring hours (and they toward the global rate)."""
        h, w = t.hour, hour_of_week(t)
        g = self._global()
        prior = self._day_prior(h, g)
        d = (self.d_sum[:, h] + self._hour_prior * prior) / (self.d_n[:, h] + self._hour_prior)
        # The hour of week's prior is worth ``week_prior`` bins, or ``week_prior_counts``
        # counts where that is more (a quiet hour): a week cell's ratio to its hour of day
        # is as uncertain at night as by day, so two minutes of one to three complaints at
        # 2 am, against 0.1 a minute expected, must not double it (they did, and the night
        # outage whose first minutes they were went unseen).
        k = np.maximum(self._week_prior, self.week_prior_counts / np.maximum(d, 1e-6))
        out: FloatArray = (self.w_sum[:, w] + k * d) / (self.w_n[:, w] + k)
        return out

    def evidence(self, t: datetime) -> FloatArray:
        """How many counts stand behind the expectation at ``t`` (its hour of week and hour
        of day, with the neighbouring hour when interpolating): few at night or early on."""
        h, w = t.hour, hour_of_week(t)
        prior = self._day_prior(h, self._global())
        # the neighbours' rate enters the hour-of-day estimate as ``hour_prior`` bins' worth
        out: FloatArray = self.w_sum[:, w] + self.d_sum[:, h] + self._hour_prior * prior + 1.0
        return out

    def level(self) -> FloatArray:
        """The recent-volume factor: recent counts over what the seasonal part expected.

        Five bins' worth of "as expected" are added to both sides so a short or quiet
        stretch cannot swing it far.
        """
        lo, hi = self.level_bounds
        mean_m = self.lev_m / np.maximum(self.lev_w, 1e-12)
        pseudo = 5.0 * mean_m
        ratio = np.where(
            self.lev_w > 0, (self.lev_x + pseudo) / np.maximum(self.lev_m + pseudo, 1e-12), 1.0
        )
        out: FloatArray = np.clip(ratio, lo, hi)
        return out

    def expected(self, t: datetime) -> FloatArray:
        """Expected count per bin at ``t``: seasonal times recent level."""
        out: FloatArray = self.seasonal(t) * self.level()
        return out

    # -- learning ------------------------------------------------------------------------
    def learn(self, t: datetime, x: FloatArray, mask: BoolArray) -> None:
        """Teach the bin at ``t`` its (winsorised) counts ``x`` where ``mask``: the global
        rate, the seasonal cells and the recent-volume level alike."""
        h, w = t.hour, hour_of_week(t)
        m = mask
        seasonal = self.seasonal(t)
        dg = 0.5 ** (1.0 / self._global_half_life)
        self.g_sum = np.where(m, self.g_sum * dg + x, self.g_sum)
        self.g_n = np.where(m, self.g_n * dg + 1.0, self.g_n)
        # The seasonal cells each see one bin in 24 (day) or 168 (week): their memory is
        # counted in their own updates so every cell forgets at the same calendar pace.
        dd = 0.5 ** (24.0 / self._memory)
        dw = 0.5 ** (168.0 / self._memory)
        self.d_sum[:, h] = np.where(m, self.d_sum[:, h] * dd + x, self.d_sum[:, h])
        self.d_n[:, h] = np.where(m, self.d_n[:, h] * dd + 1.0, self.d_n[:, h])
        self.w_sum[:, w] = np.where(m, self.w_sum[:, w] * dw + x, self.w_sum[:, w])
        self.w_n[:, w] = np.where(m, self.w_n[:, w] * dw + 1.0, self.w_n[:, w])
        dl = 0.5 ** (1.0 / self._level_half_life)
        self.lev_x = np.where(m, self.lev_x * dl + x, self.lev_x)
        self.lev_m = np.where(m, self.lev_m * dl + seasonal, self.lev_m)
        self.lev_w = np.where(m, self.lev_w * dl + 1.0, self.lev_w)
