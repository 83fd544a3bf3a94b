"""The post-incident report as one self-contained document: HTML with inline SVG charts and
no script, or PDF made from that HTML by WeasyPrint.

Everything from posts is escaped by Jinja's autoescape; a ``Section`` carries HTML its
maker already escaped (``html_table`` does that), for what a caller adds (the demo's
ground truth and thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from uproar import __version__
from uproar.errors import InputError
from uproar.report.charts import (
    bar_chart,
    sentiment_chart,
    to_svg,
    topics_chart,
    volume_chart,
)
from uproar.report.incident import THEME_COHERENCE, Chapter, Report, shown_themes
from uproar.times import duration, local_time

FORMATS = (".html", ".pdf")


@dataclass(frozen=True, slots=True)
class Section:
    """A block a caller adds to the report; ``html`` must already be escaped."""

    title: str
    html: str
    intro: str = ""
    first: bool = False  # before the summary (a drill's debrief), else after the chapters


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("uproar.report", "templates"),
    autoescape=True,  # post text is hostile: everything is escaped unless marked safe
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _bucket_label(minutes: int) -> str:
    return duration(minutes * 60).replace(" 0 min", "")


def render_html(report: Report, *, sections: Sequence[Section] = (), note: str = "") -> str:
    """The report as an HTML string (no script, no external resource)."""
    tz = report.tz
    bucket = _bucket_label(report.bucket_minutes)

    def when(moment: datetime | None, day: bool = True) -> str:
        return local_time(moment, tz, day=day) if moment is not None else "still open"

    def since(start: datetime, moment: datetime) -> str:
        seconds = (moment - start).total_seconds()
        return ("+" if seconds >= 0 else "−") + duration(seconds)

    def minutes(value: float | None) -> str:
        return duration(value * 60) if value is not None else "—"

    volume = (
        Markup(
            to_svg(
                volume_chart(
                    report.series,
                    tz=tz,
                    bands=report.bands,
                    baselines=report.baselines,
                    bucket_label=bucket,
                )
            )
        )
        if any(report.series.values())
        else ""
    )
    chapters = [_chapter_view(c, report, bucket) for c in report.chapters]
    template = _ENV.get_template("report.html.j2")
    return template.render(
        report=report,
        chapters=chapters,
        sections=sections,
        note=note,
        volume_chart=volume,
        bucket=bucket,
        version=__version__,
        theme_coherence=THEME_COHERENCE,
        when=when,
        since=since,
        minutes=minutes,
        duration=duration,
        tz_name=local_time(report.since, tz).rsplit(" ", 1)[-1],
    )


def _chapter_view(chapter: Chapter, report: Report, bucket: str) -> dict[str, Any]:
    """What the template shows of a chapter: its charts rendered, its themes filtered."""
    tz = report.tz
    return {
        "c": chapter,
        "sentiment_chart": Markup(
            to_svg(sentiment_chart(chapter.sentiment, tz=tz, bucket_label=bucket))
        )
        if chapter.sentiment
        else "",
        "topics_chart": Markup(to_svg(topics_chart(chapter.topics, tz=tz, bucket_label=bucket)))
        if chapter.topics
        else "",
        "regions_chart": Markup(
            to_svg(bar_chart(dict(chapter.regions), title="Where the complaints came from"))
        )
        if chapter.regions
        else "",
        "themes": shown_themes(chapter.themes),
    }


def write_report(
    report: Report, out: Path, *, sections: Sequence[Section] = (), note: str = ""
) -> Path:
    """Write the report to ``out``; its suffix (``.html`` or ``.pdf``) picks the format."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"the report's file must end in {' or '.join(FORMATS)}", file=str(out), field="out"
        )
    html = render_html(report, sections=sections, note=note)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        from weasyprint import HTML

        HTML(string=html).write_pdf(out)
    else:
        out.write_text(html, encoding="utf-8")
    return out


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A simple escaped HTML table from dict rows (for callers' sections)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td data-label='{escape(c)}'>{escape(str(r.get(c, '')))}</td>" for c in columns)
        + "</tr>"
        for r in rows
    )
    return f"<table class='cards'><tr>{head}</tr>{body}</table>"
