"""Continuous detection: the streaming detector over the posts stored since its last pass.

A pass reads the posts ingested after the saved watermark (``ingested_at`` only grows: one
writer, a clock that never repeats a value), feeds them to the ``Monitor`` in time order,
describes the incidents that changed, and saves the incidents, the monitor's state and the
new watermark in one transaction. So a process killed at any moment resumes from the last
pass that committed, and every stored post is counted by the detector exactly once.

After a pass commits, the incidents that are open or changed go to the alerts hook
(``AlertSink``: ``uproar.alerts.Alerter``, which keeps what it announced in the store).
The first pass of a process hands it every incident the detector holds (the last ones
before a kill may have been stored but not yet seen by it); it announces each change once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from uproar.config import Brand
from uproar.detect.batch import MIN_AUTHORS
from uproar.detect.describe import describe_all
from uproar.detect.stream import Monitor
from uproar.records import Incident
from uproar.store import Store
from uproar.store import detect as detect_sql
from uproar.store import watch as sql
from uproar.store.store import utc

STATE = "watch"  # the monitor's name in ``detector_state`` and the watermark's
REPLAY = 50  # incidents handed to the alerts again by a restarted watch, at most


class AlertSink(Protocol):
    """Where incident snapshots go after each detection pass (on the writer's thread)."""

    def observe(self, incidents: Sequence[Incident], now: datetime) -> object: ...

    def close(self, now: datetime, *, timeout: float = 30.0) -> None: ...


class NoAlerts:
    """No alert channels configured."""

    def observe(self, incidents: Sequence[Incident], now: datetime) -> None:
        return None

    def close(self, now: datetime, *, timeout: float = 30.0) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Pass:
    """What one detection pass did."""

    posts: int
    incidents: tuple[Incident, ...]  # open or changed, as stored
    watermark: datetime | None


class LiveDetection:
    """The detector state for ``uproar watch``: load once, then ``run`` on the writer thread."""

    def __init__(
        self,
        store: Store,
        brands: Mapping[str, Brand],
        *,
        signal: str = "fresh_complaint",
        alerts: AlertSink | None = None,
    ) -> None:
        self.store, self.brands, self.signal = store, dict(brands), signal
        self.alerts: AlertSink = alerts or NoAlerts()
        saved = Monitor.load(store, STATE)
        if saved is not None and set(saved.detector.brands) != set(self.brands):
            saved = None  # the brands changed: learn them afresh
        self.monitor = saved or Monitor.for_brands(self.brands, signal=signal)
        mark = sql.load_watermark(store, STATE)
        self.watermark: datetime | None = utc(mark) if mark is not None else None
        # raw records as last stored, by id; an incident stored as ended is done
        self._shown: dict[str, Incident] = {}
        done = sql.ended_incidents(store)
        for raw in self.monitor.incidents():
            if raw.end is not None and raw.id in done:
                self._shown[raw.id] = raw
        self.posts = 0
        self._first = True

    def run(self, now: datetime | None = None) -> Pass:
        """One pass over the posts stored since the last; none of it is kept unless all is.
        The alerts hook hears the result after it has committed (with nothing new too:
        what it holds back, for quiet hours or a retry, may have come due)."""
        now = now or datetime.now(UTC)
        store = self.store
        last = utc(sql.latest_ingest(store))
        count = 0
        changed: list[Incident] = []
        if last is not None and (self.watermark is None or last > self.watermark):
            after = self.watermark or datetime(1970, 1, 1, tzinfo=UTC)
            posts = sql.new_posts(store, after=after, through=last)
            self.monitor.process(posts)
            changed = self._changed()
            with store.transaction():
                detect_sql.upsert_incidents(store, changed)
                self.monitor.save(store, STATE)
                sql.save_watermark(store, STATE, last, now=now)
            self.watermark = last
            count = posts.num_rows
            self.posts += count
        if self._first:
            self._first = False
            changed = self._everything(changed)
        self.alerts.observe(changed, now)
        return Pass(count, tuple(changed), self.watermark)

    def _everything(self, changed: list[Incident]) -> list[Incident]:
        """``changed`` and the incidents stored before (described again), newest last."""
        have = {i.id for i in changed}
        until = self.monitor.minute
        if until is None:
            return changed
        rest = [i for i in self.monitor.incidents() if i.id not in have][-REPLAY:]
        described = describe_all(self.store, rest, until=until, brands=self.brands)
        ok = [d.incident for d in described if d.incident.authors >= MIN_AUTHORS]
        return sorted([*ok, *changed], key=lambda i: (i.start, i.brand, i.id))

    def _changed(self) -> list[Incident]:
        """The incidents whose detector record changed since last stored, described (an
        open one is described again as posts come); those under ``MIN_AUTHORS`` are not
        incidents yet."""
        until = self.monitor.minute
        if until is None:
            return []
        raws = [
            raw
            for raw in self.monitor.incidents()
            if not (self._shown.get(raw.id) == raw and raw.end is not None)
        ]
        # all of them in a fixed number of queries, not a few per incident
        described = describe_all(self.store, raws, until=until, brands=self.brands)
        self._shown.update((raw.id, raw) for raw in raws)
        return [d.incident for d in described if d.incident.authors >= MIN_AUTHORS]
