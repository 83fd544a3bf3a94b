"""The demo end to end: simulate, ingest, timeline, report."""

from __future__ import annotations

from pathlib import Path

import pytest

from uproar.demo import run_demo


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    steps: list[str] = []
    result = run_demo(tmp_path / "demo", seed=3, step=steps.append)
    assert steps[:2] == ["simulate", "ingest"]
    assert result.ingest.stored == result.posts > 5_000
    assert result.ingest.quarantined == 0
    timeline = result.timeline
    kiwinet = timeline.counts["kiwinet"]
    hits = timeline.incident_hours["kiwinet"]
    during = [c for c, hit in zip(kiwinet, hits, strict=True) if hit]
    before = [c for c, hit in zip(kiwinet, hits, strict=True) if not hit]
    assert during and sum(during) / len(during) > 2 * sum(before) / len(before)
    incident = result.incident
    assert incident is not None and (incident.brand, incident.scope) == ("kiwinet", "brand")
    assert any(r.brand == "kiwinet" and r.kind == "domain" for r in result.detected.rumours)
    assert all(p.length <= result.thread.limit for p in result.thread.posts)
    assert result.inbox is not None and result.inbox.clusters
    blamed = [text for text, found in result.verdicts if any(f.category == "blame" for f in found)]
    assert any("not supplied by us" in text for text in blamed)
    html = result.report.read_text()
    for title in (
        "Incidents",
        "Rumours and bait links",
        "What people said",
        "Status thread",
        "The inbox",
        "What the brand posted",
        "Lessons",
    ):
        assert title in html, title
    assert "kiwinet-modem-malware" in html  # the ground truth is marked
    assert "NZST" in html  # the scenario's own zone
    assert "<svg" in html and "<script" not in html.lower()
