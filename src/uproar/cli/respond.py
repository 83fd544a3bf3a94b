"""Respond commands: ``thread`` writes the status thread, ``inbox`` ranks who needs a reply."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from uproar.cli.app import app
from uproar.cli.common import JsonOption
from uproar.cli.output import emit_json, stdout
from uproar.config import setting
from uproar.respond.lint import load_profile
from uproar.respond.platforms import PLATFORMS
from uproar.respond.thread import compose_thread, load_facts

ProfileOption = typer.Option(
    None, "--profile", help="Brand voice profile (TOML) [env UPROAR_PROFILE]."
)


@app.command(
    epilog="""Examples:

  uproar thread kiwinet-update1.toml --platform x

  uproar thread kiwinet-update2.toml --platform mastodon --previous 3 --json

  uproar thread facts.toml --platform bluesky --profile acme-voice.toml
"""
)
def thread(
    facts: Path = typer.Argument(..., help="Incident facts (TOML): brand, what, who, do, ..."),
    platform: str = typer.Option(
        "x", "--platform", "-p", help=f"Where it is posted: {'|'.join(PLATFORMS)}."
    ),
    previous: int | None = typer.Option(
        None, "--previous", help="Posts already in the thread (numbering continues after them)."
    ),
    profile: Path | None = ProfileOption,
    json: bool = JsonOption,
) -> None:
    """Write a numbered status thread that fits the platform's exact length rules.

    Every post passes the voice linter; --json prints {"platform", "posts": [{"text",
    "length"}]} with each length as the platform counts it.
    """
    profile_path = setting("profile", profile)
    result = compose_thread(
        load_facts(facts),
        platform,
        profile=load_profile(profile_path) if profile_path else None,
        previous=previous,
    )
    if json:
        emit_json(result.to_dict())
        return
    table = Table(title=f"{platform} thread", show_header=True, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("post")
    table.add_column("length", justify="right")
    for post in result.posts:
        notes = "".join(f"\n[dim]{f.severity}: {escape(f.message)}[/]" for f in post.findings)
        table.add_row(str(post.number), escape(post.text) + notes, f"{post.length}/{result.limit}")
    stdout.print(table)
