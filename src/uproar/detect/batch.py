"""The batch path: detect over a stored archive (a numeric series: ``uproar.detect.series``).

``detect_store`` aggregates the store per brand and minute in SQL, then walks the minutes
through the same ``Detector`` the streaming path uses, looking up the exact post at which
each alert would have been raised, so both paths give the same incidents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from uproar import plausible
from uproar.config import Brand
from uproar.detect.describe import chatter_flags, describe_all
from uproar.detect.detector import Bin, BinCounts, Coverage
from uproar.detect.rumours import Rumour, find_rumours, part_of_incidents
from uproar.detect.scales import (
    HOUR,
    HOURLY_SIGNAL,
    hourly_bins,
    merge_scales,
    not_coverage,
    touches,
)
from uproar.detect.signal import FRESH_GAP, complaint_pattern
from uproar.detect.stream import SIGNALS, Counts, Monitor
from uproar.records import Incident
from uproar.store import Store
from uproar.store import detect as sql
from uproar.store.store import utc

MINUTE = timedelta(minutes=1)
# The detector walks every minute of a run of posts; a gap longer than MAX_GAP (a whole day
# without one post: collection stopped) is not walked. The detector walks GAP_TAIL past the
# run, so what was open resolves as it would (an incident ends after 15 quiet minutes and
# is done 60 later), then starts afresh at the next run. So one post dated years away costs
# one short run, not a walk over the years between (issue 11: 100-150 s, or 31 GiB).
MAX_GAP = timedelta(days=1)
GAP_TAIL = timedelta(hours=3)
# The hourly scale's tail past a run: it ends an incident after 3 quiet hours, and a flare
# within 6 more re-opens it.
HOURLY_TAIL = timedelta(hours=12)


# An incident needs this many distinct authors (its minimum evidence, beside the
# detector's ``min_posts``): fewer is one person's thread, not an event.
MIN_AUTHORS = 3


@dataclass(frozen=True, slots=True)
class DetectResult:
    """What a detection run found. ``clock`` is where the detector stopped (exclusive);
    ``coverage`` lists where brands' mentions began or had gaps (never incidents)."""

    incidents: tuple[Incident, ...]
    rumours: tuple[Rumour, ...]
    clock: datetime | None
    minutes: int
    posts: int
    coverage: tuple[Coverage, ...] = ()
    hours: int = 0  # hourly bins judged (0 with the minutes only)


def detect_store(
    store: Store,
    *,
    brands: Mapping[str, Brand] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    signal: str = "fresh_complaint",
    save: bool = True,
    details: bool = True,
    history: timedelta = timedelta(days=7),
    hourly: bool = True,
    **detector_options: Any,
) -> DetectResult:
    """Run the detector over the store's posts in ``[since, until)``.

    With ``since``, the detector first learns from up to ``history`` of the posts before
    it (so the window is not judged from a cold start) and reports the incidents that
    reach into the window. With ``hourly`` (the default), the same signal is also judged in
    hourly bins (``scales``), for storms and sampled streams, and one event is one incident
    across the two scales: on the simulated suite it finds the two slow crises the minute
    detector misses (hours in), at 9 false alarms in 156 brand-weeks against 8, and it
    adds about 8 % to a run at 10M posts (``bench/detect.py``).
    With ``save``, incidents replace those stored for the same brands and window, and the
    monitor's state is saved as ``"default"`` so a streaming run can carry on from it.
    """
    if signal not in SIGNALS:
        raise ValueError(f"signal must be one of {SIGNALS}, not {signal!r}")
    window_start = utc(since)
    until = utc(until)
    since = None if window_start is None else window_start - history
    if since is not None:
        first_post = sql.first_post_time(store, since=since)
        if first_post is not None:
            since = max(since, first_post.replace(second=0, microsecond=0))
    spans = sql.post_spans(
        store,
        since=since,
        until=until,
        floor=plausible.EARLIEST,
        ceiling=plausible.LATEST,
        max_gap_s=MAX_GAP.total_seconds(),
    )
    brands = dict(brands) if brands is not None else store.load_brands()
    pattern = complaint_pattern()
    gap_s = FRESH_GAP.total_seconds()
    table = sql.minute_signal(
        store,
        signal=signal,
        pattern=pattern,
        gap_s=gap_s,
        since=since,
        until=until,
        second=HOURLY_SIGNAL.get(signal) if hourly else None,
    )
    monitor = Monitor.for_brands(
        brands, signal=signal, start=since, hourly=hourly, **detector_options
    )
    # the monitor is saved for a streaming run to carry on from only after a whole-store run
    keeps_state = save and window_start is None and until is None
    det = monitor.detector
    posts = 0
    earlier: list[Incident] = []  # incidents of runs before the last
    covered: list[Coverage] = []  # and their coverage changes
    walked = 0  # minutes learned before the detector last started afresh
    walked_runs: list[tuple[int, int]] = []  # each run's first and last minute with posts
    hours_judged = 0
    if table.num_rows and spans:
        minute_col = table.column("minute").to_numpy().astype("datetime64[m]").astype(np.int64)
        brand_col = table.column("brand").to_pylist()
        sig_col = table.column("signal").to_numpy()
        men_col = table.column("mentions").to_numpy()
        epoch = datetime(1970, 1, 1, tzinfo=UTC)

        def minute_of(t: datetime) -> int:
            return int((t - epoch) // MINUTE)

        def walk(first: int, last: int) -> int:
            """Learn minutes ``first..last`` (minutes since 1970); returns the mentions."""
            bounds = np.searchsorted(minute_col, np.arange(first, last + 2))
            for k, m in enumerate(range(first, last + 1)):
                t = epoch + timedelta(minutes=m)
                floors = det.floors(t)
                lo, hi = bounds[k], bounds[k + 1]
                counts: dict[str, BinCounts] = {}
                alerts: dict[str, datetime] = {}
                for j in range(lo, hi):
                    brand = brand_col[j]
                    s = int(sig_col[j])
                    counts[brand] = BinCounts(s, int(men_col[j]))
                    floor = floors.get(brand)
                    if floor is None or s < floor:
                        continue
                    need = det.need(t, brand)
                    if s >= need:
                        when = sql.nth_signal_time(
                            store,
                            brand=brand,
                            minute=t,
                            n=need,
                            signal=signal,
                            pattern=pattern,
                            gap_s=gap_s,
                            since=since,
                        )
                        alerts[brand] = when or t
                det.learn_one(Bin(t, counts, alerts))
            return int(men_col[bounds[0] : bounds[-1]].sum())

        stop = None  # the last minute before ``until``
        if until is not None:
            stop = minute_of(until) - (1 if until.second == 0 and until.microsecond == 0 else 0)
        # Each run's minutes with mentions; runs with none are not walked.
        runs = [(minute_of(a), minute_of(b)) for a, b in spans]
        cuts = np.searchsorted(minute_col, [m for run in runs for m in (run[0], run[1] + 1)])
        runs = [run for k, run in enumerate(runs) if cuts[2 * k] < cuts[2 * k + 1]]
        for n, (first, last) in enumerate(runs):
            lo, hi = np.searchsorted(minute_col, [first, last + 1])
            if n == 0 and since is None:
                first = int(minute_col[lo])  # from the first mention, as before
            walked_runs.append((first, last))
            if n + 1 < len(runs):
                posts += walk(first, last + int(GAP_TAIL // MINUTE))
                earlier += det.incidents()
                covered += det.coverage
                walked += int(det.seen.max()) if len(det.seen) else 0
                det.reset()
            else:
                last = int(minute_col[hi - 1])  # to the last mention, or on to ``until``
                if stop is not None:
                    last = max(last, min(stop, last + int(MAX_GAP // MINUTE)))
                posts += walk(first, last)
        monitor.minute = det.clock
        monitor.floors = det.floors(det.clock) if det.clock is not None else {}
        if det.clock is not None and keeps_state:
            # hand the streaming path the last hour's authors, so freshness carries on
            recent = det.clock - FRESH_GAP if since is None else max(since, det.clock - FRESH_GAP)
            for brand, author, complaint, at in sql.recent_authors(
                store, since=recent, until=det.clock, pattern=pattern
            ):
                monitor.fresh.remember(brand, author, at, complaint)
    clock = det.clock
    incidents = earlier + det.incidents()
    if monitor.hourly is not None and walked_runs and clock is not None:
        # hours, run by run as the minutes are walked: a stray post years away is a short
        # run of its own, not years of empty hours (issue 11)
        hour_det = monitor.hourly
        epoch0 = datetime(1970, 1, 1, tzinfo=UTC)
        signal2 = table.column("signal2").to_numpy()
        brand_arr = table.column("brand")
        found: list[Incident] = []
        for n, (first, last) in enumerate(walked_runs):
            lo, hi = np.searchsorted(minute_col, [first, last + 1])
            final = n + 1 == len(walked_runs)
            start_at = epoch0 + timedelta(minutes=first)
            bins = hourly_bins(
                minute_col[lo:hi],
                brand_arr.slice(lo, hi - lo),
                signal2[lo:hi],
                men_col[lo:hi],
                first=start_at,
                last=clock if final else epoch0 + timedelta(minutes=last) + HOURLY_TAIL,
            )
            hour_det.learn_many(bins)
            hours_judged += len(bins)
            if not final:
                found += hour_det.incidents()
                hour_det.reset()
        if keeps_state:  # the hour under way at the clock, for the streaming run to go on
            monitor.hour = start_at.replace(minute=0) + len(bins) * HOUR
            for j in np.flatnonzero(minute_col >= minute_of(monitor.hour)):
                c = monitor.hour_counts.setdefault(brand_col[j], Counts())
                c.signal += int(signal2[j])
                c.mentions += int(men_col[j])
        hours = not_coverage(found + hour_det.incidents(), covered + det.coverage)
        # whether a minute incident is chatter matters only where an hourly one touches it
        near = [i for i in incidents if details and any(touches(i, h) for h in hours)]
        flags = chatter_flags(store, near, until=clock)
        talk = {i.id for i, t in zip(near, flags, strict=True) if t}
        incidents = merge_scales(incidents, hours, chatter=talk)
    if window_start is not None:
        incidents = [i for i in incidents if i.end is None or i.end > window_start]
    rumours: list[Rumour] = []
    end = clock or until
    if details and end is not None:
        rumours = find_rumours(store, since=since, until=until)
        if window_start is not None:
            rumours = [r for r in rumours if r.last_seen >= window_start]
        # an incident needs its minimum evidence, and a surge of talk, not complaints (a
        # viral ad, news), pages no one
        incidents = [
            d.incident
            for d in describe_all(store, incidents, until=end, brands=brands, rumours=rumours)
            if d.incident.authors >= MIN_AUTHORS and not d.chatter
        ]
        # replies to the brand's updates during an incident are that incident (kept in its
        # ``rumours``), not a crisis of their own
        rumours, _folded = part_of_incidents(rumours, incidents, until=end)
    coverage = [
        c for c in covered + list(det.coverage) if window_start is None or c.since >= window_start
    ]
    if save:
        sql.save_incidents(
            store,
            incidents,
            replace_brands=sorted(set(brands) | {i.brand for i in incidents}),
            since=window_start,
            until=until,
        )
        sql.save_coverage(
            store,
            ((c.brand, c.kind, c.since, c.until) for c in coverage),
            replace_brands=sorted(set(brands) | {c.brand for c in coverage}),
            since=window_start,
            until=until,
        )
        if table.num_rows and keeps_state:
            monitor.save(store)
    return DetectResult(
        incidents=tuple(incidents),
        rumours=tuple(rumours),
        clock=clock,
        minutes=walked + (det.seen.max().item() if len(det.seen) else 0),
        posts=posts,
        coverage=tuple(coverage),
        hours=hours_judged,
    )


BREAKDOWNS = tuple(sql.BREAKDOWN_KEYS)


def breakdown(
    store: Store,
    *,
    brand: str,
    by: str = "region",
    step: timedelta = timedelta(minutes=15),
    since: datetime | None = None,
    until: datetime | None = None,
    signal: str = "fresh_complaint",
) -> pa.Table:
    """The detector's signal for one brand split by region or topic, per ``step``: columns
    time, key, mentions, complaints, authors, signal (where an outage is, and what about),
    and coverage: "start" or "gap" where the brand's collection began or came back in that
    bucket (as the last saved detection found), so a jump from nothing is not read as a
    surge."""
    if signal not in SIGNALS:
        raise ValueError(f"signal must be one of {SIGNALS}, not {signal!r}")
    seconds = step.total_seconds()
    if seconds < 60 or seconds % 60:
        raise ValueError(f"step must be a whole number of minutes, got {step}")
    table = sql.signal_breakdown(
        store,
        brand=brand,
        by=by,
        signal=signal,
        pattern=complaint_pattern(),
        gap_s=FRESH_GAP.total_seconds(),
        step_s=int(seconds),
        since=utc(since),
        until=utc(until),
    )
    # each bucket where the brand's collection began or a gap ended (never a surge)
    changes = stored_coverage(store, brand=brand, since=since, until=until)
    times = table.column("time").to_pylist()
    marks = []
    for t in times:
        at = utc(t)
        assert at is not None
        marks.append(
            ", ".join(c.kind for c in changes if at <= (c.until or c.since) < at + step) or None
        )
    return table.append_column("coverage", pa.array(marks, pa.string()))


def stored_coverage(
    store: Store,
    *,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Coverage]:
    """The coverage changes the last saved detection found (``detect_store(save=True)``,
    ``uproar detect``), touching ``[since, until)``: where a brand's collection began or
    came back after a gap."""
    return [
        Coverage(r["brand"], r["kind"], r["since"], r["until"])
        for r in sql.load_coverage(store, brand=brand, since=utc(since), until=utc(until))
    ]
