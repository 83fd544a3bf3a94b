"""The streaming path: posts in, alerts out, one post at a time; state survives a restart.

``Monitor`` counts each brand's signal in the current minute as posts arrive and raises
an alert at the post that reaches the detector's ``need`` count; when a post of a later
minute arrives, the finished minutes go to ``Detector.learn_one``. Beside the minutes it
counts each hour (``scales``: storms, slow crises, sampled streams) and gives each hour to
the hourly detector when it is over; one event is one incident across the two. Fed the
same posts in time order it finds exactly what the batch path (``detect_store``) finds.
Posts older than the minute being counted (late arrivals) are counted in ``late`` and not
scored.

``save``/``load`` keep the pickled monitor in the store's ``detector_state`` table.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from uproar.config import Brand
from uproar.detect.detector import Bin, BinCounts, Detector, Event, as_utc
from uproar.detect.scales import HOUR, HOURLY_SIGNAL, hourly_detector, merge_scales, not_coverage
from uproar.detect.signal import FreshAuthors, is_complaint
from uproar.errors import StoreError
from uproar.records import Incident, Post
from uproar.store import Store
from uproar.store import detect as sql

# The signals a monitor can count: the same names (and meaning) as the batch path's SQL.
SIGNALS: tuple[str, ...] = tuple(sql.SIGNAL_SQL)

# The post columns ``Monitor.process`` reads from an Arrow table (``Store.posts_arrow``).
MONITOR_COLUMNS = ("id", "created_at", "author_id", "brands", "own_brand", "text", "reposted_id")


@dataclass(frozen=True, slots=True)
class Alert:
    """Raised at the post that made a brand's signal significant."""

    brand: str
    at: datetime
    post_id: str
    needed: int


@dataclass(slots=True)
class Counts:
    """A brand's signal and mentions so far in a minute or an hour."""

    signal: int = 0
    mentions: int = 0


@dataclass(slots=True)
class Monitor:
    """A detector fed post by post. ``signal`` picks what is counted: fresh authors'
    original mentions (``"fresh"``), their complaints (``"fresh_complaint"``), or both
    added (``"weighted"``: a fresh complaint weighs 2). ``hourly`` is the hourly scale's
    detector (None: minutes only); it counts ``HOURLY_SIGNAL[signal]`` in ``hour_counts``
    for the hour that begins at ``hour``."""

    detector: Detector
    signal: str = "fresh_complaint"
    start: datetime | None = None
    fresh: FreshAuthors = field(default_factory=FreshAuthors)
    minute: datetime | None = None
    floors: dict[str, int] = field(default_factory=dict)
    counts: dict[str, Counts] = field(default_factory=dict)
    alerts: dict[str, datetime] = field(default_factory=dict)
    late: int = 0
    events: list[Event] = field(default_factory=list)
    hourly: Detector | None = None
    hour: datetime | None = None
    hour_counts: dict[str, Counts] = field(default_factory=dict)
    _last_prune: datetime | None = None

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise ValueError(f"signal must be one of {SIGNALS}, not {self.signal!r}")
        if self.start is not None:
            self.start = _floor(self.start)

    @classmethod
    def for_brands(
        cls,
        brands: Mapping[str, Brand],
        *,
        signal: str = "fresh_complaint",
        start: datetime | None = None,
        hourly: bool = True,
        **detector_options: Any,
    ) -> Monitor:
        peers = {b.id: b.peers for b in brands.values()}
        detector = Detector(brands=list(brands), peers=peers, **detector_options)
        hours = hourly_detector(list(brands), peers) if hourly else None
        return cls(detector=detector, signal=signal, start=start, hourly=hours)

    # -- feeding -------------------------------------------------------------------------
    def process_one(
        self,
        *,
        id: str,
        created_at: datetime,
        author_id: str,
        brands: Iterable[str],
        own_brand: str | None = None,
        text: str = "",
        complaint: bool | None = None,
        repost: bool = False,
    ) -> list[Alert]:
        """One post. ``complaint`` is the classifier's label when known, else the fast
        signal judges ``text``. A repost counts as a mention but never as signal."""
        at = as_utc(created_at)
        mentioned = [b for b in brands if b != own_brand]
        if not mentioned:
            return []
        minute = _floor(at)
        if self.minute is None:
            self.minute = self.start if self.start is not None else minute
            self.floors = self.detector.floors(self.minute)
            self.hour = _hour(self.minute)
        if minute < self.minute:
            self.late += 1
            return []
        self.advance(minute)
        is_c = complaint if complaint is not None else is_complaint(text)
        out = []
        for brand in mentioned:
            c = self.counts.setdefault(brand, Counts())
            c.mentions += 1
            h = self.hour_counts.setdefault(brand, Counts()) if self.hourly is not None else None
            if h is not None:
                h.mentions += 1
            if repost:
                continue
            fresh, fresh_c = self.fresh.see(brand, author_id, at, is_c)
            weight = _weight(self.signal, fresh, fresh_c)
            if h is not None:
                h.signal += _weight(HOURLY_SIGNAL[self.signal], fresh, fresh_c)
            if weight:
                before = c.signal
                c.signal += weight
                floor = self.floors.get(brand)
                if floor is not None and c.signal >= floor and brand not in self.alerts:
                    need = self.detector.need(self.minute, brand)
                    if before < need <= c.signal:
                        self.alerts[brand] = at
                        out.append(Alert(brand=brand, at=at, post_id=id, needed=need))
        return out

    def process(self, posts: pa.Table | Iterable[Post]) -> list[Alert]:
        """Many posts in time order (an Arrow table with the post columns, or Posts).
        An Arrow table may carry a ``complaint`` column (the classifier's labels)."""
        alerts: list[Alert] = []
        if isinstance(posts, pa.Table):
            cols = posts.to_pydict()
            complaints = cols.get("complaint")
            own = cols.get("own_brand")
            texts = cols.get("text")
            reposts = cols.get("reposted_id")
            for i in range(posts.num_rows):
                alerts += self.process_one(
                    id=cols["id"][i],
                    created_at=cols["created_at"][i],
                    author_id=cols["author_id"][i],
                    brands=cols["brands"][i] or (),
                    own_brand=own[i] if own else None,
                    text=texts[i] if texts else "",
                    complaint=complaints[i] if complaints else None,
                    repost=bool(reposts[i]) if reposts else False,
                )
            return alerts
        for p in posts:
            alerts += self.process_one(
                id=p.id,
                created_at=p.created_at,
                author_id=p.author_id,
                brands=p.brands,
                own_brand=p.own_brand,
                text=p.text,
                repost=p.reposted_id is not None,
            )
        return alerts

    def advance(self, until: datetime) -> list[Event]:
        """Close every minute before ``until`` (a minute with no posts is a zero)."""
        if self.minute is None:
            return []
        target = _floor(until)
        new: list[Event] = []
        while self.minute < target:
            counts = {b: BinCounts(c.signal, c.mentions) for b, c in self.counts.items()}
            new += self.detector.learn_one(Bin(self.minute, counts, dict(self.alerts)))
            self.minute += self.detector.step
            self.counts, self.alerts = {}, {}
            self.floors = self.detector.floors(self.minute)
            self._close_hour()
            if self._last_prune is None or self.minute - self._last_prune >= timedelta(hours=1):
                self.fresh.forget_before(self.minute - self.fresh.gap)
                self._last_prune = self.minute
        self.events += new
        return new

    def _close_hour(self) -> None:
        """Give the hourly detector the hour just over (its alert time is the hour's end,
        when an hourly count is known), as the batch path's ``hourly_bins`` does."""
        if self.hourly is None or self.minute is None:
            return
        if self.hour is None:  # a batch run that stored no posts handed over no hour
            self.hour = _hour(self.minute)
        if self.minute >= self.hour + HOUR:
            counts = {b: BinCounts(c.signal, c.mentions) for b, c in self.hour_counts.items()}
            end = self.hour + HOUR
            self.hourly.learn_one(Bin(self.hour, counts, {b: end for b in counts}))
            self.hour, self.hour_counts = end, {}

    def incidents(self) -> list[Incident]:
        """What the detector found: with the hourly scale, one incident per event across
        the minutes and the hours (``scales.merge_scales``)."""
        minutes = self.detector.incidents()
        if self.hourly is None:
            return minutes
        return merge_scales(minutes, not_coverage(self.hourly.incidents(), self.detector.coverage))

    # -- persistence ---------------------------------------------------------------------
    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    def save(self, store: Store, name: str = "default") -> None:
        """Keep the monitor's whole state in the store (``detector_state``)."""
        sql.save_state(store, name, self.dumps(), clock=self.minute)

    @staticmethod
    def load(store: Store, name: str = "default") -> Monitor | None:
        """The monitor saved under ``name``, or ``None``. The state is a pickle that Uproar
        itself wrote into this store; open only stores you trust."""
        blob = sql.load_state(store, name)
        if blob is None:
            return None
        monitor = pickle.loads(blob)
        if not isinstance(monitor, Monitor):
            raise StoreError(f"{store.path}: detector_state {name!r} is not a saved monitor")
        if not hasattr(monitor.detector, "coverage") or not hasattr(monitor, "hourly"):
            raise StoreError(
                f"{store.path}: detector_state {name!r} was saved by an earlier version of "
                "Uproar; run `uproar detect` over the store once to rebuild it"
            )
        return monitor


def _weight(signal: str, fresh: bool, fresh_complaint: bool) -> int:
    """A post's weight in ``signal`` (the batch path's ``SIGNAL_SQL``)."""
    if signal == "fresh":
        return int(fresh)
    if signal == "fresh_complaint":
        return int(fresh_complaint)
    return int(fresh) + int(fresh_complaint)


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _floor(t: datetime) -> datetime:
    t = as_utc(t)
    return t.replace(second=0, microsecond=0)
