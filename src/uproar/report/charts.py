"""Inline SVG charts: self-contained, no script, every label escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f")


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded time span on a chart (an incident, true or detected)."""

    start: datetime
    end: datetime
    label: str
    color: str = "#f59e0b"


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    step = (hi - lo) / count
    return [lo + i * step for i in range(count + 1)]


# Candidate spacings of time-axis ticks, in seconds: 15 min up to a week.
_TIME_STEPS = (900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400)


def _time_ticks(t0: float, t1: float, target: int = 8) -> list[float]:
    """Round UTC times (midnight shows as the date) about ``target`` apart."""
    step = next((s for s in _TIME_STEPS if (t1 - t0) / s <= target), _TIME_STEPS[-1])
    first = (int(t0) // step + 1) * step
    return [float(t) for t in range(first, int(t1) + 1, step)]


def line_chart(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    title: str,
    bands: Sequence[Band] = (),
    width: int = 900,
    height: int = 260,
    y_label: str = "posts",
) -> str:
    """One line per series over a shared time axis, with shaded bands behind them."""
    left, right, top, bottom = 56, 16, 28, 36
    points = [p for values in series.values() for p in values]
    if not points:
        return f'<p class="empty">{escape(title)}: no data</p>'
    t0 = min(p[0] for p in points).timestamp()
    t1 = max(p[0] for p in points).timestamp()
    span = max(t1 - t0, 1.0)
    y_max = max(max(p[1] for p in points), 1.0) * 1.08
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(moment: datetime) -> float:
        return left + (moment.timestamp() - t0) / span * plot_w

    def y(value: float) -> float:
        return top + plot_h - value / y_max * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="18" class="title">{escape(title)}</text>',
    ]
    # Each band's label on a line of its own, so bands that start close do not overprint.
    for row, band in enumerate(bands):
        bx0 = max(left, x(band.start))
        bx1 = min(left + plot_w, x(band.end))
        if bx1 > bx0:
            parts.append(
                f'<rect x="{bx0:.1f}" y="{top}" width="{bx1 - bx0:.1f}" height="{plot_h}" '
                f'fill="{band.color}" fill-opacity="0.18">'
                f"<title>{escape(band.label)}</title></rect>"
                f'<text x="{bx0 + 3:.1f}" y="{top + 12 + 12 * row}" class="band">'
                f"{escape(band.label)}</text>"
            )
    for tick in _ticks(0, y_max):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" class="axis" '
            f'text-anchor="end">{tick:,.0f}</text>'
        )
    for tick in _time_ticks(t0, t1):
        moment = datetime.fromtimestamp(tick, tz=UTC)
        label = f"{moment:%d %b}" if moment.hour == 0 and moment.minute == 0 else f"{moment:%H:%M}"
        parts.append(
            f'<line x1="{left + (tick - t0) / span * plot_w:.1f}" '
            f'x2="{left + (tick - t0) / span * plot_w:.1f}" y1="{top}" y2="{top + plot_h}" '
            f'class="grid"/><text x="{left + (tick - t0) / span * plot_w:.1f}" '
            f'y="{height - 12}" class="axis" text-anchor="middle">{label}</text>'
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" class="axis" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in sorted(values))
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.6">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{PALETTE[i % len(PALETTE)]}"></i>'
        f"{escape(name)}</span>"
        for i, name in enumerate(series)
    )
    return f"<figure>{''.join(parts)}<figcaption>{legend}</figcaption></figure>"


def sparkline(values: Sequence[float]) -> str:
    """A one-line terminal chart of ``values`` in block characters."""
    blocks = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(blocks[min(len(blocks) - 1, int(v / top * (len(blocks) - 1)))] for v in values)
