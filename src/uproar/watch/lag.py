"""Lag figures in bounded memory: a histogram of log-spaced buckets (as HdrHistogram and
Prometheus do), so p50/p99 over hours of events cost a fixed few KB.

Buckets grow by 5% from 1 ms to about 3 hours: a quantile is read to within 5%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

_LOW = 1e-3  # seconds: everything faster is counted in the first bucket
_GROWTH = 1.05
_BUCKETS = int(math.log(1e4 / _LOW) / math.log(_GROWTH)) + 1  # up to ~10,000 s
_EDGES = _LOW * _GROWTH ** np.arange(_BUCKETS)


@dataclass(slots=True)
class LagHistogram:
    """Counts of lags (seconds) per bucket; ``add`` takes one lag or an array of them."""

    counts: np.ndarray = field(default_factory=lambda: np.zeros(_BUCKETS + 1, np.int64))
    total: int = 0
    largest: float = 0.0

    def add(self, lags: float | np.ndarray, weight: int = 1) -> None:
        values = np.atleast_1d(np.asarray(lags, dtype=np.float64))
        if values.size == 0 or weight < 1:
            return
        index = np.searchsorted(_EDGES, values, side="left")
        np.add.at(self.counts, index, weight)
        self.total += int(values.size) * weight
        self.largest = max(self.largest, float(values.max()))

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0..1), as its bucket's upper edge; None before any lag."""
        if self.total == 0:
            return None
        rank = q * self.total
        index = int(np.searchsorted(np.cumsum(self.counts), rank, side="left"))
        if index >= _BUCKETS:
            return self.largest
        return min(float(_EDGES[index]), self.largest)

    def summary(self) -> dict[str, float | int | None]:
        """``{"count", "p50", "p99", "max"}`` in seconds, for the status line and file."""
        return {
            "count": self.total,
            "p50": _round(self.quantile(0.5)),
            "p99": _round(self.quantile(0.99)),
            "max": _round(self.largest) if self.total else None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
