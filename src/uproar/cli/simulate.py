"""The ``simulate`` command: write a scenario's posts as X API v2 JSONL plus ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from uproar.cli.app import app
from uproar.cli.common import JsonOption
from uproar.cli.output import console, emit_json, stdout
from uproar.simulate import load_scenario, shipped_scenarios, simulate


@app.command(
    "simulate",
    epilog=f"""Examples:

  uproar simulate isp-2014 --out isp.jsonl

  uproar simulate my-scenario.toml --out out/run.jsonl.gz --seed 7 --json

  uproar simulate isp-2014 --out big.jsonl.gz --scale 45   # about a million posts

Shipped scenarios: {", ".join(shipped_scenarios())}. Beside FILE it writes
<stem>.truth.json (the planted incidents, rumours and floods) and <stem>.brands.toml.
""",
)
def simulate_command(
    scenario: str = typer.Argument(..., help="Scenario TOML file, or a shipped scenario's name."),
    out: Path = typer.Option(..., "--out", help="Output JSONL file (.gz: gzip)."),
    seed: int | None = typer.Option(
        None, "--seed", help="Random seed (default: the scenario's own)."
    ),
    scale: float = typer.Option(1.0, "--scale", help="Multiply every rate (benchmarks)."),
    json: bool = JsonOption,
) -> None:
    """Simulate brand mentions with planted incidents; same seed, same bytes."""
    spec = load_scenario(scenario)
    columns = (
        TextColumn("[bold]simulate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("posts"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=json) as bar:
        task = bar.add_task("simulate", total=None)
        result = simulate(
            spec,
            out,
            seed=spec.seed if seed is None else seed,
            scale=scale,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if json:
        emit_json(result.summary())
        return
    truth = result.truth
    table = Table(title=f"simulate {truth['scenario']} (seed {truth['seed']})")
    table.add_column("incident")
    table.add_column("brand")
    table.add_column("onset")
    table.add_column("end")
    table.add_column("scope")
    for inc in truth["incidents"]:
        cells = (inc["id"], inc["brand"], inc["onset"], inc["end"], inc["scope"])
        table.add_row(*(Text(str(c)) for c in cells))
    stdout.print(table)
    stdout.print(
        f"{result.posts:,} posts -> {result.out}\ntruth -> {result.truth_path}\n"
        f"brands -> {result.brands_path}",
        highlight=False,
        markup=False,
    )
