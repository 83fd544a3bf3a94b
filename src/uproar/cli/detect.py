"""Detect commands: ``detect`` incidents in the store or a count series; ``signal`` split by
region or topic; ``eval detect``."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from uproar.cli.app import app, eval_app
from uproar.cli.common import (
    BrandsOption,
    DbOption,
    JsonOption,
    SinceOption,
    UntilOption,
    brands_for,
    choice,
    open_store,
    settings,
    window,
)
from uproar.cli.engine import EngineOption, MasterOption, ParquetOption
from uproar.cli.engine import engine as engine_session
from uproar.cli.output import console, emit_json, stdout
from uproar.detect import incident_dict
from uproar.detect.batch import BREAKDOWNS, DetectResult, breakdown, detect_store
from uproar.detect.series import detect_series
from uproar.errors import InputError
from uproar.eval.detect import EvalReport, ScenarioScore, evaluate, scenario_files
from uproar.spark.detect import spark_detect
from uproar.store.parquet import open_parquet


@app.command(
    epilog="""Examples:

  uproar detect --db incident.duckdb --brands brands.toml

  uproar detect --db incident.duckdb --since 2014-09-06T00:00Z --until 2014-09-08 --json

  uproar detect --series volume.csv --json

  uproar detect --db big.duckdb --engine spark --master spark://head:7077

  uproar detect --parquet posts/ --brands brands.toml
"""
)
def detect(
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
    since: str | None = SinceOption,
    until: str | None = UntilOption,
    series: Path | None = typer.Option(
        None,
        "--series",
        metavar="FILE",
        help="A timestamp,value CSV: counts or any numeric metric, row by row.",
    ),
    hourly: bool = typer.Option(
        True,
        "--hourly/--minutes-only",
        help="Judge hourly bins beside the minutes (storms, slow crises, sampled streams).",
    ),
    parquet: Path | None = ParquetOption,
    engine: str = EngineOption,
    master: str | None = MasterOption,
    json: bool = JsonOption,
) -> None:
    """Find outages and crises: volume over each brand's seasonal baseline, with scope
    (brand or industry), regions, topics, newly frequent terms and bait-link rumours.

    Incidents are stored in the `incidents` table (replacing earlier runs over the same
    window; with --parquet they are only printed). Times are UTC. With --engine spark each
    family of peer brands is judged in its own Spark task, with the same results.
    """
    start, end = window(since, until)
    if parquet is not None and brands is None and settings(brands=None).brands is None:
        raise InputError("a Parquet folder keeps no brands: pass --brands FILE", field="--parquet")
    if series is not None:
        result = detect_series(series)
    else:
        with (
            open_store(db) if parquet is None else open_parquet(parquet) as store,
            engine_session(engine, master) as spark,
        ):
            run = (
                detect_store
                if spark is None
                else partial(spark_detect, spark, staging=_beside(store.path))
            )
            result = run(
                store,
                brands=brands_for(store, brands) or None,
                since=start,
                until=end,
                hourly=hourly,
            )
    if json:
        emit_json([incident_dict(i) for i in result.incidents])
        return
    _render(result)


@app.command(
    epilog="""Examples:

  uproar signal --brand kiwinet --by region

  uproar signal --db storm.duckdb --brand wekamobile --by topic --step 60 --since 2014-10-25T06:00Z

  uproar signal --brand kiwinet --json
"""
)
def signal(
    brand: str = typer.Option(..., "--brand", help="The brand's id."),
    by: str = choice("region", "--by", choices=BREAKDOWNS, help="Split by region or topic."),
    step: int = typer.Option(15, "--step", min=1, help="Minutes per row."),
    db: Path | None = DbOption,
    since: str | None = SinceOption,
    until: str | None = UntilOption,
    top: int = typer.Option(6, "--top", min=1, help="Keys shown as columns (not in --json)."),
    json: bool = JsonOption,
) -> None:
    """The detector's complaint signal for one brand, split by region or topic: where an
    outage is and what it is about, bucket by bucket. --json gives every row: time, key,
    mentions, complaints, authors and signal (fresh complaints, the detector's count)."""
    start, end = window(since, until)
    with open_store(db, read_only=True) as store:
        store.require_brand(brand)
        table = breakdown(
            store, brand=brand, by=by, step=timedelta(minutes=step), since=start, until=end
        )
    rows = table.to_pylist()
    if json:
        emit_json(rows)
        return
    if not rows:
        stdout.print(Text(f"No mentions of {brand!r} in the store for that window."))
        return
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["key"]] = totals.get(r["key"], 0) + r["complaints"]
    keys = sorted(totals, key=lambda k: (-totals[k], k))[:top]
    grid: dict[Any, dict[str, int]] = {}
    marks: dict[Any, str] = {}
    for r in rows:
        grid.setdefault(r["time"], {})[r["key"]] = r["complaints"]
        if r["coverage"]:
            marks[r["time"]] = r["coverage"]
    out = Table(title=f"{brand}: complaints per {step} min by {by} (top {len(keys)})")
    out.add_column("time (UTC)")
    for key in keys:
        out.add_column(Text(key), justify="right")
    if marks:
        out.add_column("coverage")
    for time, counts in grid.items():
        cells = [f"{counts.get(k, 0):,}" for k in keys]
        if marks:
            cells.append(_COVERAGE_NOTE.get(marks.get(time, ""), marks.get(time, "")))
        out.add_row(f"{time:%Y-%m-%d %H:%M}", *cells)
    stdout.print(out)


# How a coverage change reads beside the signal (never a surge: see uproar.detect.detector)
_COVERAGE_NOTE = {"start": "collection began", "gap": "back after a gap"}


def _beside(path: str) -> Path | None:
    """Where Spark's staging goes: beside the store (storage a cluster's machines share)."""
    return None if path == ":memory:" else Path(path).resolve().parent


def _minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _render(result: DetectResult) -> None:
    table = Table(
        title=f"{len(result.incidents)} incident(s), UTC (ids for `uproar inbox --incident`)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    widest = max((len(i.id) for i in result.incidents), default=2)
    table.add_column("id", no_wrap=True, min_width=widest)
    for col in ("start", "detected", "lasted", "severity", "scope", "posts", "authors"):
        table.add_column(col, justify="right" if col in ("posts", "authors") else "left")
    for i in result.incidents:
        scope: str = i.scope
        if i.peers:
            scope += ": " + ", ".join(str(p["brand"]) for p in i.peers)
        if i.phases:
            scope += f" ({len(i.phases)} phases)"
        table.add_row(
            Text(i.id),
            f"{i.start:%m-%d %H:%M}",
            f"+{_minutes((i.detected_at - i.start).total_seconds())}",
            _minutes((i.end - i.start).total_seconds()) if i.end else "open",
            i.severity,
            Text(scope),
            f"{i.posts:,}",
            f"{i.authors:,}",
        )
    stdout.print(table)
    for i in result.incidents:
        bait = ", ".join(str(r.get("domain") or "copypasta") for r in i.rumours)
        details = (
            ("regions", ", ".join(i.regions)),
            ("topics", ", ".join(i.topics)),
            ("terms", ", ".join(i.terms[:5])),
            ("rumours", bait),
        )
        stdout.print(Text(f"{i.id}: " + "; ".join(f"{k} {v}" for k, v in details if v)))
    for r in result.rumours:
        stdout.print(
            Text(
                f"rumour: {r.brand} {r.kind} {r.key!r} first seen {r.first_seen:%Y-%m-%d %H:%M}, "
                f"{r.authors} authors, {r.posts} posts"
            )
        )
    # a brand's first mention is where its collection began: worth a line only where it
    # began later than the others' (a jump from nothing that is not a surge), or stopped
    first = min((c.since for c in result.coverage), default=None)
    for c in result.coverage:
        if c.kind == "start" and first is not None and c.since - first < timedelta(hours=1):
            continue
        if c.kind == "gap" and c.until is not None:
            what = f"no mentions {c.since:%Y-%m-%d %H:%M} .. {c.until:%Y-%m-%d %H:%M}"
        else:
            what = f"collection began {c.since:%Y-%m-%d %H:%M}"
        stdout.print(Text(f"coverage: {c.brand} {what} (not an incident)"))


@eval_app.command(
    "detect",
    epilog="""Examples:

  uproar eval detect suite

  uproar eval detect src/uproar/eval/scenarios/sharp-outage-day.toml --seed 7

  uproar eval detect suite --scale 0.5 --json --no-check

  uproar eval detect suite --seeds 4 --jobs 2

  uproar eval detect suite --seeds 4 --seed-offset 4 --jobs 2
""",
)
def eval_detect(
    target: str = typer.Argument(
        "suite",
        help="A scenario file, a folder of them, a shipped name, 'suite', or 'open' "
        "(shapes not yet found reliably).",
    ),
    scale: float = typer.Option(1.0, "--scale", help="Multiply every scenario's rates."),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: each scenario's)."),
    seeds: int = typer.Option(
        1, "--seeds", min=1, help="Run each scenario on this many seeds and pool the scores."
    ),
    seed_offset: int = typer.Option(
        0, "--seed-offset", min=0, help="Start each scenario this many seeds after its own."
    ),
    jobs: int = typer.Option(1, "--jobs", min=1, help="Scenarios run at once (processes)."),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Exit 1 when a target is missed (CI gate)."
    ),
    json: bool = JsonOption,
) -> None:
    """Simulate scenarios with ground truth, detect, and print precision, recall, latency,
    false alarms per brand-week, scope accuracy and rumour detection against the targets,
    then latency by onset class (sharp/slow, day/night) beside two floors: the latency of an
    oracle that knows the true onset, with Poisson counts and with the simulator's own noise
    (NB floor; see uproar.eval.detect).

    Example: uproar eval detect suite --seeds 4 --seed-offset 4 --jobs 2

    Exit status 1 when a target is missed.
    """
    files = scenario_files(target)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("eval detect", total=len(files) * seeds)

        def finished(score: ScenarioScore, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"eval detect: {score.scenario}")

        report = evaluate(
            files,
            seed=seed,
            seeds=seeds,
            seed_offset=seed_offset,
            scale=scale,
            jobs=jobs,
            progress=finished,
        )
    if json:
        emit_json(report.as_dict())
    else:
        _render_eval(report)
    if check and not all(report.passed().values()):
        raise typer.Exit(1)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _render_eval(report: EvalReport) -> None:
    d = report.as_dict()
    per = Table(title="detect evaluation (minutes: true onset to first alert)", show_header=True)
    per.add_column("scenario", no_wrap=True)
    for col in ("seed", "found", "false", "minutes", "scope", "rumours"):
        per.add_column(col)
    for s in d["scenarios"]:
        per.add_row(
            s["scenario"],
            str(s["seed"]),
            f"{s['found'] + s['peers_found']}/{s['events'] + s['peer_events']}",
            str(s["false_alarms"]),
            ", ".join(f"{x:.1f}" for x in s["latencies_min"]),
            f"{s['scope_right']}/{s['scope_checked']}",
            f"{s['rumours_found']}/{s['rumours']}",
        )
    stdout.print(per)
    tot = Table(title="totals", show_header=True)
    for col in ("metric", "value", "target", "met"):
        tot.add_column(col)
    passed = d["passed"]
    for key, value in d["totals"].items():
        target = d["targets"].get(key)
        tot.add_row(
            key,
            _fmt(value),
            f"{target['op']} {target['bound']}" if target else "",
            ("yes" if passed[key] else "NO") if key in passed else "",
        )
    stdout.print(tot)
    onset = Table(
        title="latency by onset (minutes, median / p90; floors: known-onset oracles, "
        "Poisson and with the counts' noise)",
        show_header=True,
    )
    cols = ("onset", "events", "found", "latency", "floor", "met", "nb floor", "met")
    for col in cols:
        onset.add_column(col)

    def pair(row: dict[str, Any], name: str) -> str:
        median, p90 = row[f"{name}_median_min"], row[f"{name}_p90_min"]
        return "-" if median is None else f"{median:.1f} / {p90:.1f}"

    def met(row: dict[str, Any], suffix: str) -> str:
        checks = [
            v
            for k, v in passed.items()
            if k.startswith("latency_") and row["onset"] in k and k.endswith(suffix)
        ]
        return ("yes" if all(checks) else "NO") if checks else ""

    for row in d["latency_by_onset"]:
        onset.add_row(
            row["onset"],
            str(row["events"]),
            str(row["found"]),
            pair(row, "latency"),
            pair(row, "floor"),
            met(row, "x floor"),
            pair(row, "nb_floor"),
            met(row, "x nb floor"),
        )
    stdout.print(onset)
