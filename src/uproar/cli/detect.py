"""Detect commands: ``detect`` incidents in the store or a count series; ``signal`` split by
region or topic; ``eval detect``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from uproar.cli.app import app, eval_app
from uproar.cli.common import BrandsOption, DbOption, JsonOption, brands_for, open_store, time_arg
from uproar.cli.output import console, emit_json, stdout
from uproar.detect import incident_dict
from uproar.detect.batch import BREAKDOWNS, DetectResult, breakdown, detect_series, detect_store
from uproar.eval.detect import EvalReport, ScenarioScore, evaluate, scenario_files


@app.command(
    epilog="""Examples:

  uproar detect --db incident.duckdb --brands brands.toml

  uproar detect --db incident.duckdb --since 2014-09-06T00:00Z --until 2014-09-08 --json

  uproar detect --series volume.csv --json
"""
)
def detect(
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
    since: str | None = typer.Option(None, "--since", help="Start of the window (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="End of the window (exclusive)."),
    series: Path | None = typer.Option(
        None, "--series", help="A timestamp,value CSV: one brand's volume at a regular interval."
    ),
    hourly: bool = typer.Option(
        False, "--hourly", help="Also judge hourly bins (storms, sampled streams)."
    ),
    json: bool = JsonOption,
) -> None:
    """Find outages and crises: volume over each brand's seasonal baseline, with scope
    (brand or industry), regions, topics, newly frequent terms and bait-link rumours.

    Incidents are stored in the `incidents` table (replacing earlier runs over the same
    window). Times are UTC.
    """
    if series is not None:
        result = detect_series(series)
    else:
        with open_store(db) as store:
            result = detect_store(
                store,
                brands=brands_for(store, brands) or None,
                since=time_arg(since, "--since"),
                until=time_arg(until, "--until"),
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
    by: str = typer.Option("region", "--by", help="Split by region or topic."),
    step: int = typer.Option(15, "--step", min=1, help="Minutes per row."),
    db: Path | None = DbOption,
    since: str | None = typer.Option(None, "--since", help="Start of the window (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="End of the window (exclusive)."),
    top: int = typer.Option(6, "--top", min=1, help="Keys shown as columns (not in --json)."),
    json: bool = JsonOption,
) -> None:
    """The detector's complaint signal for one brand, split by region or topic: where an
    outage is and what it is about, bucket by bucket. --json gives every row: time, key,
    mentions, complaints, authors and signal (fresh complaints, the detector's count)."""
    if by not in BREAKDOWNS:
        raise typer.BadParameter(f"must be one of {', '.join(BREAKDOWNS)}", param_hint="--by")
    with open_store(db, read_only=True) as store:
        table = breakdown(
            store,
            brand=brand,
            by=by,
            step=timedelta(minutes=step),
            since=time_arg(since, "--since"),
            until=time_arg(until, "--until"),
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
    for r in rows:
        grid.setdefault(r["time"], {})[r["key"]] = r["complaints"]
    out = Table(title=f"{brand}: complaints per {step} min by {by} (top {len(keys)})")
    out.add_column("time (UTC)")
    for key in keys:
        out.add_column(Text(key), justify="right")
    for time, counts in grid.items():
        out.add_row(f"{time:%Y-%m-%d %H:%M}", *(f"{counts.get(k, 0):,}" for k in keys))
    stdout.print(out)


def _when(t: datetime, ref: datetime, *, seconds: bool = False) -> str:
    """A time in a table: the clock alone on the day of ``ref``, else the date too."""
    clock = f"{t:%H:%M:%S}" if seconds else f"{t:%H:%M}"
    return clock if t.date() == ref.date() else f"{t:%Y-%m-%d} {clock}"


def _render(result: DetectResult) -> None:
    table = Table(title=f"{len(result.incidents)} incident(s)", show_header=True)
    for col in (
        "brand",
        "start",
        "detected",
        "end",
        "severity",
        "scope",
        "posts",
        "authors",
        "regions",
        "topics",
        "terms",
        "rumours",
    ):
        table.add_column(col)
    for i in result.incidents:
        bait = ", ".join(str(r.get("domain") or "copypasta") for r in i.rumours)
        scope: str = i.scope
        if i.peers:
            scope += ": " + ", ".join(str(p["brand"]) for p in i.peers)
        if i.phases:
            scope += f" ({len(i.phases)} phases)"
        table.add_row(
            Text(i.brand),
            f"{i.start:%Y-%m-%d %H:%M}",
            _when(i.detected_at, i.start, seconds=True),
            _when(i.end, i.start) if i.end else "open",
            i.severity,
            Text(scope),
            f"{i.posts:,}",
            f"{i.authors:,}",
            Text(", ".join(i.regions)),
            Text(", ".join(i.topics)),
            Text(", ".join(i.terms[:5])),
            Text(bait),
        )
    stdout.print(table)
    for r in result.rumours:
        stdout.print(
            Text(
                f"rumour: {r.brand} {r.kind} {r.key!r} first seen {r.first_seen:%Y-%m-%d %H:%M}, "
                f"{r.authors} authors, {r.posts} posts"
            )
        )


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
        "suite", help="A scenario file, a folder of them, a shipped name, or 'suite'."
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
    then latency by onset class (sharp/slow, day/night) beside its floor: the latency of an
    oracle that knows the true onset (see uproar.eval.detect).

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
    onset = Table(title="latency by onset (minutes; floor: known-onset oracle)", show_header=True)
    cols = ("onset", "events", "found", "median", "p90", "floor median", "floor p90", "met")
    for col in cols:
        onset.add_column(col)
    for row in d["latency_by_onset"]:
        met = [v for k, v in passed.items() if k.startswith("latency_") and row["onset"] in k]
        onset.add_row(
            row["onset"],
            str(row["events"]),
            str(row["found"]),
            _fmt(row["latency_median_min"]),
            _fmt(row["latency_p90_min"]),
            _fmt(row["floor_median_min"]),
            _fmt(row["floor_p90_min"]),
            ("yes" if all(met) else "NO") if met else "",
        )
    stdout.print(onset)
