"""The whole evaluation suite, at full scale and four seeds, as CI runs it (about two
minutes on two cores)."""

from __future__ import annotations

import pytest

from uproar.eval.detect import evaluate, scenario_files


@pytest.mark.slow
def test_the_suite_meets_the_detection_targets() -> None:
    # Four draws of every scenario, pooled (76 incidents, 130 brand-weeks): one draw of each
    # moves recall and precision by several points, so a single seed can pass or fail on
    # luck. Two at a time, each in its own process.
    files = scenario_files("suite")
    assert len(files) >= 20
    report = evaluate(files, seeds=4, jobs=2)
    totals = report.totals()
    assert totals["events"] == 4 * 19, totals
    assert totals["recall"] is not None and totals["recall"] >= 0.95, totals
    assert totals["precision"] is not None and totals["precision"] >= 0.9, totals
    assert totals["false_alarms_per_brand_week"] is not None
    assert totals["false_alarms_per_brand_week"] <= 1.0, totals
    assert totals["scope_accuracy"] is not None and totals["scope_accuracy"] >= 0.9, totals
    # The latency targets (median <= 3 min, p90 <= 10 min) are not met: measured
    # 4.21 / 30.0 min, against a known-onset oracle's 3.51 / 18.2 on the same posts (the
    # floor; see uproar.eval.detect). These bounds guard the measured figures against
    # regressions, with a little room for platform noise; they are not the targets.
    # The p90 is the slow ramps': the baseline no longer learns a slow build as normal, so
    # the ones it used to miss are found, late (scenarios/README.md, "Choosing the levels").
    median, p90 = totals["latency_median_min"], totals["latency_p90_min"]
    assert median is not None and median <= 4.6, totals
    assert p90 is not None and p90 <= 33.0, totals
    floor = totals["latency_floor_median_min"]
    assert floor is not None and 3.0 <= floor <= median, totals
    by_onset = {row["onset"]: row for row in report.by_onset()}
    assert {"sharp/day", "sharp/night", "slow/day"} <= set(by_onset)
    sharp_day = by_onset["sharp/day"]["latency_median_min"]
    assert sharp_day is not None and sharp_day <= 4.2, by_onset


SCALE_3_SUBSET = ("big-brand-modest-surge", "noisy-days-no-incident")


@pytest.mark.slow
def test_false_alarms_do_not_grow_with_volume() -> None:
    # Two of the scenarios where, at three times the volume, the CUSUM used to count each
    # minute of an ordinary ten-minute burst as fresh evidence and raise a chance alarm
    # (a big brand's evening; a noisy day). The whole suite at --scale 3 is too slow for CI;
    # its figures are in scenarios/README.md ("False alarms and volume").
    files = [f for f in scenario_files("suite") if f.stem in SCALE_3_SUBSET]
    assert len(files) == len(SCALE_3_SUBSET)
    totals = evaluate(files, scale=3.0).totals()
    assert totals["false_alarms"] == 0, totals
    assert totals["recall"] == 1.0, totals
