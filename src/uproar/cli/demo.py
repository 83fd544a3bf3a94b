"""``uproar demo``: the main job end to end on embedded defaults."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from uproar.cli.app import app
from uproar.cli.output import console, stdout
from uproar.demo import DemoResult, run_demo
from uproar.report import sparkline


@app.command(
    epilog="""Examples:

  uproar demo

  uproar demo --out /tmp/uproar-demo --seed 7
"""
)
def demo(
    out: Path = typer.Option(Path("uproar-demo"), "--out", help="Folder for the demo's files."),
    seed: int = typer.Option(2014, "--seed", help="Simulation seed."),
) -> None:
    """Simulate the 2014 ISP incident, ingest it, run every stage, write the HTML report."""
    with console.status("starting") as status:
        result = run_demo(out, seed=seed, step=lambda name: status.update(f"[bold]{name}…"))
    show(result)


def show(result: DemoResult) -> None:
    stdout.print(
        f"[bold]{result.ingest.stored:,}[/] posts stored from {result.posts:,} simulated "
        f"([yellow]{result.ingest.quarantined}[/] quarantined) → {result.db}"
    )
    timeline = result.timeline
    hours = len(timeline.hours)
    per_cell = max(1, -(-hours // max(20, stdout.width - 40)))  # hours per character
    table = Table(title=f"Customer mentions, {per_cell}h per character (▔ marks the true incident)")
    table.add_column("brand")
    table.add_column("posts", justify="right")
    table.add_column("peak/h", justify="right")
    table.add_column(
        f"{timeline.hours[0]:%d %b %H:%M} → {timeline.hours[-1]:%d %b %H:%M} UTC"
        if timeline.hours
        else "timeline"
    )
    for brand, counts in timeline.counts.items():
        cells = [sum(counts[i : i + per_cell]) for i in range(0, hours, per_cell)]
        hits = timeline.incident_hours[brand]
        marks = "".join(
            "▔" if any(hits[i : i + per_cell]) else " " for i in range(0, hours, per_cell)
        )
        name = result.brands[brand].name if brand in result.brands else brand
        table.add_row(
            Text(name),
            f"{sum(counts):,}",
            f"{max(counts):,}",
            Text(sparkline(cells) + "\n" + marks, no_wrap=True),
        )
    stdout.print(table)
    stdout.print(f"report → [bold]{result.report}[/]")
