"""``uproar demo``: the main job end to end on embedded defaults."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from uproar.cli.app import app
from uproar.cli.output import console, stdout
from uproar.demo import STEPS, DemoResult, after_true_onset, rumour_keys, run_demo
from uproar.report import sparkline


@app.command(
    epilog="""Examples:

  uproar demo

  uproar demo --out /tmp/uproar-demo --seed 7

  uproar demo --serve
"""
)
def demo(
    out: Path = typer.Option(
        Path("uproar-demo"),
        "--out",
        help="Folder for the demo's files; a store there that the demo did not make is refused.",
    ),
    seed: int = typer.Option(2014, "--seed", help="Simulation seed."),
    serve: bool = typer.Option(
        False,
        "--serve",
        help="Then open the dashboard on the demo's store (admin password shown once).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="With --serve: address to serve on."),
    port: int = typer.Option(8788, "--port", help="With --serve: port to serve on."),
) -> None:
    """Simulate the 2014 ISP incident, ingest it, run every stage, write the HTML report."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("demo", total=len(STEPS))

        def step(name: str) -> None:
            done = STEPS.index(name) if name in STEPS else 0
            bar.update(task, description=f"demo: {name}", completed=done)

        result = run_demo(out, seed=seed, step=step)
    show(result)
    if serve:
        serve_demo(result.db, host=host, port=port)


def serve_demo(db: Path, *, host: str, port: int) -> None:
    """Give the demo's store an admin with a one-time password, then serve it."""
    from datetime import UTC, datetime

    from uproar.cli.serve import run_server
    from uproar.serve.server import demo_admin
    from uproar.store import Store

    with Store.opened(db) as store:
        password = demo_admin(store, now=datetime.now(UTC))
    stdout.print(
        f"\n[bold]Dashboard[/]: log in as [bold]admin[/] with password [bold]{password}[/] "
        "(shown once; `uproar users add` makes more accounts)"
    )
    run_server(db, host=host, port=port, config=None)


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
    show_incidents(result)
    show_topics(result)
    show_response(result)
    stdout.print(f"report → [bold]{result.report}[/]")


def show_incidents(result: DemoResult) -> None:
    table = Table(title="Detected incidents")
    for column in (
        "brand",
        "scope",
        "severity",
        "detected",
        "after onset",
        "posts",
        "topics",
        "bait link",
    ):
        table.add_column(column)
    for i in result.detected.incidents:
        table.add_row(
            Text(i.brand),
            i.scope,
            i.severity,
            f"{i.detected_at:%d %b %H:%M}",
            after_true_onset(i, result.truth) or "—",
            f"{i.posts:,}",
            Text(", ".join(i.topics[:4])),
            Text(rumour_keys(i) or "—"),
        )
    stdout.print(table)
    for rumour in result.detected.rumours:
        stdout.print(
            Text(
                f"rumour: {rumour.kind} {rumour.key!r} spreading in {rumour.brand}'s mentions "
                f"since {rumour.first_seen:%d %b %H:%M} ({rumour.authors} authors)",
                style="yellow",
            )
        )


def show_topics(result: DemoResult) -> None:
    if result.topics:
        stdout.print("\n[bold]Topics found in the incident's posts[/]")
        for topic in result.topics:
            stdout.print(Text(f"  {topic.size:5,}  {topic.label}"))


def show_response(result: DemoResult) -> None:
    thread = result.thread
    stdout.print(f"\n[bold]Status thread for X[/] ({len(thread.posts)} posts)")
    for post in thread.posts:
        stdout.print(Text(f"  {post.text}  [{post.length}/{thread.limit}]"))
    if result.inbox is not None:
        stdout.print(f"\n[bold]Reply inbox[/] — top {len(result.inbox.clusters)} clusters")
        for c in result.inbox.clusters:
            about = c.intent if c.topic is None else f"{c.intent} · {c.topic}"
            stdout.print(Text(f"  {c.count} × {about} ({c.unanswered} unanswered): {c.label}"))
            review = " [second review]" if c.draft.needs_review else ""
            stdout.print(Text(f"    draft: {c.draft.text}{review}", style="green"))
    flagged = [(text, f) for text, f in result.verdicts if f]
    stdout.print(
        f"\n[bold]Brand voice check[/]: {len(result.verdicts) - len(flagged)} of "
        f"{len(result.verdicts)} own status posts clean"
    )
    for text, findings in flagged[:5]:
        stdout.print(Text(f"  {text}"))
        for f in findings:
            stdout.print(
                Text(
                    f"    {f.severity} {f.rule} ({f.category}): {f.message}",
                    style="red" if f.severity == "error" else "yellow",
                )
            )
