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

import pyarrow.compute as pc

from uproar.config import Brand, load_brands
from uproar.detect.batch import DetectResult, detect_store
from uproar.errors import InputError, StoreError
from uproar.pipeline import ingest_enrichers
from uproar.records import Finding, Incident
from uproar.report import Band, ReportInput, Section, write_report
from uproar.report.sections import (
    inbox_section,
    incidents_section,
    rumours_section,
    thread_section,
    understanding_section,
    voice_section,
)
from uproar.respond.inbox import Inbox, build_inbox
from uproar.respond.lint import Linter
from uproar.respond.thread import Thread, compose_thread, example_facts
from uproar.simulate import load_scenario, simulate
from uproar.sources import IngestResult, ingest
from uproar.store import Store
from uproar.store.report import own_posts, sentiment_over_time, topics_over_time
from uproar.understand import TopicCluster, discover_topics

DEMO_SCENARIO = "isp-2014"
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
        discovered: list[TopicCluster] = []
        sections = [
            incidents_section(detected.incidents, simulated.truth),
            rumours_section(detected.rumours),
        ]

        if incident is not None:
            say("understand")
            until = incident.end or timeline.hours[-1]
            texts = (
                store.posts_arrow(
                    columns=("text", "own_brand"),
                    brand=incident.brand,
                    since=incident.start,
                    until=until,
                )
                .filter(pc.is_null(pc.field("own_brand")))
                .column("text")
                .to_pylist()
            )
            discovered = discover_topics(texts[:: max(1, len(texts) // 3000)], seed=seed)
            sections.append(
                understanding_section(
                    incident,
                    sentiment_over_time(store, incident.brand, incident.start, until),
                    topics_over_time(store, incident.brand, incident.start, until),
                    discovered,
                )
            )

        say("respond")
        linter = Linter()
        facts = example_facts("kiwinet-update1")
        thread = compose_thread(facts, "x", linter=linter)
        sections.append(
            thread_section("X", [(p.text, p.length) for p in thread.posts], thread.limit)
        )
        inbox = None
        if incident is not None:
            inbox = build_inbox(store, incident=incident.id, facts=facts, linter=linter, limit=3)
            sections.append(inbox_section(_cluster_rows(inbox), _response_line(inbox)))
        verdicts = _voice_verdicts(store, linter, incident.brand if incident else "kiwinet")
        sections.append(voice_section(verdicts))

        say("report")
        report = write_report(
            store,
            ReportInput(
                title=f"{simulated.truth['scenario']} (simulated, seed {seed})",
                truth=simulated.truth,
                incident_bands=[
                    Band(
                        i.start,
                        i.end or timeline.hours[-1],
                        f"detected: {i.brand}",
                        color="#2563eb",
                    )
                    for i in detected.incidents
                ],
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
        detected=detected,
        incident=incident,
        thread=thread,
        inbox=inbox,
        verdicts=verdicts,
        topics=discovered,
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


def _cluster_rows(inbox: Inbox) -> list[dict[str, Any]]:
    return [
        {
            "count": c.count,
            "unanswered": c.unanswered,
            "intent": c.intent if c.topic is None else f"{c.intent} · {c.topic}",
            "label": c.label,
            "draft": c.draft.text,
            "review": "; ".join(c.draft.review_reasons) if c.draft.needs_review else "",
        }
        for c in inbox.clusters
    ]


def _response_line(inbox: Inbox) -> str:
    r = inbox.response

    def minutes(seconds: float | None) -> str:
        return f"{seconds / 60:.0f} min" if seconds is not None else "n/a"

    return (
        f"{inbox.mentions:,} mentions, {inbox.needing_reply:,} needing a reply in "
        f"{inbox.clusters_total:,} clusters; first replies: median "
        f"{minutes(r.median_first_reply_s)}, p90 {minutes(r.p90_first_reply_s)}."
    )


def _voice_verdicts(
    store: Store, linter: Linter, brand: str
) -> list[tuple[str, tuple[Finding, ...]]]:
    """The brand's own status posts (not its replies) and what the linter says of each."""
    verdicts = []
    for row in own_posts(store, brand, limit=500).to_pylist():
        if row["reply_to_id"] is not None:
            continue
        # Each sent post is one piece of a thread, so the whole-update facts check
        # (what, who, what to do, next update) does not apply to it on its own.
        findings = tuple(linter.lint(row["text"], kind="reply"))
        verdicts.append((row["text"], findings))
    return verdicts
