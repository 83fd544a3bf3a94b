"""Lag histograms: bounded memory, quantiles within one bucket (5%) of the exact ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from uproar.watch.lag import LagHistogram


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0.002, max_value=5000.0), min_size=1, max_size=400),
    st.sampled_from([0.5, 0.9, 0.99]),
)
def test_quantiles_are_within_a_bucket_of_the_exact_ones(lags: list[float], q: float) -> None:
    histogram = LagHistogram()
    histogram.add(np.array(lags))
    exact = float(np.quantile(np.array(lags), q, method="inverted_cdf"))
    got = histogram.quantile(q)
    assert got is not None
    assert exact / 1.0501 <= got <= exact * 1.0501


def test_weights_counts_and_memory() -> None:
    histogram = LagHistogram()
    assert histogram.quantile(0.5) is None
    assert histogram.summary() == {"count": 0, "p50": None, "p99": None, "max": None}
    histogram.add(0.01, weight=99)
    histogram.add(3.0)
    size = histogram.counts.nbytes
    for _ in range(100):
        histogram.add(np.full(10_000, 0.2))
    assert histogram.counts.nbytes == size  # a million lags later, the same few KB
    summary = histogram.summary()
    assert summary["count"] == 1_000_100
    assert summary["max"] == 3.0
    assert 0.19 <= (summary["p50"] or 0) <= 0.21
    histogram.add(0.0)  # faster than the first bucket still counts
    assert histogram.total == 1_000_101


def test_ingest_times_never_repeat_nor_go_back() -> None:
    """Detection reads what was ingested after its watermark: two groups must never share
    an ingest time, even when the clock stands still or steps back."""
    from datetime import UTC, datetime, timedelta

    from uproar.watch.writer import IngestClock

    start = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    readings = iter([start, start, start - timedelta(seconds=5), start + timedelta(seconds=1)])
    clock = IngestClock(after=start - timedelta(seconds=1), clock=lambda: next(readings))
    times = [clock() for _ in range(4)]
    assert times == sorted(times) and len(set(times)) == 4
    assert times[1] == start + timedelta(microseconds=1)
    assert times[3] == start + timedelta(seconds=1)
    assert IngestClock(after=start + timedelta(hours=1), clock=lambda: start)() > start


def test_only_brand_mentions_are_labelled() -> None:
    import pyarrow as pa

    from uproar.watch.enrich import MentionsOnly, mentions

    posts = pa.table(
        {
            "id": ["a", "b", "c", "d"],
            "brands": [["kiwinet"], [], None, []],
            "own_brand": [None, None, None, "kiwinet"],
        }
    )
    assert mentions(posts).column("id").to_pylist() == ["a", "d"]

    class Seen:
        def __init__(self) -> None:
            self.labelled: list[str] = []

        def label(self, rows: pa.Table) -> pa.Table:
            self.labelled += rows.column("id").to_pylist()
            return rows

        def save(self, store: object, rows: pa.Table, *, fresh: bool = False) -> None:
            pass

        def __call__(self, store: object, rows: pa.Table) -> None:
            pass

    inner = Seen()
    MentionsOnly(inner).label(posts)  # type: ignore[arg-type]
    assert inner.labelled == ["a", "d"]
