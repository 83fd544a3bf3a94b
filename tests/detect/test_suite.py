"""The whole evaluation suite, at full scale and four seeds, as CI runs it (about two
minutes on two cores)."""

from __future__ import annotations

import pytest

from uproar.eval.detect import EvalReport, evaluate, scenario_files
from uproar.simulate.scenario import load_scenario

# Issue 13's real-world shapes, added to the suite after the latency guards below were
# measured: they count toward recall, precision and false alarms, and have their own checks.
SHAPES = (
    "flapping-outage",
    "regional-partial-outage",
    "spam-burst-no-incident",
    "viral-spike-no-incident",
    "night-outage-isp",
)


@pytest.mark.slow
def test_the_suite_meets_the_detection_targets() -> None:
    # Four draws of every scenario, pooled (92 incidents, 151 brand-weeks): one draw of each
    # moves recall and precision by several points, so a single seed can pass or fail on
    # luck. Two at a time, each in its own process.
    files = scenario_files("suite")
    assert len(files) >= 28 and set(SHAPES) <= {f.stem for f in files}
    full = evaluate(files, seeds=4, jobs=2)
    totals = full.totals()
    passed = full.passed()
    planted = sum(i.kind != "news" for f in files for i in load_scenario(f).incidents)
    assert totals["events"] == 4 * planted, totals
    # The targets that are met (TARGETS): recall, precision, false alarms.
    for key in ("recall", "precision", "false_alarms_per_brand_week"):
        assert passed[key], (key, totals)
    # Scope: the target is 0.95; measured 1.000 before issue 13 (its guard stays at 0.9).
    assert totals["scope_accuracy"] is not None and totals["scope_accuracy"] >= 0.9, totals
    # The shapes: a flapping outage is one incident whose phases find every drop; a partial
    # regional outage is found; bot floods and a viral spike of chatter page no one.
    shapes = {s.scenario: [] for s in full.scenarios}
    for s in full.scenarios:
        shapes[s.scenario].append(s)
    for s in shapes["flapping-outage"]:
        assert s.found == s.events == 3 and s.detections == 1, s
    assert sum(s.found for s in shapes["regional-partial-outage"]) >= 3, shapes
    assert sum(s.false_alarms for s in shapes["spam-burst-no-incident"]) <= 1, shapes
    # (measured: no alarm on the spike; two chance alarms on other brands in four draws)
    for s in shapes["viral-spike-no-incident"]:
        assert not any(f.startswith("kiwinet 03-06") for f in s.false), s
    # A 5x outage at 2 am with one night of history is found in every draw (2 of 4 before
    # the hour-of-day prior leaned on the neighbouring hours instead of the daily mean).
    for s in shapes["night-outage-isp"]:
        assert s.found == s.events == 1, s
    # The latency guards below were measured on the suite before the shapes were added.
    report = EvalReport(tuple(s for s in full.scenarios if s.scenario not in SHAPES))
    totals = report.totals()
    # Latency is judged against the known-onset floor per onset class (LATENCY_TARGETS:
    # sharp median <= 1.15x and p90 <= 1.3x the floor, slow and night <= 1.5x). Measured on
    # these four seeds: sharp/day 3.83 / 6.46 min against a floor of 3.21 / 5.03 (1.19x,
    # 1.28x: the p90 meets it, the median not); sharp/night 14.9 / 28.8 against 6.6 / 7.9
    # (one of four missed); slow/day 37.6 / 79.8 against 20.3 / 57.4 (1.86x, 1.39x). These
    # bounds guard those figures against regressions; they are not the targets.
    by_onset = {row["onset"]: row for row in report.by_onset()}
    assert {"sharp/day", "sharp/night", "slow/day"} <= set(by_onset)
    sharp_day = by_onset["sharp/day"]
    assert sharp_day["latency_median_min"] <= 1.25 * sharp_day["floor_median_min"], by_onset
    assert sharp_day["latency_p90_min"] <= 1.4 * sharp_day["floor_p90_min"], by_onset
    slow_day = by_onset["slow/day"]
    assert slow_day["latency_median_min"] <= 2.1 * slow_day["floor_median_min"], by_onset
    median, p90 = totals["latency_median_min"], totals["latency_p90_min"]
    assert median is not None and median <= 4.6, totals
    assert p90 is not None and p90 <= 33.0, totals
    floor = totals["latency_floor_median_min"]
    assert floor is not None and 3.0 <= floor <= median, totals


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
