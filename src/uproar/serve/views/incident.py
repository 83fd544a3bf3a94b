"""The Incident page's view: the report's chapter for one incident (timeline with phases,
volume against the usual range, topics and sentiment over time, regions, terms, rumours,
representative posts, unique authors, the brand's own posts with the linter's verdicts)
plus its head card (scope, verdict, peers). Everything comes from ``report.build_report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from uproar.report.charts import Band, bar_chart, sentiment_chart, spec, topics_chart, volume_chart
from uproar.report.incident import Lesson, Milestone, OwnPost, build_report
from uproar.respond.lint import Linter
from uproar.serve.views.now import IncidentCard, incident_card
from uproar.store import Store
from uproar.store.pages import latest_post_time, posts_by_id


@dataclass(frozen=True, slots=True)
class SamplePost:
    platform: str
    id: str
    created_at: datetime | None
    author: str
    text: str
    urls: tuple[str, ...]
    region: str | None


@dataclass(frozen=True, slots=True)
class IncidentView:
    card: IncidentCard
    summary: str
    since: datetime
    until: datetime
    timeline: tuple[Milestone, ...]
    phases: tuple[Mapping[str, Any], ...]
    measures: Mapping[str, float | None]
    lessons: tuple[Lesson, ...]
    updates: tuple[OwnPost, ...]
    replies: tuple[OwnPost, ...]
    regions: tuple[tuple[str, int], ...]
    terms: tuple[str, ...]
    samples: tuple[SamplePost, ...]
    charts: Mapping[str, Mapping[str, Any]]  # name -> Vega-Lite spec


def incident_view(
    store: Store,
    incident_id: str,
    *,
    tz: tzinfo = UTC,
    linter: Linter | None = None,
    now: datetime | None = None,
) -> IncidentView:
    """The Incident page for ``incident_id``; an unknown id raises ``UnknownNameError``
    naming the stored ones."""
    store.require_incident(incident_id)
    report = build_report(store, incident=incident_id, tz=tz, linter=linter, themes=False)
    chapter = report.chapters[0]
    inc = chapter.incident
    brands = store.load_brands()
    now = now or latest_post_time(store) or inc.peak
    card = incident_card(store, inc, brands, now=now, tz=tz)
    label = f"{report.bucket_minutes} min"
    charts: dict[str, Mapping[str, Any]] = {
        "volume": spec(
            volume_chart(
                report.series,
                tz=tz,
                bands=[Band(b.brand, b.start, b.end) for b in report.bands if b.brand == inc.brand],
                baselines=report.baselines,
                bucket_label=label,
            )
        )
    }
    if chapter.sentiment:
        charts["sentiment"] = spec(sentiment_chart(chapter.sentiment, tz=tz, bucket_label="30 min"))
    if chapter.topics:
        charts["topics"] = spec(topics_chart(chapter.topics, tz=tz, bucket_label="30 min"))
    if chapter.regions:
        charts["regions"] = spec(
            bar_chart(dict(chapter.regions), title="Where the mentions come from")
        )
    samples = tuple(
        SamplePost(
            platform=str(r["platform"]),
            id=str(r["id"]),
            created_at=r["created_at"],
            author=str(r["author_handle"] or r["author_id"]),
            text=str(r["text"]),
            urls=tuple(r["urls"] or ()),
            region=r["region"],
        )
        for r in posts_by_id(store, inc.sample_post_ids)
    )
    return IncidentView(
        card=card,
        summary=chapter.summary,
        since=report.since,
        until=report.until,
        timeline=tuple(chapter.timeline),
        phases=tuple(inc.phases),
        measures=dict(chapter.measures),
        lessons=tuple(chapter.lessons),
        updates=tuple(chapter.updates),
        replies=tuple(chapter.replies),
        regions=tuple(chapter.regions),
        terms=inc.terms,
        samples=samples,
        charts=charts,
    )
