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
    html = result.report.read_text()
    assert "kiwinet-modem-malware" in html  # the ground truth is marked
    assert "<svg" in html and "<script" not in html.lower()
