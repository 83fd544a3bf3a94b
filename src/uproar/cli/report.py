"""``uproar report``: the post-incident report of any stored incident, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path

import typer

from uproar.cli.app import app
from uproar.cli.common import DbOption, JsonOption, open_store, window
from uproar.cli.output import console, emit_json, stdout
from uproar.report import build_report, write_report
from uproar.times import zone


@app.command(
    epilog="""Examples:

  uproar report --db uproar.duckdb --out report.html

  uproar report --brand kiwinet --tz Pacific/Auckland --out kiwinet.pdf

  uproar report --incident kiwinet-20140905-1902 --out incident.html
"""
)
def report(
    out: Path = typer.Option(..., "--out", help="The report's file: .html or .pdf."),
    db: Path | None = DbOption,
    brand: str | None = typer.Option(None, "--brand", help="Only this brand (and its peers)."),
    incident: str | None = typer.Option(
        None, "--incident", help="One incident by id (as `uproar detect` lists them)."
    ),
    since: str | None = typer.Option(None, "--since", help="Start of the window (ISO 8601)."),
    until: str | None = typer.Option(None, "--until", help="End of the window (exclusive)."),
    tz: str = typer.Option(
        "UTC", "--tz", help="Time zone the report writes times in (IANA, e.g. Pacific/Auckland)."
    ),
    themes: bool = typer.Option(
        True, "--themes/--no-themes", help="Look for themes in the posts (the slowest part)."
    ),
    json: bool = JsonOption,
) -> None:
    """Write a post-incident report: summary, timeline, volume against its usual range and
    peers, response times, topics, sentiment, regions, rumours, the brand's own posts with
    linter verdicts, the inbox and lessons. All brands and the whole stored span unless
    --brand, --incident or --since/--until narrow it."""
    start, end = window(since, until)
    # A large incident takes tens of seconds: say what is happening, on stderr.
    with console.status("reading the store", spinner="dots") as status:
        with open_store(db, read_only=True) as store:
            built = build_report(
                store, brand=brand, incident=incident, since=start, until=end, tz=zone(tz),
                themes=themes,
            )  # fmt: skip
        status.update(f"writing {out.suffix.lstrip('.').upper() or 'the report'}")
        path = write_report(built, out)
    if json:
        emit_json(
            {
                "ok": True,
                "out": str(path),
                "incidents": [i.id for i in built.incidents],
                "chapters": [c.incident.id for c in built.chapters],
            }
        )
    else:
        stdout.print(
            f"{len(built.incidents)} incident(s), {len(built.chapters)} in depth → [bold]{path}[/]"
        )
