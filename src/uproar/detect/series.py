"""``detect --series``: incidents in one numeric series read from a ``timestamp,value`` CSV.

Any numeric series is accepted: counts (a brand's mentions per interval) and real-valued
metrics (negative values, fractions, heavy tails: temperatures, CPU, latencies, queue
lengths, ad spend). ``MetricDetector`` chooses its model from the data (see
``uproar.detect.metric``). Rows are taken in file order, as they would arrive; intervals
may be irregular. Nothing is dropped: a row whose time does not advance is kept and
counted in ``notes``, a row without a finite value is kept as a gap (scored 0, learnt
from nothing) and counted too.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from uproar.detect.batch import DetectResult
from uproar.detect.detector import as_utc
from uproar.detect.metric import Family, MetricDetector, MultiScaleDetector, alerts, scores
from uproar.errors import InputError
from uproar.records import Incident

# Severity from the likelihood's tail probability at detection, relative to the alert
# level ``tail``: (name, the largest tail as a fraction of ``tail``). First match wins.
SEVERITY_TAILS: tuple[tuple[str, float], ...] = (("high", 0.01), ("medium", 0.1), ("low", 1.0))
SETTLED = 0.5  # an incident ends at the first row whose score falls below this (ordinary)
ONSET = 0.99  # the rows just before an alert that score this much are its onset


@dataclass(frozen=True, slots=True)
class Series:
    """A series as read: times and values in file order, the typical interval, and what
    was odd about the file (kept, not dropped)."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    step: timedelta
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeriesAnalysis:
    """What the model made of a series: the family it chose, each row's score, the rows
    that alerted and, where known, each row's score on its own (the one-row scale: a day's
    mean stays high for a day after a spike, the row itself settles)."""

    family: Family | None
    scores: tuple[float, ...]
    alerts: tuple[int, ...]
    row_scores: tuple[float, ...] = ()


def read_series(path: str | Path) -> Series:
    """A ``timestamp,value`` CSV; zone-less times are UTC. Errors name the file and line."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read series: {exc.strerror}", file=str(path)) from exc
    times: list[datetime] = []
    values: list[float] = []
    backwards = gaps = 0
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InputError("empty series file; expected a timestamp,value header", file=str(path))
        names = [h.strip().lower() for h in header]
        if "timestamp" not in names or "value" not in names:
            raise InputError(
                f"header must name timestamp and value columns, got {header}",
                file=str(path),
                line=1,
            )
        ti, vi = names.index("timestamp"), names.index("value")
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= max(ti, vi):
                raise InputError(
                    f"expected {len(names)} columns, got {len(row)}", file=str(path), line=line_no
                )
            try:
                t = as_utc(datetime.fromisoformat(row[ti].strip().replace("Z", "+00:00")))
            except ValueError as exc:
                raise InputError(
                    f"bad timestamp {row[ti]!r}", file=str(path), line=line_no, field="timestamp"
                ) from exc
            text = row[vi].strip()
            try:
                v = float(text) if text else math.nan
            except ValueError as exc:
                raise InputError(
                    f"bad value {row[vi]!r} (hint: a number, or empty for a gap)",
                    file=str(path),
                    line=line_no,
                    field="value",
                ) from exc
            gaps += not math.isfinite(v)
            backwards += bool(times) and t <= times[-1]
            times.append(t)
            values.append(v)
    if len(times) < 2:
        raise InputError("a series needs at least two rows", file=str(path))
    steps = sorted(b - a for a, b in pairwise(times) if b > a)
    if not steps:
        raise InputError("the timestamps never advance", file=str(path), field="timestamp")
    notes = []
    if backwards:
        notes.append(f"{backwards} row(s) whose time does not advance, kept in file order")
    if gaps:
        notes.append(f"{gaps} row(s) without a finite value, kept as gaps")
    return Series(tuple(times), tuple(values), steps[len(steps) // 2], tuple(notes))


def analyse(values: list[float] | tuple[float, ...], **options: Any) -> SeriesAnalysis:
    """Score a series row by row with a fresh ``MultiScaleDetector(**options)``."""
    model = MultiScaleDetector(**options)
    flagged, scores = alerts(model, values)
    return SeriesAnalysis(model.family_, tuple(scores), tuple(flagged))


def row_scores(values: list[float] | tuple[float, ...], **options: Any) -> tuple[float, ...]:
    """Each row's score on the one-row scale alone (where an incident settles)."""
    params = {k: v for k, v in options.items() if k != "scales"}
    return tuple(scores(MetricDetector(**params), values))


def incidents(
    series: Series,
    analysis: SeriesAnalysis,
    *,
    brand: str = "series",
    tail: float,
    short: int,
) -> list[Incident]:
    """One incident per alert. It starts at the first of the ``short`` rows up to the
    alert (those the alert averaged) whose score is already ``ONSET`` or more, is detected
    at the alerting row, and ends at the first row whose score falls below ``SETTLED``
    (open if none does), judged on ``row_scores`` where known. An alert inside an
    incident's span is part of that incident."""
    out = []
    scores = analysis.scores
    settle = analysis.row_scores or scores
    n = len(scores)
    counts = analysis.family == "count"
    j = 0
    for a in analysis.alerts:
        if a < j:
            continue
        first = a
        while first > max(0, a - short + 1) and scores[first - 1] >= ONSET:
            first -= 1
        j = a + 1
        while j < n and settle[j] >= SETTLED:
            j += 1
        span = range(first, j)
        peak = max(span, key=lambda k: scores[k])
        miss = 1.0 - scores[a]
        severity = next(name for name, frac in SEVERITY_TAILS if miss <= frac * tail)
        total = sum(v for v in series.values[first:j] if math.isfinite(v)) if counts else 0.0
        start = series.times[first]
        out.append(
            Incident(
                id=f"{brand}-{start:%Y%m%dT%H%M%S}",
                brand=brand,
                start=start,
                detected_at=series.times[a],
                peak=series.times[peak],
                end=series.times[j] if j < n else None,
                severity=severity,
                scope="brand",
                posts=round(total),
                authors=0,
            )
        )
    return out


def detect_series(
    path: str | Path, *, brand: str = "series", **detector_options: Any
) -> DetectResult:
    """Incidents in the series at ``path`` (see the module doc); ``detector_options`` go
    to ``MultiScaleDetector`` (``scales`` and ``MetricDetector``'s parameters). ``posts``
    counts the series' total for a count series, else 0."""
    series = read_series(path)
    model_options = dict(detector_options)
    analysis = analyse(series.values, **model_options)
    if analysis.alerts:
        analysis = replace(analysis, row_scores=row_scores(series.values, **model_options))
    defaults = MetricDetector()
    tail = float(model_options.get("tail", defaults.tail))
    short = int(model_options.get("short", defaults.short))
    found = incidents(series, analysis, brand=brand, tail=tail, short=short)
    finite = [v for v in series.values if math.isfinite(v)]
    return DetectResult(
        incidents=tuple(found),
        rumours=(),
        clock=series.times[-1] + series.step,
        minutes=len(series.times),
        posts=round(sum(finite)) if analysis.family == "count" else 0,
    )
