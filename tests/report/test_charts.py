"""The report's charts: valid Vega-Lite, fixed colour meanings, small multiples, and SVG in
which hostile labels stay text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from uproar.report.charts import (
    SENTIMENT_COLOURS,
    Band,
    Baseline,
    sentiment_chart,
    spec,
    to_svg,
    topics_chart,
    volume_chart,
)
from uproar.times import zone

T0 = datetime(2014, 9, 5, 7, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def points(n: int = 24) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(minutes=30 * i), float(i % 5)) for i in range(n)]


def test_sentiment_colours_mean_the_same_everywhere() -> None:
    rows = [(T0, s, 3) for s in ("positive", "negative", "neutral")]
    vl = spec(sentiment_chart(rows, tz=UTC))
    scale = vl["spec"]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == SENTIMENT_COLOURS
    assert SENTIMENT_COLOURS["negative"].startswith("#c")  # red
    assert vl["facet"]["row"]["sort"] == ["negative", "neutral", "positive"]


def test_topics_are_small_multiples_largest_first() -> None:
    rows = [(T0, "slow", 5), (T0, "billing", 9), (T0 + timedelta(hours=1), "slow", 1)]
    vl = spec(topics_chart(rows, tz=UTC))
    assert vl["facet"]["row"]["sort"] == ["billing", "slow"]


def test_times_are_drawn_in_the_readers_zone() -> None:
    vl = spec(volume_chart({"kiwinet": points(2)}, tz=zone("Pacific/Auckland")))
    first = min(v["t"] for v in vl["data"]["values"] if v["layer"] == "line")
    # 07:00 UTC is 19:00 in Auckland (NZST, +12), drawn on a UTC scale as 19:00
    assert datetime.fromtimestamp(first / 1000, UTC).hour == 19


def test_hostile_labels_stay_text_in_the_svg() -> None:
    hostile = '<script>alert("x")</script>'
    chart = volume_chart(
        {hostile: points(), "tuinet": points()},
        tz=UTC,
        bands=[Band(hostile, T0, T0 + timedelta(hours=2))],
        baselines={hostile: [Baseline(at, 0.0, 1.0, 2.0) for at, _ in points()]},
    )
    svg = to_svg(chart)
    root = ET.fromstring(svg)  # well-formed
    assert not any(el.tag == f"{SVG}script" for el in root.iter())
    assert hostile in "".join(root.itertext())
    legend = " ".join(root.itertext())
    assert "incident (detected)" in legend and "usual range" in legend
