"""The post-incident report: one self-contained HTML file (inline SVG, no scripts).

Stages add ``Section``s (title + HTML they rendered with escaping); the volume chart, the
ground truth and the quarantine summary come from the store and the scenario's truth file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import escape

from uproar import __version__
from uproar.report.charts import Band, line_chart
from uproar.store import Store
from uproar.store.store import utc


@dataclass(frozen=True, slots=True)
class Section:
    """A block of the report; ``html`` must already be escaped (``html_table`` does that)."""

    title: str
    html: str
    intro: str = ""


@dataclass(slots=True)
class ReportInput:
    title: str
    truth: dict[str, Any] | None = None
    incident_bands: list[Band] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    summary: str = ""
    bucket_minutes: int = 30


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("uproar.report", "templates"),
    autoescape=True,  # post text is hostile: everything is escaped unless marked safe
    undefined=jinja2.StrictUndefined,
)


def truth_bands(truth: dict[str, Any]) -> list[Band]:
    return [
        Band(
            datetime.fromisoformat(i["onset"]),
            datetime.fromisoformat(i["end"]),
            f"true: {i.get('id', i['brand'])}",
            color="#f59e0b",
        )
        for i in truth.get("incidents", [])
    ]


def render_report(store: Store, report: ReportInput) -> str:
    """The report as an HTML string."""
    volume = store.volume(bucket_minutes=report.bucket_minutes)
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for row in volume.to_pylist():
        moment = utc(row["bucket"])
        assert moment is not None
        series[row["brand"]].append((moment, float(row["posts"])))
    bands = (truth_bands(report.truth) if report.truth else []) + report.incident_bands
    chart = line_chart(
        dict(sorted(series.items())),
        title=f"Mentions per {report.bucket_minutes} min",
        bands=bands,
    )
    figures = store.stats()
    period = (
        f"{figures['first']:%d %b %Y %H:%M} – {figures['last']:%d %b %Y %H:%M} UTC"
        if figures["first"]
        else "no posts"
    )
    truth_incidents = report.truth.get("incidents", []) if report.truth else []
    template = _ENV.get_template("report.html.j2")
    return template.render(
        title=report.title,
        period=period,
        totals={"posts": figures["posts"], "quarantined": sum(figures["quarantine"].values())},
        version=__version__,
        summary=report.summary,
        bucket_minutes=report.bucket_minutes,
        volume_chart=chart,
        truth_incidents=truth_incidents,
        incidents=report.incident_bands,
        sections=report.sections,
        quarantine=figures["quarantine"],
    )


def write_report(store: Store, report: ReportInput, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(store, report), encoding="utf-8")
    return out


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A simple escaped HTML table from dict rows (for stages' sections)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
