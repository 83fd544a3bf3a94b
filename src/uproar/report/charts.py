"""The report's charts: Vega-Lite specs built with Altair, rendered offline to inline SVG.

A chart is a spec first (``*_chart`` returns an Altair chart, validated against the
Vega-Lite schema when it becomes a dict), so the dashboard can draw the same spec in the
browser; ``to_svg`` renders it with vl-convert for the report, which carries no script.

Times arrive as the reader's wall-clock time and are drawn on a UTC scale, so the axis
shows local times whatever the renderer's own zone is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import altair as alt

# Colour meanings that hold everywhere: negative red, neutral grey, positive green. The
# three also differ in lightness, and every chart names them in text, so they stay
# legible to colour-blind readers.
SENTIMENT_COLOURS = {"negative": "#c0392b", "neutral": "#a6a6a6", "positive": "#2e8b57"}
SHADE_COLOURS = {
    "incident (detected)": "#f2a541",
    "true incident (simulated)": "#7b61ff",
    "usual range (same time, earlier days)": "#c6dbef",
}
LINE_COLOUR = "#1f4e79"
WIDTH = 640  # a laptop-width report column; the SVG scales down on a phone


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded time span on one brand's chart (an incident, true or detected)."""

    brand: str
    start: datetime
    end: datetime
    kind: str = "incident (detected)"


@dataclass(frozen=True, slots=True)
class Baseline:
    """The usual range of a series at one time: low and high quantiles and the median."""

    at: datetime
    low: float
    median: float
    high: float


def _ms(moment: datetime, tz: tzinfo) -> int:
    """Epoch milliseconds of the wall-clock time in ``tz``, read as if it were UTC."""
    wall = moment.astimezone(tz).replace(tzinfo=UTC)
    return int(wall.timestamp() * 1000)


def _time_axis(title: str | None = None) -> alt.X:
    return alt.X(
        "t:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%a %H:%M", labelOverlap=True, tickCount=6),
    )


def volume_chart(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    tz: tzinfo,
    bands: Sequence[Band] = (),
    baselines: Mapping[str, Sequence[Baseline]] | None = None,
    bucket_label: str = "30 min",
) -> alt.FacetChart:
    """Mentions per bucket, one small multiple per brand (the subject first, peers after),
    each with its usual range shaded and its incidents marked."""
    usual = "usual range (same time, earlier days)"
    values: list[dict[str, Any]] = [
        {"layer": "line", "brand": brand, "t": _ms(at, tz), "posts": value}
        for brand, points in series.items()
        for at, value in points
    ]
    values += [
        {
            "layer": "shade",
            "brand": band.brand,
            "t": _ms(band.start, tz),
            "t2": _ms(band.end, tz),
            "what": band.kind,
        }
        for band in bands
        if band.brand in series
    ]
    values += [
        {
            "layer": "range",
            "brand": brand,
            "t": _ms(x.at, tz),
            "low": x.low,
            "high": x.high,
            "what": usual,
        }
        for brand, points in (baselines or {}).items()
        if brand in series
        for x in points
    ]
    shown = [k for k in SHADE_COLOURS if any(v.get("what") == k for v in values)]
    shading = alt.Color(
        "what:N",
        scale=alt.Scale(domain=shown, range=[SHADE_COLOURS[k] for k in shown]),
        title="shading",
        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400),
    )
    base = alt.Chart()
    layers = []
    if any(v["layer"] == "range" for v in values):
        layers.append(
            base.transform_filter(alt.datum.layer == "range")
            .mark_area(opacity=0.9)
            .encode(x=_time_axis(), y="low:Q", y2="high:Q", color=shading)
        )
    truth = "true incident (simulated)"
    if any(v["layer"] == "shade" and v["what"] != truth for v in values):
        layers.append(
            base.transform_filter((alt.datum.layer == "shade") & (alt.datum.what != truth))
            .mark_rect(opacity=0.35)
            .encode(x=_time_axis(), x2="t2:T", color=shading)
        )
    if any(v.get("what") == truth for v in values):
        # A strip along the top, so the true span never blends with the detected shading.
        layers.append(
            base.transform_filter(alt.datum.what == truth)
            .mark_rect(opacity=0.9)
            .encode(x=_time_axis(), x2="t2:T", y=alt.value(0), y2=alt.value(7), color=shading)
        )
    layers.append(
        base.transform_filter(alt.datum.layer == "line")
        .mark_line(color=LINE_COLOUR, strokeWidth=1.5)
        .encode(
            x=_time_axis(),
            y=alt.Y("posts:Q", title=f"mentions per {bucket_label}", axis=alt.Axis(tickCount=4)),
        )
    )
    order = list(series)
    return (
        alt.layer(*layers, data=alt.Data(values=values))
        .properties(width=WIDTH, height=150 if len(order) == 1 else 100)
        .facet(row=alt.Row("brand:N", sort=order, title=None, header=alt.Header(labelAngle=0)))
        .resolve_scale(y="independent")
    )


def sentiment_chart(
    rows: Sequence[tuple[datetime, str, int]], *, tz: tzinfo, bucket_label: str = "30 min"
) -> alt.FacetChart:
    """Posts per sentiment over time as small multiples, one row per sentiment, named."""
    values = [{"t": _ms(at, tz), "sentiment": s, "posts": n} for at, s, n in rows]
    order = [s for s in SENTIMENT_COLOURS if any(v["sentiment"] == s for v in values)]
    return (
        alt.Chart(alt.Data(values=values))
        .mark_area(interpolate="step-after")
        .encode(
            x=_time_axis(),
            y=alt.Y("posts:Q", title=f"per {bucket_label}", axis=alt.Axis(tickCount=3)),
            color=alt.Color(
                "sentiment:N",
                scale=alt.Scale(domain=order, range=[SENTIMENT_COLOURS[s] for s in order]),
                legend=None,
            ),
        )
        .properties(width=WIDTH, height=70)
        .facet(row=alt.Row("sentiment:N", sort=order, title=None, header=alt.Header(labelAngle=0)))
    )


def topics_chart(
    rows: Sequence[tuple[datetime, str, int]], *, tz: tzinfo, bucket_label: str = "30 min"
) -> alt.FacetChart:
    """Posts per topic over time as small multiples (largest topic first), not a tangle."""
    values = [{"t": _ms(at, tz), "topic": topic, "posts": n} for at, topic, n in rows]
    totals: dict[str, int] = {}
    for _, topic, n in rows:
        totals[topic] = totals.get(topic, 0) + n
    order = sorted(totals, key=lambda k: (-totals[k], k))
    return (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color=LINE_COLOUR)
        .encode(
            x=_time_axis(),
            y=alt.Y("posts:Q", title=f"per {bucket_label}", axis=alt.Axis(tickCount=3)),
        )
        .properties(width=WIDTH, height=55)
        .facet(row=alt.Row("topic:N", sort=order, title=None, header=alt.Header(labelAngle=0)))
    )


def bar_chart(counts: Mapping[str, int], *, title: str, unit: str = "posts") -> alt.Chart:
    """A horizontal bar per key (regions, sources), largest first, each bar labelled."""
    values = [{"key": k, "n": n} for k, n in counts.items()]
    base = alt.Chart(alt.Data(values=values)).encode(
        y=alt.Y("key:N", sort="-x", title=None),
        x=alt.X("n:Q", title=unit, axis=alt.Axis(tickCount=4)),
    )
    return (
        base.mark_bar(color=LINE_COLOUR) + base.mark_text(align="left", dx=3).encode(text="n:Q")
    ).properties(width=WIDTH - 140, height=max(40, 18 * len(values)), title=title)


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, validated against the schema by Altair."""
    result: dict[str, Any] = chart.to_dict(validate=True)
    return result


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as a standalone inline SVG (no script, no network)."""
    import vl_convert as vlc

    svg: str = vlc.vegalite_to_svg(spec(chart))
    return svg


def sparkline(values: Sequence[float]) -> str:
    """A one-line terminal chart of ``values`` in block characters."""
    blocks = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(blocks[min(len(blocks) - 1, int(v / top * (len(blocks) - 1)))] for v in values)
