"""A streaming anomaly model for one numeric series: counts, or any real-valued metric.

``MetricDetector`` follows river's protocol: ``score_one(x)`` says how surprising ``x``
is given what the model has learnt (it changes nothing), ``learn_one(x)`` adds it. The
constructor keeps its parameters as given and the state is built by ``_reset``, so a
model can be cloned, pickled and reset.

How a row is scored, in three stages:

1. **Family, chosen from the data.** The first ``warmup`` values pick a transform that
   makes the spread of the series about the same at every level: counts (whole numbers
   ``>= 0``) take Anscombe's square root ``2 sqrt(x + 3/8)``, which turns Poisson noise
   into unit variance (Anscombe 1948); positive values with a heavy upper tail (the 99th
   percentile over ten times the median: latencies, bytes, prices) take the logarithm;
   anything else (negative values, fractions, temperatures, percentages) stays as it is.
2. **Surprise.** The transformed value's distance from the median of the last
   ``window`` values, in robust standard deviations (interquartile range / 1.349, floored
   at 1 % of the window's range so a flat series does not divide by zero), capped at
   ``cap``. Quantiles come from a sorted window, so the model has no distributional
   assumption beyond the transform.
3. **Likelihood.** As in Numenta's anomaly likelihood (Ahmad et al., "Unsupervised
   real-time anomaly detection for streaming data", Neurocomputing 2017): the mean
   surprise of the last ``short`` rows against the mean and deviation of the surprise
   over the last ``horizon`` rows, as a Gaussian tail probability. A series that is
   always noisy learns that its surprise is usually high; one that is always calm is
   flagged by a smaller jump. ``score_one`` returns one minus that tail probability.
4. **Record.** Surprise is heavy-tailed, so a Gaussian tail alone fires every few days
   on a bursty series. A row's score is kept only when its mean recent surprise is the
   largest of the last ``record`` rows (otherwise it is scaled down by the ratio): under
   no change, a given row is the record of ``record`` rows with probability
   ``1 / record``, which bounds the alert rate whatever the distribution.

``alerts`` turns scores into alerts: a row alerts when its score reaches
``1 - tail`` and the previous alert is more than ``refractory`` rows back (one alert per
event, rather than one per row of it).

The defaults are one setting for every series, chosen on the NAB corpus (``uproar eval
nab``; see the README for the scores and how they compare).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

Family = Literal["count", "log", "real"]
FAMILIES: tuple[Family, ...] = ("count", "log", "real")
PARAMETERS = (
    "window", "warmup", "short", "horizon", "cap", "tail", "refractory", "record", "family"
)  # fmt: skip
HEAVY_TAIL = 10.0  # a positive series whose p99 is over 10x its median is modelled in logs


def choose_family(values: Sequence[float]) -> Family:
    """The transform for a series, from a sample of its values (see the module doc)."""
    if not values:
        return "real"
    if all(v >= 0 and v == math.floor(v) for v in values):
        return "count"
    if all(v > 0 for v in values):
        ordered = sorted(values)
        median = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        if p99 > HEAVY_TAIL * median:
            return "log"
    return "real"


class MetricDetector:
    """Streaming anomaly scores for one numeric series (river's ``learn_one`` /
    ``score_one``). Parameters are in rows of the series; see the module doc."""

    def __init__(
        self,
        *,
        window: int = 5000,
        warmup: int = 150,
        short: int = 3,
        horizon: int = 4000,
        cap: float = 30.0,
        tail: float = 3e-4,
        refractory: int = 100,
        record: int = 700,
        family: Family | None = None,
    ) -> None:
        if window < 4 or horizon < 4:
            raise ValueError(f"window and horizon must be >= 4 rows, got {window}, {horizon}")
        if not 2 <= warmup <= window:
            raise ValueError(f"warmup must be 2..window rows, got {warmup}")
        if short < 1 or refractory < 0 or record < 0:
            raise ValueError(
                f"short must be >= 1, refractory and record >= 0; "
                f"got {short}, {refractory}, {record}"
            )
        if not 0 < tail < 1 or cap <= 0:
            raise ValueError(f"tail must be in (0, 1) and cap > 0, got {tail}, {cap}")
        if family is not None and family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
        self.window = window
        self.warmup = warmup
        self.short = short
        self.horizon = horizon
        self.cap = cap
        self.tail = tail
        self.refractory = refractory
        self.record = record
        self.family = family
        self._reset()

    def _reset(self) -> None:
        self.family_: Family | None = self.family
        self._pending: list[float] = []  # raw values until the family is chosen
        self._floor = 0.0  # the smallest positive value seen (log family's floor)
        self._ring: deque[float] = deque()
        self._sorted: list[float] = []
        self._recent: deque[float] = deque()  # last ``short`` surprises
        self._recent_sum = 0.0
        self._history: deque[float] = deque()  # last ``horizon`` surprises
        self._sum = 0.0
        self._sumsq = 0.0
        self._peaks: deque[tuple[int, float]] = deque()  # falling maxima of the recent mean
        self.rows = 0

    def reset(self) -> MetricDetector:
        self._reset()
        return self

    def clone(self) -> MetricDetector:
        """A fresh model with the same parameters."""
        return MetricDetector(**self._params())

    def _params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in PARAMETERS}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"MetricDetector({args})"

    # --- the transform ---------------------------------------------------------------

    def _transform(self, x: float) -> float:
        if self.family_ == "count":
            return 2.0 * math.sqrt(max(x, 0.0) + 0.375)
        if self.family_ == "log":
            return math.log(max(x, self._floor))
        return x

    # --- river protocol -----------------------------------------------------------------

    def _surprise(self, y: float) -> float:
        s = self._sorted
        n = len(s)
        if n < self.warmup:
            return 0.0
        spread = (s[(3 * n) // 4] - s[n // 4]) / 1.349
        scale = max(spread, 0.01 * (s[-1] - s[0]), 1e-9 * (1.0 + abs(s[n // 2])))
        return min(abs(y - s[n // 2]) / scale, self.cap)

    def _recent_mean(self, surprise: float) -> float:
        """The mean surprise of the last ``short`` rows, ``surprise`` (this row's) included."""
        recent = self._recent_sum + surprise
        count = len(self._recent) + 1
        if count > self.short:
            recent -= self._recent[0]
            count -= 1
        return recent / count

    def _likelihood(self, recent: float) -> float:
        """One minus the Gaussian tail probability of ``recent`` among past surprises."""
        h = len(self._history)
        if h < self.warmup:
            return 0.0
        mean = self._sum / h
        sd = math.sqrt(max(self._sumsq / h - mean * mean, 1e-12))
        z = (recent - mean) / sd
        return 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))

    def _top(self) -> float:
        """The largest recent mean of the last ``record`` rows (0 if none)."""
        for row, value in self._peaks:
            if row > self.rows - self.record:
                return value
        return 0.0

    def score_one(self, x: float) -> float:
        """How anomalous ``x`` is, in [0, 1] (0 during warm-up). Changes nothing."""
        if self.family_ is None or not math.isfinite(x):
            return 0.0
        recent = self._recent_mean(self._surprise(self._transform(x)))
        score = self._likelihood(recent)
        top = self._top() if self.record else 0.0
        return score if recent >= top else score * recent / top

    def learn_one(self, x: float) -> MetricDetector:
        """Add ``x`` to what the model knows. Non-finite values are skipped."""
        if not math.isfinite(x):
            return self
        self.rows += 1
        if x > 0 and (self._floor == 0.0 or x < self._floor):
            self._floor = x
        if self.family_ is None:
            self._pending.append(x)
            if len(self._pending) >= self.warmup:
                self.family_ = choose_family(self._pending)
                for v in self._pending:
                    self._add(v)
                self._pending = []
            return self
        self._add(x)
        return self

    def _add(self, x: float) -> None:
        y = self._transform(x)
        r = self._surprise(y)
        if self.record:
            recent = self._recent_mean(r)
            while self._peaks and (
                self._peaks[0][0] <= self.rows - self.record or self._peaks[-1][1] <= recent
            ):
                if self._peaks[0][0] <= self.rows - self.record:
                    self._peaks.popleft()
                else:
                    self._peaks.pop()
            self._peaks.append((self.rows, recent))
        self._recent.append(r)
        self._recent_sum += r
        if len(self._recent) > self.short:
            self._recent_sum -= self._recent.popleft()
        if len(self._sorted) >= self.warmup:
            self._history.append(r)
            self._sum += r
            self._sumsq += r * r
            if len(self._history) > self.horizon:
                old = self._history.popleft()
                self._sum -= old
                self._sumsq -= old * old
        self._ring.append(y)
        bisect.insort(self._sorted, y)
        if len(self._ring) > self.window:
            old_y = self._ring.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old_y)]


class MultiScaleDetector:
    """One ``MetricDetector`` per time scale: scale ``k`` learns the mean of the last ``k``
    values, so a shift too small to stand out of one row's noise stands out of the
    ``k``-row mean. The default scales are a row, 24 rows and 288 rows: two hours and a
    day of 5-minute rows, the interval of most NAB series and of mention counts. A row's
    score is the largest over the scales. Same protocol and parameters as
    ``MetricDetector`` (passed to each scale), plus ``scales`` in rows."""

    def __init__(self, *, scales: Sequence[int] = (1, 24, 288), **params: Any) -> None:
        if not scales or any(k < 1 for k in scales) or len(set(scales)) != len(scales):
            raise ValueError(f"scales must be distinct whole numbers of rows >= 1, got {scales}")
        MetricDetector(**params)  # validates the parameters
        self.scales = tuple(scales)
        self.params = dict(params)
        self._reset()

    def _reset(self) -> None:
        self.models = [MetricDetector(**self.params) for _ in self.scales]
        size = max(self.scales)
        self._ring = [0.0] * size  # the last ``size`` values learnt, oldest overwritten
        self._count = 0
        self._sums = [0.0] * len(self.scales)  # per scale: the sum of its last k - 1 values

    @property
    def tail(self) -> float:
        return self.models[0].tail

    @property
    def refractory(self) -> int:
        return self.models[0].refractory

    @property
    def family_(self) -> Family | None:
        """The family the one-row scale chose (each scale chooses its own)."""
        return self.models[self.scales.index(1)].family_ if 1 in self.scales else None

    def reset(self) -> MultiScaleDetector:
        self._reset()
        return self

    def clone(self) -> MultiScaleDetector:
        return MultiScaleDetector(scales=self.scales, **self.params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"MultiScaleDetector(scales={self.scales!r}{', ' if args else ''}{args})"

    def _means(self, x: float) -> list[float]:
        have = self._count
        return [
            (t + x) / (min(have, k - 1) + 1) for k, t in zip(self.scales, self._sums, strict=True)
        ]

    def score_one(self, x: float) -> float:
        if not math.isfinite(x):
            return 0.0
        return max(m.score_one(v) for m, v in zip(self.models, self._means(x), strict=True))

    def learn_one(self, x: float) -> MultiScaleDetector:
        if not math.isfinite(x):
            return self
        for m, v in zip(self.models, self._means(x), strict=True):
            m.learn_one(v)
        size = len(self._ring)
        self._ring[self._count % size] = x
        self._count += 1
        for i, k in enumerate(self.scales):
            if k > 1:
                self._sums[i] += x
                if self._count >= k:  # the value k rows back leaves the k - 1 window
                    self._sums[i] -= self._ring[(self._count - k) % size]
        return self


class StreamingDetector(Protocol):
    """What ``scores`` and ``alerts`` need: river's protocol and an alert rule."""

    @property
    def tail(self) -> float: ...

    @property
    def refractory(self) -> int: ...

    def score_one(self, x: float) -> float: ...

    def learn_one(self, x: float) -> Any: ...


def scores(model: StreamingDetector, values: Iterable[float]) -> list[float]:
    """Score then learn each value in turn (the streaming order); the model is updated."""
    out = []
    for x in values:
        out.append(model.score_one(x))
        model.learn_one(x)
    return out


def alerts(model: StreamingDetector, values: Iterable[float]) -> tuple[list[int], list[float]]:
    """The rows that alert (see the module doc) and every row's score; the model is updated."""
    flagged: list[int] = []
    out: list[float] = []
    last = -(10**18)
    level = 1.0 - model.tail
    for i, x in enumerate(values):
        s = model.score_one(x)
        out.append(s)
        if s >= level and i - last > model.refractory:
            flagged.append(i)
            last = i
        model.learn_one(x)
    return flagged, out
