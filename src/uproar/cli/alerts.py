"""``uproar alerts test``: send a test alert to each channel of watch.toml's [alerts]."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from uproar.alerts import check_channels, load_alerts
from uproar.cli.app import app
from uproar.cli.common import JsonOption
from uproar.cli.output import ERROR_STATUS, console, emit_json, stdout

alerts_app = typer.Typer(help="Alert channels (Slack, Teams, Discord, e-mail, webhooks).")
app.add_typer(alerts_app, name="alerts")


@alerts_app.command(
    "test",
    epilog="""Examples:

  uproar alerts test --config watch.toml

  uproar alerts test --config watch.toml --channel ops-slack
""",
)
def test(
    config: Path = typer.Option(
        ...,
        "--config",
        metavar="FILE",
        help="watch.toml, whose \\[alerts] table lists the channels.",
    ),
    channel: str | None = typer.Option(
        None, "--channel", metavar="NAME", help="Only this channel (its name in watch.toml)."
    ),
    json: bool = JsonOption,
) -> None:
    """Send a test alert to every channel (or one) and say which got through. Exit status 2
    when any channel failed; channel URLs are shown with their secrets masked."""
    alerts = load_alerts(config)
    results = check_channels(alerts, now=datetime.now(UTC), channel=channel)
    failed = [r for r in results if not r.ok]
    if json:
        emit_json(
            {
                "ok": not failed,
                "channels": [
                    {"channel": r.channel, "url": r.url, "ok": r.ok, "error": r.error}
                    for r in results
                ],
            }
        )
    else:
        for r in results:
            if r.ok:
                stdout.print(
                    f"[green]sent[/]    {escape(r.channel)}  {escape(r.url)}", highlight=False
                )
            else:
                console.print(
                    f"[bold red]FAILED[/]  {escape(r.channel)}  {escape(r.url)}: "
                    f"{escape(r.error or 'no reason given')}",
                    highlight=False,
                    soft_wrap=True,
                )
        if failed:
            console.print(
                f"[bold red]error:[/] {len(failed)} of {len(results)} channel(s) failed",
                highlight=False,
            )
    if failed:
        raise typer.Exit(ERROR_STATUS)
