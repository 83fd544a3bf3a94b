"""``eval nab``: ``detect --series`` on the Numenta Anomaly Benchmark, beside the published
scoreboard."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from uproar.cli.app import eval_app
from uproar.cli.common import JsonOption
from uproar.cli.output import emit_json, stdout
from uproar.detect.nab import PROFILES, TARGETS, NabRun, evaluate_nab

DEFAULT_ROOT = Path("..") / "shared" / "data" / "nab"


@eval_app.command(
    "nab",
    epilog="""Examples:

  uproar eval nab ../shared/data/nab

  uproar eval nab ../shared/data/nab --category realTweets --json

  uproar eval nab ~/NAB --published ARTime
""",
)
def eval_nab(
    path: Path = typer.Argument(
        DEFAULT_ROOT, help="A NAB checkout: the folder holding data/, labels/ and config/."
    ),
    category: list[str] = typer.Option(
        [], "--category", help="Score only this category (repeatable), e.g. realTweets."
    ),
    profile: str = typer.Option("standard", "--profile", help=f"One of {', '.join(PROFILES)}."),
    published: str | None = typer.Option(
        None,
        "--published",
        help="Re-score this published detector's results/<name>/ instead (checks the scorer).",
    ),
    check: bool = typer.Option(
        False, "--check/--no-check", help="Exit 1 when a target is missed (CI gate)."
    ),
    json: bool = JsonOption,
) -> None:
    """Run `detect --series` on every NAB series at the default sensitivity (one setting
    for all series) and score the alerts with NAB's own scoring (a port of numenta/NAB's
    scorer): up to +1 per labelled window for an early alert, a cost per alert outside
    windows and per missed window, normalised so that never alerting scores 0 and a
    perfect detector 100. Prints each category beside the published scoreboard."""
    run = evaluate_nab(path, profile=profile, categories=category, published=published)
    if json:
        emit_json(run.as_dict())
    else:
        _render(run)
    if check and not all(run.passed().values()):
        raise typer.Exit(1)


def _render(run: NabRun) -> None:
    score = run.score
    table = Table(title=f"NAB, {score.profile} profile: {run.detector}", show_header=True)
    for col in ("category", "files", "windows", "alerts scored", "score", "target"):
        if col == "category":
            table.add_column(col, no_wrap=True)
        else:
            table.add_column(col, justify="right")
    files: dict[str, list[int]] = {}
    for f in score.files:
        files.setdefault(f.name.split("/", 1)[0], []).append(f.windows)
    files["all"] = [f.windows for f in score.files]
    for group, value in sorted(score.normalised.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        target = TARGETS.get(group) if group in run.passed() else None
        table.add_row(
            group,
            str(len(files[group])),
            str(sum(files[group])),
            f"{score.detections[group]:,}",
            f"{value:.1f}",
            "" if target is None else f">= {target:g} ({'met' if value >= target else 'NOT met'})",
        )
    stdout.print(table)
    stdout.print(f"{run.alerts:,} alerts raised (probationary rows included)")
    if run.published:
        board = Table(title="published scoreboard (whole corpus)", show_header=True)
        board.add_column("detector")
        board.add_column(score.profile, justify="right")
        rows = [(d, p[score.profile]) for d, p in run.published.items() if score.profile in p]
        if run.whole:
            rows.append((f"{run.detector} (this run)", score.normalised["all"]))
        for name, value in sorted(rows, key=lambda r: -r[1]):
            board.add_row(name, f"{value:.1f}")
        stdout.print(board)
