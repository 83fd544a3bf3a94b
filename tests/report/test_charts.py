"""Inline SVG charts: escaped labels, bands that do not overprint, empty input."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from uproar.report.charts import Band, line_chart

T0 = datetime(2014, 9, 5, 7, 0, tzinfo=UTC)
SERIES = {"kiwinet": [(T0 + timedelta(minutes=30 * i), float(i % 5)) for i in range(20)]}
SVG = "{http://www.w3.org/2000/svg}"


def band_labels(svg: str) -> dict[str, float]:
    root = ET.fromstring(svg)
    return {
        t.text or "": float(t.get("y", "0"))
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "band"
    }


def test_bands_that_start_together_get_their_own_label_lines() -> None:
    bands = [
        Band(T0 + timedelta(hours=1), T0 + timedelta(hours=5), "truth: modem malware"),
        Band(T0 + timedelta(hours=1, minutes=20), T0 + timedelta(hours=6), "detected", "#888"),
    ]
    labels = band_labels(line_chart(SERIES, title="Mentions", bands=bands))
    assert set(labels) == {"truth: modem malware", "detected"}
    assert labels["truth: modem malware"] != labels["detected"]


def test_labels_are_escaped_and_the_svg_parses() -> None:
    hostile = '<script>alert("x")</script>'
    svg = line_chart(
        {hostile: SERIES["kiwinet"]},
        title=hostile,
        bands=[Band(T0, T0 + timedelta(hours=2), hostile)],
    )
    assert "<script>" not in svg
    assert band_labels(svg) == {hostile: 40.0}


def test_no_points_is_a_message_not_a_chart() -> None:
    assert "no data" in line_chart({}, title="Mentions")
