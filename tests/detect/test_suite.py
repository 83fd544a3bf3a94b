"""The whole evaluation suite, at full scale, as CI runs it (about two minutes)."""

from __future__ import annotations

import pytest

from uproar.detect.evaluate import evaluate, scenario_files


@pytest.mark.slow
def test_the_suite_meets_the_detection_targets() -> None:
    files = scenario_files("suite")
    assert len(files) >= 20
    totals = evaluate(files).totals()
    assert totals["recall"] is not None and totals["recall"] >= 0.95, totals
    assert totals["precision"] is not None and totals["precision"] >= 0.9, totals
    assert totals["false_alarms_per_brand_week"] is not None
    assert totals["false_alarms_per_brand_week"] <= 1.0, totals
    assert totals["scope_accuracy"] is not None and totals["scope_accuracy"] >= 0.9, totals
    # Latency (median <= 3 min, p90 <= 10 min) is reported by `uproar eval detect suite`
    # and not yet met; see the detect issue's notes.
