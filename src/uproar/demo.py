"""The end-to-end job on embedded defaults: simulate the 2014 ISP scenario, ingest it, run
every stage over it and write the report. ``uproar demo`` is a thin shell over ``run_demo``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import escape

from uproar.config import Brand, load_brands
from uproar.detect.batch import DetectResult, detect_store
from uproar.errors import InputError, StoreError
from uproar.pipeline import ingest_enrichers
from uproar.records import Finding, Incident
from uproar.report import Band, Section, build_report, html_table, write_report
from uproar.respond.inbox import Inbox
from uproar.respond.lint import Linter
from uproar.respond.thread import Thread, compose_thread, example_facts
from uproar.simulate import load_scenario, simulate
from uproar.sources import IngestResult, ingest
from uproar.store import Store
from uproar.times import zone
from uproar.understand import TopicCluster

DEMO_SCENARIO = "isp-2014"
DEMO_TIMEZONE = "Pacific/Auckland"  # the scenario's brands are in New Zealand
STEPS = ("simulate", "ingest", "detect", "understand", "respond", "report")

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
    detected: DetectResult
    incident: Incident | None
    thread: Thread
    inbox: Inbox | None
    verdicts: list[tuple[str, tuple[Finding, ...]]]
    topics: list[TopicCluster] = field(default_factory=list)
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
    _clear_own_store(db)

    say("simulate")
    simulated = simulate(load_scenario(DEMO_SCENARIO), archive, seed=seed)
    brands = load_brands(simulated.brands_path)

    say("ingest")
    with Store(db) as store:
        _marker(db).write_text("made by `uproar demo`; it replaces this folder's store\n")
        store.save_brands(brands)
        result = ingest([archive], store, brands, enrichers=ingest_enrichers())
        timeline = hourly_timeline(store, simulated.truth)

        say("detect")
        detected = detect_store(store, brands=brands)
        incident = max(detected.incidents, key=lambda i: i.posts, default=None)

        say("understand")
        linter = Linter()
        facts = example_facts("kiwinet-update1")
        built = build_report(
            store,
            brand=incident.brand if incident else None,
            tz=zone(DEMO_TIMEZONE),
            linter=linter,
            facts=facts,
            title=f"{simulated.truth['scenario']} (simulated, seed {seed})",
        )
        main = incident.id if incident else None
        chapter = next((c for c in built.chapters if c.incident.id == main), None)
        built.bands.extend(truth_bands(simulated.truth))

        say("respond")
        thread = compose_thread(facts, "x", linter=linter)
        sections = [
            truth_section(simulated.truth),
            thread_section("X", [(p.text, p.length) for p in thread.posts], thread.limit),
        ]

        say("report")
        report = write_report(
            built,
            folder / "report.html",
            sections=sections,
            note=(
                "A fictional New Zealand ISP whose customers' modems were turned into a "
                "botnet: browsing impossibly slow or gone for thousands, a bait link about "
                "leaked celebrity photos spreading, peers unaffected."
            ),
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
        detected=detected,
        incident=incident,
        thread=thread,
        inbox=chapter.inbox if chapter else None,
        verdicts=[(p.text, p.findings) for p in chapter.updates] if chapter else [],
        topics=chapter.themes if chapter else [],
        sections=sections,
    )


def _marker(db: Path) -> Path:
    return db.with_name(f".{db.name}.demo")


def _clear_own_store(db: Path) -> None:
    """Remove the store of an earlier demo run in this folder; refuse to touch any other
    store (someone's data), or one that a process (a listener) has open."""
    if not db.exists():
        Path(f"{db}.wal").unlink(missing_ok=True)
        return
    if not _marker(db).exists():
        raise InputError(
            "a store not made by `uproar demo` is here; the demo leaves it alone: "
            "pass another --out folder",
            file=str(db),
        )
    try:
        Store(db, wait=0).close()
    except StoreError as exc:
        raise InputError(
            "the demo's earlier store is open in another process (a listener?); stop it "
            "or pass another --out folder",
            file=str(db),
        ) from exc
    for stale in (db, Path(f"{db}.wal"), _marker(db)):
        stale.unlink(missing_ok=True)


def truth_bands(truth: dict[str, Any]) -> list[Band]:
    """The scenario's true incidents, shaded on the volume chart beside the detected ones."""
    return [
        Band(
            brand,
            datetime.fromisoformat(i["onset"]),
            datetime.fromisoformat(i["end"]),
            kind="true incident (simulated)",
        )
        for i in truth.get("incidents", [])
        for brand in (i["brand"], *i.get("peers_hit", []))
    ]


def truth_section(truth: dict[str, Any]) -> Section:
    rows = [
        {
            "incident": i.get("id", ""),
            "brand": i["brand"],
            "onset": i["onset"],
            "end": i["end"],
            "scope": i.get("scope", ""),
            "topics": ", ".join(i.get("topics", [])),
        }
        for i in truth.get("incidents", [])
    ]
    return Section(
        title="Ground truth (simulated)",
        html=html_table(rows, ["incident", "brand", "onset", "end", "scope", "topics"]),
        intro="What the simulator planted, for comparison with what Uproar found (UTC).",
    )


def thread_section(platform: str, posts: Sequence[tuple[str, int]], limit: int) -> Section:
    quotes = "".join(
        f"<blockquote>{escape(text)}</blockquote><p class='muted'>{length}/{limit}</p>"
        for text, length in posts
    )
    return Section(
        title=f"Status thread for {platform}",
        html=quotes,
        intro="Composed from the incident facts; every post fits the platform's own length "
        "rules.",
    )


def rumour_keys(incident: Incident) -> str:
    """The bait-link domains or copied texts spreading through an incident."""
    return ", ".join(str(r.get("domain") or r.get("text") or "") for r in incident.rumours)


def after_true_onset(incident: Incident, truth: dict[str, Any] | None) -> str:
    """How long after the scenario's true onset the incident was raised ("" if unknown)."""
    onset = next(
        (t["onset"] for t in (truth or {}).get("incidents", []) if t["brand"] == incident.brand),
        None,
    )
    if onset is None:
        return ""
    minutes = (incident.detected_at - datetime.fromisoformat(onset)).total_seconds() / 60
    return f"{minutes:+.0f} min"
