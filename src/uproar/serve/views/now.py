"""The Now page's view: every brand's mentions and complaints against its usual range,
the open (and lately closed) incidents with their scope and the peers that surged, the
rumours and bait links, and the "us or everyone" verdict.

"Now" is a time passed in (the newest stored post by default, so an archive reads as if
live); the window is the ``hours`` before it. The usual range is the report's: the 10th to
90th percentile of the same time of day on up to seven earlier days.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import duckdb

from uproar.config import Brand
from uproar.detect.signal import complaint_pattern
from uproar.errors import InputError
from uproar.records import Incident
from uproar.report.charts import Band, spec, volume_chart
from uproar.report.incident import HISTORY_DAYS, bucket_counts, bucket_minutes, usual_range
from uproar.store import Store
from uproar.store.detect import load_incidents
from uproar.store.pages import complaint_volume, latest_post_time
from uproar.store.watch import load_status

WINDOW_HOURS = 6.0
RECENT = timedelta(hours=1)  # what a brand's headline figures count
CLOSED_SHOWN = timedelta(hours=24)  # closed incidents stay on Now this long after they end


@dataclass(frozen=True, slots=True)
class PeerActivity:
    """A peer over an incident's span: whether it surged with the incident, with its signal
    against what was expected there. ``source`` says whose figures they are: the detector's,
    stored with the incident (``incidents.peers``: a quiet peer then has no figures), or, for
    an industry incident stored before the detector kept them, the peer's complaints against
    their usual range, counted again here."""

    brand: str
    name: str
    signal: float | None  # the peer's count over the span
    expected: float | None  # what was expected there
    surged: bool
    source: str  # detector | complaints


@dataclass(frozen=True, slots=True)
class RumourCard:
    """A bait link, a copied text or a reaction spreading in a brand's mentions. A domain is
    shown as text, never as a link."""

    brand: str
    incident: str | None
    kind: str  # domain | text | reaction
    label: str
    posts: int
    authors: int
    first_seen: datetime | None
    bait_link: bool


@dataclass(frozen=True, slots=True)
class IncidentCard:
    id: str
    brand: str
    brand_name: str
    severity: str
    scope: str
    verdict: str  # "us" | "everyone"
    verdict_text: str
    start: datetime
    detected_at: datetime
    peak: datetime
    end: datetime | None
    posts: int
    authors: int
    regions: tuple[str, ...]
    topics: tuple[str, ...]
    terms: tuple[str, ...]
    peers: tuple[PeerActivity, ...]
    rumours: tuple[RumourCard, ...]
    open: bool  # at the view's "now": not yet resolved then


@dataclass(frozen=True, slots=True)
class BrandNow:
    """One brand's last hour against its usual range, and its series over the window."""

    id: str
    name: str
    mentions: int
    complaints: int
    usual: float | None
    high: float | None
    state: str  # "above usual" | "usual" | "no history"
    open_incidents: int
    series: tuple[tuple[datetime, int, int], ...]  # (bucket, mentions, complaints)


@dataclass(frozen=True, slots=True)
class NowView:
    now: datetime
    since: datetime
    bucket_minutes: int
    brands: tuple[BrandNow, ...]
    incidents: tuple[IncidentCard, ...]
    rumours: tuple[RumourCard, ...]
    chart: Mapping[str, Any]

    @property
    def open_incidents(self) -> tuple[IncidentCard, ...]:
        return tuple(i for i in self.incidents if i.open)


def now_view(
    store: Store,
    now: datetime | None = None,
    *,
    hours: float = WINDOW_HOURS,
    tz: tzinfo = UTC,
) -> NowView:
    """What the Now page shows at ``now`` (default: the newest stored post)."""
    if hours <= 0 or hours > 24 * 7:
        raise InputError(f"hours must be in (0, 168], got {hours}", field="hours")
    now = now or latest_post_time(store)
    if now is None:
        raise InputError("the store holds no posts yet; run `uproar ingest` or `uproar watch`")
    brands = store.load_brands()
    until = now + timedelta(seconds=1)
    since = now - timedelta(hours=hours)
    bucket = bucket_minutes(until - since)
    ids = sorted(brands) or _brands_seen(store, since, until)
    history = bucket_counts(store, ids, since, until, bucket)
    bands_by_brand = usual_range(history, since, until, bucket)
    counts = _counts(store, bucket, since, until)
    incidents = [
        i for i in load_incidents(store, since=now - CLOSED_SHOWN, until=until)
        if i.end is None or i.end >= now - CLOSED_SHOWN
    ]  # fmt: skip
    cards = tuple(
        incident_card(store, i, brands, now=now, tz=tz)
        for i in sorted(incidents, key=lambda i: (i.end is not None and i.end <= now, i.start))
    )
    rows = []
    for b in ids:
        series = tuple(sorted(counts.get(b, {}).values()))
        recent = [s for s in series if s[0] >= now - RECENT]
        band = [x for x in bands_by_brand.get(b, []) if x.at >= now - RECENT]
        mentions = sum(s[1] for s in recent)
        usual = sum(x.median for x in band) if band else None
        high = sum(x.high for x in band) if band else None
        state = "no history" if high is None else ("above usual" if mentions > high else "usual")
        rows.append(
            BrandNow(
                id=b,
                name=brands[b].name if b in brands else b,
                mentions=mentions,
                complaints=sum(s[2] for s in recent),
                usual=usual,
                high=high,
                state=state,
                open_incidents=sum(c.open for c in cards if c.brand == b),
                series=series,
            )
        )
    chart = volume_chart(
        {b: [(t, float(n)) for t, n, _ in row.series] for b, row in zip(ids, rows, strict=True)},
        tz=tz,
        bands=[Band(c.brand, max(c.start, since), min(c.end or until, until)) for c in cards],
        baselines={b: v for b, v in bands_by_brand.items() if b in ids},
        bucket_label=f"{bucket} min",
    )
    rumours = tuple(r for c in cards for r in c.rumours)
    return NowView(
        now=now,
        since=since,
        bucket_minutes=bucket,
        brands=tuple(rows),
        incidents=cards,
        rumours=rumours,
        chart=spec(chart),
    )


def _brands_seen(store: Store, since: datetime, until: datetime) -> list[str]:
    table = store.volume(bucket_minutes=60, since=since, until=until)
    return sorted(set(table.column("brand").to_pylist()))


def _counts(
    store: Store, bucket: int, since: datetime, until: datetime
) -> dict[str, dict[datetime, tuple[datetime, int, int]]]:
    table = complaint_volume(
        store, bucket_minutes=bucket, since=since, until=until, pattern=complaint_pattern()
    )
    out: dict[str, dict[datetime, tuple[datetime, int, int]]] = {}
    for row in table.to_pylist():
        at = row["bucket"].replace(tzinfo=UTC)
        out.setdefault(row["brand"], {})[at] = (at, int(row["posts"]), int(row["complaints"]))
    return out


def incident_card(
    store: Store,
    incident: Incident,
    brands: Mapping[str, Brand],
    *,
    now: datetime,
    tz: tzinfo = UTC,
) -> IncidentCard:
    """An incident as Now and the Incident page head it: scope, verdict, peers, rumours."""
    brand = brands.get(incident.brand)
    name = brand.name if brand else incident.brand
    peers = peer_activity(store, incident, brands, now=now)
    surged = [p for p in peers if p.surged]
    verdict = "everyone" if incident.scope == "industry" else "us"
    verdict_text = _verdict_text(name, verdict, peers, surged)
    return IncidentCard(
        id=incident.id,
        brand=incident.brand,
        brand_name=name,
        severity=incident.severity,
        scope=incident.scope,
        verdict=verdict,
        verdict_text=verdict_text,
        start=incident.start,
        detected_at=incident.detected_at,
        peak=incident.peak,
        end=incident.end,
        posts=incident.posts,
        authors=incident.authors,
        regions=incident.regions,
        topics=incident.topics,
        terms=incident.terms,
        peers=peers,
        rumours=tuple(rumour_card(r, incident.id) for r in incident.rumours),
        open=incident.end is None or incident.end > now,
    )


def _verdict_text(
    name: str, verdict: str, peers: Sequence[PeerActivity], surged: Sequence[PeerActivity]
) -> str:
    if verdict == "everyone":
        who = ", ".join(p.name for p in surged) or "its peers"
        return f"It's everyone: {who} surged too, so the cause may lie beyond {name}."
    if not peers:
        return f"It's {name}: no peers are configured to compare with."
    quiet = ", ".join(p.name for p in peers if not p.surged)
    return f"It's us: only {name} surged" + (f"; {quiet} stayed quiet." if quiet else ".")


def peer_activity(
    store: Store, incident: Incident, brands: Mapping[str, Brand], *, now: datetime
) -> tuple[PeerActivity, ...]:
    """The brand's peers over the incident, and which surged with it: from the detector's own
    comparison stored with the incident (``incident.peers``, and its scope: a brand incident
    is one no peer surged with), so the verdict is the detector's and nothing is counted
    again. Only an industry incident stored without its peers (by an Uproar before they were
    kept) has its peers' complaints counted against their usual range instead."""
    brand = brands.get(incident.brand)
    configured = tuple(brand.peers) if brand else ()
    stored = {str(p.get("brand", "")): p for p in incident.peers if p.get("brand")}
    if not stored and incident.scope == "industry":
        return _peer_complaints(store, incident, configured, brands, now=now)
    out = []
    for peer in (*configured, *sorted(set(stored) - set(configured))):
        said = stored.get(peer)
        out.append(
            PeerActivity(
                brand=peer,
                name=brands[peer].name if peer in brands else peer,
                signal=_number(said.get("signal")) if said else None,
                expected=_number(said.get("expected")) if said else None,
                surged=said is not None,
                source="detector",
            )
        )
    return tuple(out)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _peer_complaints(
    store: Store,
    incident: Incident,
    peers: Sequence[str],
    brands: Mapping[str, Brand],
    *,
    now: datetime,
) -> tuple[PeerActivity, ...]:
    """Each peer's complaints over the incident's span against the same span on earlier
    days (complaints, as the detector's signal counts them: chatter that names two brands
    raises both brands' mentions, not the peer's complaints); a peer surged when its count
    is over the summed 90th percentile."""
    if not peers:
        return ()
    start = incident.start
    end = min(incident.end or now, now) + timedelta(seconds=1)
    if end <= start:
        end = start + timedelta(minutes=1)
    bucket = bucket_minutes(end - start)
    table = complaint_volume(
        store,
        bucket_minutes=bucket,
        since=start - timedelta(days=HISTORY_DAYS),
        until=end,
        pattern=complaint_pattern(),
        brands=peers,
    )
    history: dict[str, dict[datetime, float]] = {p: {} for p in peers}
    for row in table.to_pylist():
        if row["brand"] in history:
            history[row["brand"]][row["bucket"].replace(tzinfo=UTC)] = float(row["complaints"])
    bands = usual_range(history, start, end, bucket)
    out = []
    for peer in peers:
        posts = int(sum(n for at, n in history[peer].items() if start <= at < end))
        band = bands.get(peer, [])
        high = sum(x.high for x in band)
        out.append(
            PeerActivity(
                brand=peer,
                name=brands[peer].name if peer in brands else peer,
                signal=float(posts),
                expected=sum(x.median for x in band),
                surged=bool(band) and posts > high and posts >= 3,
                source="complaints",
            )
        )
    return tuple(out)


# -- the watch beside the store -----------------------------------------------------------
# A watch writes its status every ``[limits] status_every`` seconds (10 by default); one
# whose last status is older than this has stopped (or hangs), and Now says so.
WATCH_STALE = timedelta(seconds=90)


@dataclass(frozen=True, slots=True)
class WatchLag:
    """What the ``uproar watch`` on this store last reported: how far behind the live
    streams it is (seconds from an event's arrival to stored, and to detected)."""

    at: datetime
    running: bool  # it reported within WATCH_STALE of now
    running_s: float | None
    stored: int
    pending: int
    stored_p50: float | None
    stored_p99: float | None
    detected_p50: float | None
    detected_p99: float | None
    error: str | None


def watch_lag(store: Store, *, now: datetime) -> WatchLag | None:
    """The watch's last status, from ``DB.watch.json`` beside the store (or, without it,
    the ``watch_status`` table); None when no watch ever ran on this store. ``now`` is the
    wall clock (the status's time is)."""
    status: dict[str, Any] | None = None
    if store.path != ":memory:":
        with suppress(OSError, ValueError):
            loaded = json.loads(Path(f"{store.path}.watch.json").read_text(encoding="utf-8"))
            status = loaded if isinstance(loaded, dict) else None
    if status is None:
        # No has_table here: listing the catalogue costs more than the page's other reads.
        with suppress(duckdb.CatalogException):  # an older store opened read-only
            status = load_status(store)
    if status is None:
        return None
    at = _time(status.get("at"))
    if at is None:
        return None
    stored_lag = status.get("lag_stored_s") or {}
    detected_lag = status.get("lag_detected_s") or {}
    error = status.get("error")
    return WatchLag(
        at=at,
        running=timedelta(0) <= now - at <= WATCH_STALE,
        running_s=_number(status.get("running_s")),
        stored=int(_number(status.get("stored")) or 0),
        pending=int(_number(status.get("pending")) or 0),
        stored_p50=_number(stored_lag.get("p50")),
        stored_p99=_number(stored_lag.get("p99")),
        detected_p50=_number(detected_lag.get("p50")),
        detected_p99=_number(detected_lag.get("p99")),
        error=None if error is None else str(error),
    )


def rumour_card(rumour: Mapping[str, Any], incident: str | None) -> RumourCard:
    kind = str(rumour.get("kind") or "text")
    label = rumour.get("domain") or rumour.get("text") or rumour.get("reacts_to") or ""
    first = rumour.get("first_seen")
    return RumourCard(
        brand=str(rumour.get("brand") or ""),
        incident=incident,
        kind=kind,
        label=str(label),
        posts=int(rumour.get("posts") or 0),
        authors=int(rumour.get("authors") or 0),
        first_seen=_time(first),
        bait_link=kind == "domain",
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
