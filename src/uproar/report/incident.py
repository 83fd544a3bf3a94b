"""What a post-incident report says, gathered from a store: the incidents in scope and, for
the largest, a chapter with its timeline, response figures, the brand's own posts as the
linter sees them, the inbox, and lessons drawn from those figures.

``build_report`` only reads; ``uproar report`` and ``uproar demo`` render what it returns.
"""

from __future__ import annotations

import itertools
import statistics
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from importlib import resources
from typing import Any

import msgspec
import numpy as np
import pyarrow.compute as pc

from uproar.config import Brand
from uproar.detect.batch import detect_store
from uproar.errors import ConfigError, InputError
from uproar.records import Finding, Incident
from uproar.report.charts import Band, Baseline
from uproar.respond.inbox import Inbox, build_inbox
from uproar.respond.lint import Linter
from uproar.respond.thread import Facts
from uproar.store import Store
from uproar.store.detect import load_incidents
from uproar.store.report import (
    own_posts,
    region_counts,
    sentiment_over_time,
    topics_over_time,
)
from uproar.store.store import utc
from uproar.times import duration, local_time
from uproar.understand import TopicCluster, discover_topics

CHAPTERS = 3  # incidents that get a chapter of their own; the rest are listed
PEERS_SHOWN = 4
HISTORY_DAYS = 7  # how far back the usual range looks
THEME_SAMPLE = 3000  # posts a theme search reads, evenly spaced through the incident
THEME_COHERENCE = 0.1  # themes whose label words barely co-occur (NPMI) are not shown


@dataclass(frozen=True, slots=True)
class Milestone:
    at: datetime
    what: str


@dataclass(frozen=True, slots=True)
class OwnPost:
    """One post the brand sent, whether it broadcast an update or replied to someone, and
    what the linter says of it."""

    at: datetime
    text: str
    kind: str  # "update" | "reply"
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")


@dataclass(frozen=True, slots=True)
class Lesson:
    measure: str
    went_well: bool
    text: str


@dataclass(slots=True)
class Chapter:
    """One incident in depth."""

    incident: Incident
    brand_name: str
    since: datetime
    until: datetime
    peers: tuple[str, ...]
    timeline: list[Milestone]
    measures: dict[str, float | None]
    updates: list[OwnPost]
    replies: list[OwnPost]
    regions: list[tuple[str, int]]
    sentiment: list[tuple[datetime, str, int]]
    topics: list[tuple[datetime, str, int]]
    themes: list[TopicCluster]
    inbox: Inbox | None
    lessons: list[Lesson] = field(default_factory=list)
    summary: str = ""


@dataclass(slots=True)
class Report:
    """Everything a report shows, in UTC; ``tz`` is how its times are written."""

    title: str
    since: datetime
    until: datetime
    tz: tzinfo
    bucket_minutes: int
    brands: dict[str, Brand]
    shown_brands: list[str]
    incidents: list[Incident]
    chapters: list[Chapter]
    series: dict[str, list[tuple[datetime, float]]]
    baselines: dict[str, list[Baseline]]
    bands: list[Band]
    posts: int
    quarantine: dict[str, int]


# -- lessons are data ---------------------------------------------------------------------
class LessonRule(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    measure: str
    target: float
    better: str  # "lower" | "higher"
    went_well: str
    to_change: str
    missing: str = ""
    unit: str = "minutes"


class _LessonsFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    lessons: list[LessonRule]


def load_lesson_rules() -> list[LessonRule]:
    """The shipped lesson rules (``report/lessons.toml``)."""
    raw = resources.files("uproar.report").joinpath("lessons.toml").read_text("utf-8")
    try:
        return msgspec.convert(tomllib.loads(raw), _LessonsFile).lessons
    except msgspec.ValidationError as exc:
        raise ConfigError(f"report/lessons.toml: {exc}", file="lessons.toml") from None


def lessons(measures: Mapping[str, float | None], rules: Sequence[LessonRule]) -> list[Lesson]:
    """What went well and what to change, one line per rule whose measure is known (or
    whose absence is itself the lesson)."""
    out = []
    for rule in rules:
        if rule.measure not in measures:
            continue
        value = measures[rule.measure]
        if value is None:
            if rule.missing:
                out.append(Lesson(rule.measure, False, rule.missing))
            continue
        good = value <= rule.target if rule.better == "lower" else value >= rule.target
        words = {"value": _amount(value, rule.unit), "target": _amount(rule.target, rule.unit)}
        template = rule.went_well if good else rule.to_change
        out.append(Lesson(rule.measure, good, template.format(**words)))
    return out


def _amount(value: float, unit: str) -> str:
    if unit == "minutes":
        return duration(value * 60)
    if unit == "share":
        return f"{value:.0%}"
    return f"{value:,.0f}"


# -- building ------------------------------------------------------------------------------
def build_report(
    store: Store,
    *,
    brand: str | None = None,
    incident: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo = UTC,
    linter: Linter | None = None,
    title: str | None = None,
    themes: bool = True,
    facts: Facts | None = None,
) -> Report:
    """Gather a report over the stored posts: all brands and the whole stored span unless
    ``brand``, ``incident`` or ``since``/``until`` narrow it. Incidents come from the
    store's ``incidents`` table, or from a detection run (not saved) when none is stored.
    ``facts`` (the incident's facts file) lets the inbox draft replies with them."""
    figures = store.stats()
    if not figures["posts"]:
        raise InputError("the store holds no posts; run `uproar ingest` first")
    brands = store.load_brands()
    if brand is not None:
        store.require_brand(brand)  # lists the known ones, with a did-you-mean
    since, until = utc(since), utc(until)
    if since is not None and until is not None and since >= until:
        raise InputError("--since must be before --until", field="since")
    first, last = figures["first"], figures["last"] + timedelta(seconds=1)
    incidents = _incidents(store, brands, brand=brand, since=since, until=until)
    if incident is not None:
        chosen = [i for i in incidents if i.id == incident]
        if not chosen:
            everything = _incidents(store, brands, brand=brand, since=None, until=None)
            chosen = [i for i in everything if i.id == incident]
        if not chosen:
            ids = ", ".join(i.id for i in incidents[:10]) or "none"
            raise InputError(f"unknown incident {incident!r}; known: {ids}", field="incident")
        incidents = chosen
        pad = _padding(chosen[0], last)
        since = since or max(first, chosen[0].start - pad)
        until = until or min(last, (chosen[0].end or last) + pad)
    since = since or first
    until = until or last
    if brand is not None:
        incidents = [i for i in incidents if i.brand == brand]
    incidents = [i for i in incidents if i.start < until and (i.end or last) > since]
    bucket = bucket_minutes(until - since)
    linter = linter or Linter()
    ranked = sorted(incidents, key=lambda i: (-i.posts, i.start))[:CHAPTERS]
    chapters = [
        _chapter(store, inc, brands, since, until, linter=linter, themes=themes, tz=tz, facts=facts)
        for inc in sorted(ranked, key=lambda i: i.start)
    ]
    shown = _shown_brands(brand, chapters, brands, figures["brands"])
    counts = bucket_counts(store, shown, since, until, bucket)
    return Report(
        title=title or _title(brand, brands, chapters),
        since=since,
        until=until,
        tz=tz,
        bucket_minutes=bucket,
        brands=brands,
        shown_brands=shown,
        incidents=sorted(incidents, key=lambda i: (i.start, i.brand)),
        chapters=chapters,
        series={b: sorted((at, n) for at, n in counts[b].items() if at >= since) for b in shown},
        baselines=usual_range(counts, since, until, bucket),
        bands=[Band(i.brand, i.start, i.end or until) for i in incidents],
        posts=figures["posts"],
        quarantine=dict(figures["quarantine"]),
    )


def bucket_minutes(span: timedelta) -> int:
    """A bucket that gives a readable number of points over ``span`` and divides a day."""
    hours = span.total_seconds() / 3600
    for limit, minutes in ((6, 5), (18, 15), (48, 30), (240, 60), (1200, 360)):
        if hours <= limit:
            return minutes
    return 1440


def _padding(incident: Incident, last: datetime) -> timedelta:
    """How much of the time around an incident its report shows: half its length, between
    two and twelve hours."""
    length = (incident.end or last) - incident.start
    return min(timedelta(hours=12), max(timedelta(hours=2), length / 2))


def _incidents(
    store: Store,
    brands: Mapping[str, Brand],
    *,
    brand: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Incident]:
    stored = load_incidents(store, brand=brand, since=since, until=until)
    if stored:
        return stored
    found = detect_store(store, brands=brands, since=since, until=until, save=False)
    return [i for i in found.incidents if brand is None or i.brand == brand]


def _shown_brands(
    brand: str | None,
    chapters: Sequence[Chapter],
    brands: Mapping[str, Brand],
    volumes: Mapping[str, int],
) -> list[str]:
    """The report's subject first, then its peers; with no subject, the busiest brands."""
    subject = brand or (chapters[0].incident.brand if len(chapters) == 1 else None)
    if subject is not None:
        peers = brands[subject].peers if subject in brands else ()
        return [subject, *[p for p in peers if p in volumes][:PEERS_SHOWN]]
    return sorted(volumes, key=lambda b: (-volumes[b], b))[: PEERS_SHOWN + 2]


def _title(brand: str | None, brands: Mapping[str, Brand], chapters: Sequence[Chapter]) -> str:
    if len(chapters) == 1:
        return f"{chapters[0].brand_name}: incident {chapters[0].incident.id}"
    if brand is not None:
        return brands[brand].name if brand in brands else brand
    return "All brands"


def bucket_counts(
    store: Store, shown: Sequence[str], since: datetime, until: datetime, bucket: int
) -> dict[str, dict[datetime, float]]:
    """Customer mentions per bucket of each shown brand, from ``HISTORY_DAYS`` before
    ``since`` (what the usual range learns from) to ``until``: one query for both."""
    counts: dict[str, dict[datetime, float]] = {b: {} for b in shown}
    start = since - timedelta(days=HISTORY_DAYS)
    for row in store.volume(bucket_minutes=bucket, since=start, until=until).to_pylist():
        if row["brand"] in counts:
            counts[row["brand"]][utc(row["bucket"]) or since] = float(row["posts"])
    return counts


def usual_range(
    counts: Mapping[str, Mapping[datetime, float]], since: datetime, until: datetime, bucket: int
) -> dict[str, list[Baseline]]:
    """Each bucket's usual range: the 10th to 90th percentile of the same time of day on
    up to ``HISTORY_DAYS`` earlier days that have posts (none where fewer than two do)."""
    if bucket >= 1440:
        return {}
    out: dict[str, list[Baseline]] = {}
    step = timedelta(minutes=bucket)
    for b, seen in counts.items():
        days = {at.date() for at in seen}
        points = []
        at = since - timedelta(minutes=(since.hour * 60 + since.minute) % bucket)
        at = at.replace(second=0, microsecond=0)
        while at < until:
            earlier = [
                seen.get(at - timedelta(days=d), 0.0)
                for d in range(1, HISTORY_DAYS + 1)
                if (at - timedelta(days=d)).date() in days
            ]
            if len(earlier) >= 2:
                low, mid, high = np.percentile(earlier, [10, 50, 90]).tolist()
                points.append(Baseline(at, low, mid, high))
            at += step
        if points:
            out[b] = points
    return out


def _chapter(
    store: Store,
    incident: Incident,
    brands: Mapping[str, Brand],
    since: datetime,
    until: datetime,
    *,
    linter: Linter,
    themes: bool,
    tz: tzinfo,
    facts: Facts | None,
) -> Chapter:
    end = incident.end or until
    brand = brands.get(incident.brand)
    name = brand.name if brand else incident.brand
    own = [
        OwnPost(
            at=utc(r["created_at"]) or incident.start,
            text=r["text"],
            kind="reply" if r["reply_to_id"] is not None else "update",
            # A broadcast post is one piece of a thread: the whole-update facts check
            # applies to the thread, not to each piece.
            findings=tuple(linter.lint(r["text"], kind="reply")),
        )
        for r in own_posts(
            store, incident.brand, since=incident.start, until=end, limit=5000
        ).to_pylist()
    ]
    updates = [p for p in own if p.kind == "update"]
    replies = [p for p in own if p.kind == "reply"]
    inbox = build_inbox(
        store,
        brand=incident.brand,
        since=incident.start,
        until=end,
        limit=5,
        linter=linter,
        facts=facts,
    )
    measures = _measures(incident, updates, replies, inbox, end)
    chapter = Chapter(
        incident=incident,
        brand_name=name,
        since=since,
        until=until,
        peers=brand.peers if brand else (),
        timeline=_timeline(incident, updates),
        measures=measures,
        updates=updates,
        replies=replies,
        regions=region_counts(store, incident.brand, incident.start, end),
        sentiment=_rows(sentiment_over_time(store, incident.brand, since, until), "sentiment"),
        topics=_rows(topics_over_time(store, incident.brand, since, until), "topic"),
        themes=_themes(store, incident, brand, end) if themes else [],
        inbox=inbox,
    )
    chapter.lessons = lessons(measures, load_lesson_rules())
    chapter.summary = summary(chapter, tz)
    return chapter


def _rows(table: Any, key: str) -> list[tuple[datetime, str, int]]:
    return [
        (utc(r["bucket"]) or datetime.min.replace(tzinfo=UTC), str(r[key]), int(r["posts"]))
        for r in table.to_pylist()
    ]


def _timeline(incident: Incident, updates: Sequence[OwnPost]) -> list[Milestone]:
    marks = [
        Milestone(incident.start, "Complaints begin (onset)"),
        Milestone(incident.detected_at, f"Uproar raises the incident ({incident.severity})"),
        Milestone(incident.peak, "Peak of complaints"),
    ]
    marks += [
        Milestone(p.at, "The brand's first update" if n == 1 else f"Update {n}")
        for n, p in enumerate(updates, 1)
    ]
    if incident.end is not None:
        marks.append(Milestone(incident.end, "Complaints back to normal (resolved)"))
    return sorted(marks, key=lambda m: m.at)


def _measures(
    incident: Incident,
    updates: Sequence[OwnPost],
    replies: Sequence[OwnPost],
    inbox: Inbox | None,
    end: datetime,
) -> dict[str, float | None]:
    def minutes(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds() / 60

    first = min((p.at for p in [*updates, *replies]), default=None)
    times = [p.at for p in updates]
    gaps = [minutes(a, b) for a, b in itertools.pairwise(times)]
    if times and incident.end is not None:
        gaps.append(minutes(times[-1], incident.end))
    response = inbox.response if inbox is not None else None
    return {
        "detect_delay_min": minutes(incident.start, incident.detected_at),
        "first_response_min": minutes(incident.start, first) if first else None,
        "updates": float(len(updates)),
        "median_update_gap_min": statistics.median(gaps) if gaps else None,
        "longest_update_gap_min": max(gaps) if gaps else None,
        "posts_with_lint_errors": float(sum(bool(p.errors) for p in [*updates, *replies])),
        "answered_share": (
            response.answered / response.mentions if response and response.mentions else None
        ),
        "median_first_reply_min": (
            response.median_first_reply_s / 60
            if response and response.median_first_reply_s is not None
            else None
        ),
        "rumours_unaddressed": float(_unaddressed(incident, updates)) if incident.rumours else None,
    }


def _unaddressed(incident: Incident, updates: Sequence[OwnPost]) -> int:
    """Rumours no update names (by its domain, or by words like scam or fake link)."""
    warned = any(w in p.text.lower() for p in updates for w in ("scam", "fake", "phishing"))
    return sum(
        not warned and not any(str(r.get("domain") or "~") in p.text for p in updates)
        for r in incident.rumours
    )


def _themes(
    store: Store, incident: Incident, brand: Brand | None, end: datetime
) -> list[TopicCluster]:
    table = store.posts_arrow(
        columns=("text", "own_brand"), brand=incident.brand, since=incident.start, until=end
    ).filter(pc.is_null(pc.field("own_brand")))
    texts = table.column("text").to_pylist()
    names = _brand_words(brand) if brand else {incident.brand}
    return discover_topics(texts[:: max(1, len(texts) // THEME_SAMPLE)], exclude=names)


def shown_themes(themes: Sequence[TopicCluster]) -> list[TopicCluster]:
    """The themes worth showing: named, illustrated, and coherent (NPMI at least
    ``THEME_COHERENCE``; a one-word name has no pair to measure and is shown)."""
    return [
        t
        for t in themes
        if t.label and t.examples and (t.coherence >= THEME_COHERENCE or " " not in t.label)
    ]


def _brand_words(brand: Brand) -> set[str]:
    """The words that name a brand (its id, name, handles, keywords and hashtags)."""
    words = {brand.id, *brand.name.split()}
    for term in (*brand.handles, *brand.keywords, *brand.hashtags):
        words.update(term.lstrip("@#").split())
    return {w.lower() for w in words}


# -- words ---------------------------------------------------------------------------------
def summary(chapter: Chapter, tz: tzinfo) -> str:
    """The executive summary in plain words, from the figures only."""
    inc, m = chapter.incident, chapter.measures
    what = ", ".join(t.replace("_", " ") for t in inc.topics[:3]) or "problems"
    parts = [
        f"{chapter.brand_name}'s customers began reporting {what} at "
        f"{local_time(inc.start, tz)}; Uproar raised the incident "
        f"{duration(max(0.0, m['detect_delay_min'] or 0.0) * 60)} later."
    ]
    if inc.end is not None:
        parts.append(
            "Complaints were back to normal after "
            f"{duration((inc.end - inc.start).total_seconds())}, with {inc.posts:,} posts "
            f"from {inc.authors:,} people."
        )
    else:
        parts.append(f"It is still open: {inc.posts:,} posts from {inc.authors:,} people so far.")
    if inc.scope == "industry":
        parts.append("Peers surged at the same time, so the cause may lie beyond the brand.")
    else:
        parts.append("Only this brand surged: its peers were quiet.")
    first = m.get("first_response_min")
    updates = int(m.get("updates") or 0)
    if first is None:
        parts.append("The brand posted nothing publicly while it lasted.")
    else:
        parts.append(
            f"The brand's first post came {duration(first * 60)} after onset, "
            f"followed by {updates} update{'s' if updates != 1 else ''} in all."
        )
    if inc.rumours:
        parts.append(f"{len(inc.rumours)} rumour or bait link spread during it.")
    return " ".join(parts)
