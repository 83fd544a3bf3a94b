"""Detection at the scale of hours and days, beside the minute detector.

A storm, a slow crisis or a sampled stream (1-10 % of the posts, as research archives and
cheap API tiers give) shows no minute that stands out: the whole signal is a rise of 2-4x
sustained over hours. The same ``Detector`` run on hourly bins, with windows of 1, 3, 6
and 24 hours, sees it; its baseline is cold for its first ``settled`` hours, so two days
of history (what a new user has) are enough to judge the third.

``merge_scales`` makes one incident of one event: an hourly incident and the minute
incidents inside it become one, whose phases are the minute incidents (each with its own
times) and whose scope and peers are theirs; an hourly incident that no minute incident
touches is reported on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from uproar.detect.baseline import SeasonalBaseline
from uproar.detect.detector import Bin, BinCounts, Coverage, Detector
from uproar.records import Incident

HOUR = timedelta(hours=1)

# The hourly detector's parameters, in hourly bins. ``settled`` 48: two days of history
# before the daily rhythm is trusted (``warmup`` 24 learns the first day whatever it holds).
# ``min_ratio`` 1.5: a sustained 2x is the storm's whole signal, and a day's window sums
# enough posts for the tail test to carry the decision. ``quiet`` 3 hours back near the
# baseline ends it; a flare within ``cooldown`` 6 hours re-opens it.
HOURLY: Mapping[str, Any] = {
    "step": HOUR,
    # 60 times fewer bins than the minute detector tests, so 60 times its level per test
    # keeps the chance alarms per brand-week the same (3e-6 x 60 ~ 2e-4; 1e-4 to be safe)
    "level": 1e-4,
    "windows": (1, 3, 6, 24),
    "lookback": 24,
    "warmup": 24,
    "settled": 48,
    "min_ratio": 1.5,
    "min_excess": 10.0,
    "quiet_window": 3,
    "quiet": 3,
    "cooldown": 6,
    "cusum_span": 3,
    "coverage_gap": 6,
    # An hour learns (baseline and dispersion) only if no window looks even a little
    # raised: a storm's first hours are each only mildly high, and learning them as normal
    # raised the expected count 2.3x within eight hours on a 5 % sampled stream.
    "suspicious": 0.05,
}


# The signal the hourly detector counts, per minute signal: over hours every fresh voice
# counts (a complaint twice), so a sampled stream's few posts an hour add up to evidence.
# On the airline tweets (Feb 2015) fresh complaints alone left US Airways' ice-storm day and
# JetBlue's reaction below significance; all fresh mentions with complaints weighted found
# both (``uproar eval airline``).
HOURLY_SIGNAL: Mapping[str, str] = {
    "fresh_complaint": "weighted",
    "weighted": "weighted",
    "fresh": "fresh",
}


def hourly_detector(brands: Sequence[str], peers: Mapping[str, Sequence[str]]) -> Detector:
    # The recent-volume level follows a day, not two hours: at two hourly bins it would
    # follow the storm itself up. The global prior is a tenth of an hour's worth: the
    # minute detector's ten bins of 0.5 are ten minutes there, but ten *hours* here, which
    # held the first hours' estimate at half their counts; those hours (midnight UTC where
    # a collection starts then) kept the error for days and opened false storms on them.
    baseline = SeasonalBaseline(step=HOUR, level_half_life=timedelta(days=1), global_prior=0.1)
    return Detector(brands=brands, peers=peers, baseline=baseline, **HOURLY)


def hourly_bins(
    minute: npt.NDArray[np.int64],
    brand: pa.Array | pa.ChunkedArray,
    signal: npt.NDArray[np.int64],
    mentions: npt.NDArray[np.int64],
    *,
    first: datetime,
    last: datetime,
) -> list[Bin]:
    """Hourly bins from per-minute columns (minutes since the epoch, brand, signal,
    mentions), from the hour of ``first`` to the last whole hour before ``last``. Each
    bin's alert time is the end of its hour: an hourly count is known only when the hour
    is over."""
    table = pa.table(
        {
            "hour": pa.array(np.asarray(minute, dtype=np.int64) // 60),
            "brand": brand,
            "signal": pa.array(np.asarray(signal, dtype=np.int64)),
            "mentions": pa.array(np.asarray(mentions, dtype=np.int64)),
        }
    )
    sums = table.group_by(["hour", "brand"]).aggregate([("signal", "sum"), ("mentions", "sum")])
    cells: dict[int, dict[str, BinCounts]] = {}
    for h, b, s_k, m_k in zip(
        sums.column("hour").to_pylist(),
        sums.column("brand").to_pylist(),
        sums.column("signal_sum").to_pylist(),
        sums.column("mentions_sum").to_pylist(),
        strict=True,
    ):
        cells.setdefault(h, {})[b] = BinCounts(int(s_k), int(m_k))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    out = []
    h = int((first - epoch) // HOUR)
    while epoch + (h + 1) * HOUR <= last:
        t = epoch + h * HOUR
        counts = cells.get(h, {})
        out.append(Bin(t, counts, {b: t + HOUR for b in counts}))
        h += 1
    return out


def _end(i: Incident) -> datetime:
    return i.end or datetime.max.replace(tzinfo=i.start.tzinfo)


def touches(a: Incident, b: Incident) -> bool:
    """Whether two incidents are of the same brand and their spans meet."""
    return a.brand == b.brand and a.start <= _end(b) and _end(a) >= b.start


def phases_of(i: Incident) -> list[dict[str, Any]]:
    """An incident's phases, or its whole span as one when it had one."""
    if i.phases:
        return list(i.phases)
    return [{"start": i.start, "detected_at": i.detected_at, "end": i.end, "posts": i.posts}]


def merge_scales(
    minute: Sequence[Incident], hourly: Sequence[Incident], *, chatter: Collection[str] = ()
) -> list[Incident]:
    """One incident per event across the two scales (see the module notes). ``chatter``
    names minute incidents that are surges of talk, not complaints (a viral ad): an hourly
    incident that touches only those is that talk, seen in hours, and one that touches them
    and a real incident starts where the real one does (an hourly incident stays open for
    hours, and took a morning's viral ad and that afternoon's outage for one event)."""
    merged: list[Incident] = []
    used: set[str] = set()
    for h in hourly:
        touching = [m for m in minute if touches(m, h)]
        talk = any(m.id in chatter for m in touching)
        touching = [m for m in touching if m.id not in chatter]
        if talk and not touching:
            continue
        inside = [m for m in touching if m.id not in used]
        if touching and not inside:
            continue  # its minute incidents are already part of an earlier event
        if not inside:
            merged.append(h)
            continue
        used.update(m.id for m in inside)
        first = min(inside, key=lambda m: m.detected_at)
        phases = sorted(
            (p for m in inside for p in phases_of(m)), key=lambda p: (p["start"], p["detected_at"])
        )
        ends = [m.end for m in inside]
        starts = [m.start for m in inside]
        hour_first = not talk and h.detected_at < first.detected_at
        minute_posts = sum(m.posts for m in inside)
        biggest = max(inside, key=lambda m: m.posts)
        merged.append(
            replace(
                first,
                # the scale that saw the event first dates its onset: an hourly onset is
                # backdated by whole hours, and read the modem outage of 19:30 (the minutes
                # paged at 20:03, the hours at 21:00) as beginning at 15:00
                start=min(h.start, *starts) if hour_first else min(starts),
                # paged when either scale first saw it: a slow build's hour can come first
                detected_at=h.detected_at if hour_first else first.detected_at,
                peak=biggest.peak,
                end=None if any(e is None for e in ends) else max(e for e in ends if e),
                # us or everyone is the minute incidents' call: they compare the peers over
                # the event's own minutes, while an hourly incident stays open for hours
                # after it and took a peer's separate outage that night for "everyone"
                scope="industry" if any(m.scope == "industry" for m in inside) else "brand",
                posts=minute_posts if talk else max(h.posts, minute_posts),
                peers=_union_peers(inside),
                phases=tuple(phases) if len(phases) > 1 else (),
            )
        )
    merged += [m for m in minute if m.id not in used]
    return sorted(merged, key=lambda r: (r.start, r.brand, r.id))


def _union_peers(incidents: Sequence[Incident]) -> tuple[dict[str, Any], ...]:
    best: dict[str, dict[str, Any]] = {}
    for inc in incidents:
        for p in inc.peers:
            if p["brand"] not in best or p["excess"] > best[p["brand"]]["excess"]:
                best[p["brand"]] = p
    return tuple(best[b] for b in sorted(best))


def not_coverage(incidents: list[Incident], coverage: list[Coverage]) -> list[Incident]:
    """The hourly incidents that are not a collection beginning: coverage is decided once,
    by the minute detector, and an hourly incident holding a brand's (re)start within its
    first day is that start, seen in coarser bins."""
    starts: dict[str, list[datetime]] = {}
    for c in coverage:
        if c.kind == "start":
            starts.setdefault(c.brand, []).append(c.since)
    firsts = {b: min(ts) for b, ts in starts.items()}
    return [
        i
        for i in incidents
        if not any(
            t > firsts[i.brand] and i.start <= t <= i.start + timedelta(days=1)
            for t in starts.get(i.brand, ())
        )
    ]
