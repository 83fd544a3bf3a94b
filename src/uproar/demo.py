"""The end-to-end job on embedded defaults: simulate the 2014 ISP scenario, ingest it, run
every stage over it and write the report. ``uproar demo`` is a thin shell over ``run_demo``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from uproar.config import Brand, load_brands
from uproar.pipeline import ingest_enrichers
from uproar.report import ReportInput, Section, write_report
from uproar.simulate import load_scenario, simulate
from uproar.sources import IngestResult, ingest
from uproar.store import Store

DEMO_SCENARIO = "isp-2014"

Step = Callable[[str], None]


@dataclass(slots=True)
class Timeline:
    """Hourly customer mentions per brand, and which hours a true incident covers."""

    hours: list[datetime]
    counts: dict[str, list[int]]
    incident_hours: dict[str, list[bool]]


@dataclass(slots=True)
class DemoResult:
    folder: Path
    db: Path
    report: Path
    posts: int
    ingest: IngestResult
    truth: dict[str, Any]
    brands: dict[str, Brand]
    timeline: Timeline
    sections: list[Section] = field(default_factory=list)


def hourly_timeline(store: Store, truth: dict[str, Any]) -> Timeline:
    volume = store.volume(bucket_minutes=60).to_pylist()
    for row in volume:
        row["bucket"] = row["bucket"].replace(tzinfo=UTC)
    hours: list[datetime] = sorted({r["bucket"] for r in volume})
    index = {h: i for i, h in enumerate(hours)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(hours))
    for row in volume:
        counts[row["brand"]][index[row["bucket"]]] = int(row["posts"])
    marked: dict[str, list[bool]] = {b: [False] * len(hours) for b in counts}
    for incident in truth.get("incidents", []):
        onset = datetime.fromisoformat(incident["onset"])
        end = datetime.fromisoformat(incident["end"])
        for brand in (incident["brand"], *incident.get("peers_hit", [])):
            if brand in marked:
                for i, hour in enumerate(hours):
                    if onset <= hour < end:
                        marked[brand][i] = True
    return Timeline(hours=hours, counts=dict(sorted(counts.items())), incident_hours=marked)


def run_demo(folder: Path, *, seed: int = 2014, step: Step | None = None) -> DemoResult:
    """Run the whole job into ``folder`` (created); ``step`` hears each stage's name."""
    say = step or (lambda _: None)
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{DEMO_SCENARIO}.jsonl"
    db = folder / "uproar.duckdb"
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)

    say("simulate")
    simulated = simulate(load_scenario(DEMO_SCENARIO), archive, seed=seed)
    brands = load_brands(simulated.brands_path)

    say("ingest")
    with Store(db) as store:
        store.save_brands(brands)
        result = ingest([archive], store, brands, enrichers=ingest_enrichers())
        timeline = hourly_timeline(store, simulated.truth)
        sections: list[Section] = []
        say("report")
        report = write_report(
            store,
            ReportInput(
                title=f"{simulated.truth['scenario']} (simulated, seed {seed})",
                truth=simulated.truth,
                sections=sections,
                summary=(
                    "A fictional New Zealand ISP whose customers' modems were turned into a "
                    "botnet: browsing impossibly slow or gone for thousands, a bait link about "
                    "leaked celebrity photos spreading, peers unaffected."
                ),
            ),
            folder / "report.html",
        )
    return DemoResult(
        folder=folder,
        db=db,
        report=report,
        posts=simulated.posts,
        ingest=result,
        truth=simulated.truth,
        brands=brands,
        timeline=timeline,
        sections=sections,
    )
