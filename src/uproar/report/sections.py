"""Report sections for each stage's results. Everything from posts is escaped here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from markupsafe import Markup, escape

from uproar.records import Finding, Incident
from uproar.report.charts import line_chart
from uproar.report.html import Section, html_table


def _when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M}" if moment else "open"


def rumour_keys(incident: Incident) -> str:
    """The bait-link domains or copied texts spreading through an incident."""
    return ", ".join(str(r.get("domain") or r.get("text") or "") for r in incident.rumours)


def after_true_onset(incident: Incident, truth: dict[str, Any] | None) -> str:
    """How long after the scenario's true onset the incident was raised ("" if unknown)."""
    onset = next(
        (t["onset"] for t in (truth or {}).get("incidents", []) if t["brand"] == incident.brand),
        None,
    )
    if onset is None:
        return ""
    minutes = (incident.detected_at - datetime.fromisoformat(onset)).total_seconds() / 60
    return f"{minutes:+.0f} min"


def incidents_section(incidents: Sequence[Incident], truth: dict[str, Any] | None) -> Section:
    """Detected incidents, with how long after the true onset each was raised."""
    rows = []
    for i in incidents:
        delay = after_true_onset(i, truth)
        rows.append(
            {
                "brand": i.brand,
                "scope": i.scope,
                "severity": i.severity,
                "start": _when(i.start),
                "detected": f"{_when(i.detected_at)} ({delay})" if delay else _when(i.detected_at),
                "end": _when(i.end),
                "posts": f"{i.posts:,}",
                "authors": f"{i.authors:,}",
                "regions": ", ".join(i.regions),
                "topics": ", ".join(i.topics),
                "new terms": ", ".join(i.terms[:6]),
                "bait link": rumour_keys(i),
            }
        )
    columns = [
        "brand",
        "scope",
        "severity",
        "start",
        "detected",
        "end",
        "posts",
        "authors",
        "regions",
        "topics",
        "new terms",
        "bait link",
    ]
    return Section(
        title="Detected incidents",
        html=html_table(rows, columns) if rows else "<p>No incident detected.</p>",
        intro="Scope 'brand': only this brand surged; 'industry': its peers did too. The "
        "detected time is the post time at which the streaming detector first raised it "
        "(in brackets: after the true onset).",
    )


def rumours_section(rumours: Sequence[Any]) -> Section:
    """Links or copied texts spreading through a brand's mentions (detect's rumours)."""
    rows = [
        {
            "brand": r.brand,
            "kind": "bait link" if r.kind == "domain" else "copied text",
            "what": r.key,
            "first seen": _when(r.first_seen),
            "flagged": _when(r.detected_at),
            "posts": f"{r.posts:,}",
            "authors": f"{r.authors:,}",
            "growth": f"{r.growth:.1f} authors/min",
        }
        for r in rumours
    ]
    columns = ["brand", "kind", "what", "first seen", "flagged", "posts", "authors", "growth"]
    return Section(
        title="Rumours and bait links",
        html=html_table(rows, columns) if rows else "<p>Nothing spreading.</p>",
        intro="One link's domain, or one near-identical text, suddenly spreading through a "
        "brand's mentions (in 2014 a bait link about leaked celebrity photos came first).",
    )


def _series(table: pa.Table, key: str) -> dict[str, list[tuple[datetime, float]]]:
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for row in table.to_pylist():
        series[str(row[key])].append((row["bucket"].replace(tzinfo=UTC), float(row["posts"])))
    return dict(series)


def understanding_section(
    incident: Incident, sentiment: pa.Table, topics: pa.Table, clusters: Sequence[Any] = ()
) -> Section:
    """Sentiment and topics over the incident's time, plus discovered topic clusters."""
    parts = [
        line_chart(_series(sentiment, "sentiment"), title="Sentiment of mentions per 30 min"),
        line_chart(_series(topics, "topic"), title="Topics of mentions per 30 min"),
    ]
    if clusters:
        rows = [
            {"cluster": c.label, "posts": c.size, "example": c.examples[0] if c.examples else ""}
            for c in clusters
        ]
        parts.append("<h3>Topics found in the posts themselves</h3>")
        parts.append(html_table(rows, ["cluster", "posts", "example"]))
    return Section(
        title=f"What people say — {incident.brand}",
        html="".join(parts),
        intro=f"From {_when(incident.start)} to {_when(incident.end)} UTC; labels by the "
        "understand stage.",
    )


def thread_section(platform: str, posts: Sequence[tuple[str, int]], limit: int) -> Section:
    quotes = "".join(
        f"<blockquote>{escape(text)}</blockquote><p class='muted'>{length}/{limit}</p>"
        for text, length in posts
    )
    return Section(
        title=f"Status thread for {platform}",
        html=quotes,
        intro="Composed from the incident facts; every post fits the platform's own length "
        "rules and passes the brand-voice linter.",
    )


def inbox_section(rows: Sequence[dict[str, Any]], response: str) -> Section:
    body = "".join(
        f"<h3>{escape(r['count'])} × {escape(r['intent'])} "
        f"<span class='muted'>({escape(r['unanswered'])} unanswered)</span></h3>"
        f"<blockquote>{escape(r['label'])}</blockquote>"
        f"<p><b>Draft:</b> {escape(r['draft'])}"
        + (
            f" <span class='tag bad'>second review: {escape(r['review'])}</span>"
            if r["review"]
            else ""
        )
        + "</p>"
        for r in rows
    )
    return Section(title="Reply inbox: top clusters", html=body, intro=response)


def voice_section(verdicts: Sequence[tuple[str, Sequence[Finding]]]) -> Section:
    """The brand's own posts as the linter sees them."""
    items = []
    for text, findings in verdicts:
        tag = (
            Markup("<span class='tag ok'>clean</span>")
            if not findings
            else Markup("").join(
                Markup("<div class='finding'>{} {} ({}): {}{}</div>").format(
                    f.severity,
                    f.rule,
                    f.category,
                    f.message,
                    f" — try: {f.suggestion}" if f.suggestion else "",
                )
                for f in findings
            )
        )
        items.append(Markup("<blockquote>{}</blockquote>{}").format(text, tag))
    return Section(
        title="Brand voice check of the brand's own posts",
        html=str(Markup("").join(items)),
        intro="What the linter says of the posts the brand actually sent during the incident.",
    )
