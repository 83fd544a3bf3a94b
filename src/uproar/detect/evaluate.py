"""The evaluation harness: simulate scenarios with ground truth, detect, score.

For each scenario: ``simulate`` writes posts and truth, ``ingest`` stores them, the batch
detector runs, and detections are matched to the truth:

* a detection matches a true incident (or a peer it hit) when it is for the same brand,
  overlaps the incident's time (with ``SLACK`` either side) and was raised no earlier than
  ``SLACK`` before the onset;
* a detection overlapping a planted rumour of its brand is a rumour alert, not a false one;
* anything else is a false alarm (floods, noisy days and holidays are where they hide).

Recall counts the scenario's own incidents (the brand named in the truth); peers hit by an
industry incident are scored for scope and reported as peer recall. Latency is from the
true onset to ``detected_at`` of the first matching detection.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from uproar.config import load_brands
from uproar.detect.batch import detect_store
from uproar.detect.rumours import Rumour
from uproar.errors import ConfigError
from uproar.records import Incident
from uproar.store import Store

SLACK = timedelta(minutes=30)

TARGETS: dict[str, tuple[str, float]] = {
    "recall": (">=", 0.95),
    "precision": (">=", 0.9),
    "latency_median_min": ("<=", 3.0),
    "latency_p90_min": ("<=", 10.0),
    "false_alarms_per_brand_week": ("<=", 1.0),
    "scope_accuracy": (">=", 0.9),
}


@dataclass(frozen=True, slots=True)
class TrueEvent:
    brand: str
    onset: datetime
    end: datetime
    scope: str
    primary: bool
    id: str
    sharp: bool = True


@dataclass(slots=True)
class ScenarioScore:
    """One scenario's counts; ``latencies`` in minutes, for the matched primary events."""

    scenario: str
    brands: int
    days: float
    posts: int
    events: int = 0
    found: int = 0
    peer_events: int = 0
    peers_found: int = 0
    detections: int = 0
    correct: int = 0
    false_alarms: int = 0
    scope_checked: int = 0
    scope_right: int = 0
    rumours: int = 0
    rumours_found: int = 0
    rumours_flagged: int = 0
    rumours_flagged_true: int = 0
    latencies: list[float] = field(default_factory=list)
    sharp_latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    @property
    def brand_weeks(self) -> float:
        return self.brands * self.days / 7.0


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def truth_events(truth: dict[str, Any]) -> list[TrueEvent]:
    """The truth file's incidents, and one event per peer each incident hit."""
    events = []
    for inc in truth["incidents"]:
        onset, end = _t(inc["onset"]), _t(inc["end"])
        sharp = inc.get("onset_shape", "sharp") == "sharp"
        events.append(TrueEvent(inc["brand"], onset, end, inc["scope"], True, inc["id"], sharp))
        for peer in inc.get("peers_hit", []):
            events.append(TrueEvent(peer, onset, end, "industry", False, f"{inc['id']}@{peer}"))
    return events


def _overlaps(d: Incident, start: datetime, end: datetime) -> bool:
    d_end = d.end or datetime.max.replace(tzinfo=UTC)
    return d.start <= end + SLACK and d_end >= start - SLACK


def _raised_during(x: Rumour, brand: str, start: datetime, end: datetime) -> bool:
    """A rumour flag for ``brand`` raised between ``SLACK`` before ``start`` and ``end``."""
    return x.brand == brand and start - SLACK <= x.detected_at <= end


def score(
    name: str,
    truth: dict[str, Any],
    incidents: Sequence[Incident],
    rumours: Sequence[Rumour],
    *,
    posts: int,
) -> ScenarioScore:
    """Match one scenario's detections to its truth."""
    start, end = _t(truth["start"]), _t(truth["end"])
    s = ScenarioScore(
        scenario=name,
        brands=len(truth["brands"]),
        days=(end - start).total_seconds() / 86400.0,
        posts=posts,
    )
    events = truth_events(truth)
    s.detections = len(incidents)
    used: set[str] = set()
    for e in events:
        hits = sorted(
            (
                d
                for d in incidents
                if d.brand == e.brand
                and _overlaps(d, e.onset, e.end)
                and d.detected_at >= e.onset - SLACK
            ),
            key=lambda d: d.detected_at,
        )
        if e.primary:
            s.events += 1
        else:
            s.peer_events += 1
        if not hits:
            if e.primary:
                s.missed.append(f"{e.id} ({e.brand} {e.onset:%m-%d %H:%M})")
            continue
        used.update(d.id for d in hits)
        first = hits[0]
        s.scope_checked += 1
        s.scope_right += first.scope == e.scope
        if e.primary:
            s.found += 1
            s.latencies.append((first.detected_at - e.onset).total_seconds() / 60.0)
            if e.sharp:
                s.sharp_latencies.append(s.latencies[-1])
        else:
            s.peers_found += 1
    planted = [
        (r["brand"], _t(r["onset"]), _t(r["end"]), r.get("domain"))
        for r in truth.get("rumours", [])
    ]
    for brand, r_on, r_end, domain in planted:
        s.rumours += 1
        for d in incidents:
            if d.brand == brand and _overlaps(d, r_on, r_end):
                used.add(d.id)
        s.rumours_found += any(
            _raised_during(x, brand, r_on, r_end)
            and (domain is None or x.key == domain or x.kind == "text")
            for x in rumours
        )
    s.rumours_flagged = len(rumours)
    s.rumours_flagged_true = sum(
        any(_raised_during(x, brand, r_on, r_end) for brand, r_on, r_end, _d in planted)
        for x in rumours
    )
    s.correct = sum(d.id in used for d in incidents)
    s.false_alarms = s.detections - s.correct
    s.false = [f"{d.brand} {d.start:%m-%d %H:%M}" for d in incidents if d.id not in used]
    return s


def evaluate_scenario(
    path: Path,
    *,
    seed: int | None = None,
    scale: float = 1.0,
    workdir: Path | None = None,
    options: dict[str, Any] | None = None,
) -> ScenarioScore:
    """Simulate, ingest, detect and score one scenario file."""
    import time

    from uproar.pipeline import ingest_enrichers
    from uproar.simulate.engine import simulate
    from uproar.simulate.scenario import load_scenario
    from uproar.sources import ingest

    began = time.perf_counter()
    scenario = load_scenario(path)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        out = Path(tmp) / f"{path.stem}.jsonl"
        sim = simulate(scenario, out, seed=scenario.seed if seed is None else seed, scale=scale)
        brands = load_brands(sim.brands_path)
        with Store() as store:
            ingest([out], store, brands, workers=1, enrichers=ingest_enrichers())
            store.save_brands(brands)
            result = detect_store(store, brands=brands, save=False, **(options or {}))
            s = score(path.stem, sim.truth, result.incidents, result.rumours, posts=result.posts)
    s.seconds = time.perf_counter() - began
    return s


def scenario_files(target: str | Path) -> list[Path]:
    """A scenario file, or every ``*.toml`` in a folder (sorted)."""
    p = Path(target)
    if p.is_dir():
        files = sorted(p.glob("*.toml"))
        if not files:
            raise ConfigError(f"{p}: no scenario files (*.toml) in this folder", file=str(p))
        return files
    if p.is_file():
        return [p]
    shipped = Path(str(_shipped_dir()))
    if (shipped / f"{target}.toml").is_file():
        return [shipped / f"{target}.toml"]
    if str(target) == "suite":
        return sorted(shipped.glob("*.toml"))
    raise ConfigError(f"{target}: no such scenario file or folder", file=str(target))


def _shipped_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("uproar.detect").joinpath("scenarios")))


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Per-scenario scores and the totals the issue's targets are judged on."""

    scenarios: tuple[ScenarioScore, ...]

    def totals(self) -> dict[str, float | int | None]:
        sc = self.scenarios
        lat = [x for s in sc for x in s.latencies]
        sharp = [x for s in sc for x in s.sharp_latencies]
        events = sum(s.events for s in sc)
        detections = sum(s.detections for s in sc)
        brand_weeks = sum(s.brand_weeks for s in sc)
        scope_checked = sum(s.scope_checked for s in sc)
        peer_events = sum(s.peer_events for s in sc)
        rumours = sum(s.rumours for s in sc)
        flagged = sum(s.rumours_flagged for s in sc)
        return {
            "scenarios": len(sc),
            "events": events,
            "detections": detections,
            "recall": sum(s.found for s in sc) / events if events else None,
            "precision": sum(s.correct for s in sc) / detections if detections else None,
            "latency_median_min": float(np.median(lat)) if lat else None,
            "latency_p90_min": float(np.percentile(lat, 90)) if lat else None,
            "latency_median_sharp_min": float(np.median(sharp)) if sharp else None,
            "latency_p90_sharp_min": float(np.percentile(sharp, 90)) if sharp else None,
            "false_alarms": sum(s.false_alarms for s in sc),
            "brand_weeks": round(brand_weeks, 2),
            "false_alarms_per_brand_week": (
                sum(s.false_alarms for s in sc) / brand_weeks if brand_weeks else None
            ),
            "scope_accuracy": (
                sum(s.scope_right for s in sc) / scope_checked if scope_checked else None
            ),
            "peer_recall": (sum(s.peers_found for s in sc) / peer_events if peer_events else None),
            "rumour_recall": sum(s.rumours_found for s in sc) / rumours if rumours else None,
            "rumour_precision": (
                sum(s.rumours_flagged_true for s in sc) / flagged if flagged else None
            ),
            "posts": sum(s.posts for s in sc),
            "seconds": round(sum(s.seconds for s in sc), 1),
        }

    def passed(self) -> dict[str, bool]:
        """Each target of the issue, met or not (a metric with nothing to judge passes)."""
        tot = self.totals()
        out = {}
        for key, (op, bound) in TARGETS.items():
            v = tot[key]
            out[key] = v is None or (v >= bound if op == ">=" else v <= bound)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals(),
            "targets": {k: {"op": op, "bound": b} for k, (op, b) in TARGETS.items()},
            "passed": self.passed(),
            "scenarios": [
                {
                    "scenario": s.scenario,
                    "brands": s.brands,
                    "days": round(s.days, 2),
                    "posts": s.posts,
                    "events": s.events,
                    "found": s.found,
                    "peer_events": s.peer_events,
                    "peers_found": s.peers_found,
                    "detections": s.detections,
                    "false_alarms": s.false_alarms,
                    "scope_right": s.scope_right,
                    "scope_checked": s.scope_checked,
                    "rumours": s.rumours,
                    "rumours_found": s.rumours_found,
                    "rumours_flagged": s.rumours_flagged,
                    "latencies_min": [round(x, 2) for x in s.latencies],
                    "missed": s.missed,
                    "false": s.false,
                    "seconds": round(s.seconds, 2),
                }
                for s in self.scenarios
            ],
        }


def evaluate(
    files: Iterable[Path],
    *,
    seed: int | None = None,
    scale: float = 1.0,
    options: dict[str, Any] | None = None,
) -> EvalReport:
    """Score every scenario file. ``options`` go to ``detect_store`` (signal, detector)."""
    return EvalReport(
        tuple(evaluate_scenario(f, seed=seed, scale=scale, options=options) for f in files)
    )
