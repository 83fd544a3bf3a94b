"""Helpers shared by CLI commands: option types, settings, opening the store, brands,
time windows, progress bars."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from uproar.cli import clicklib as click
from uproar.cli.app import JSON_KEY
from uproar.config import Brand, Settings, load_brands
from uproar.store import Store
from uproar.times import parse_window


def _remember_json(ctx: click.Context, value: bool) -> bool:
    """Note --json where the error handler looks for it (before any other option fails)."""
    ctx.meta[JSON_KEY] = bool(value) or bool(ctx.meta.get(JSON_KEY))
    return value


DbOption = typer.Option(
    None, "--db", metavar="FILE", help="DuckDB store file (default uproar.duckdb)."
)
BrandsOption = typer.Option(
    None,
    "--brands",
    metavar="FILE",
    help="Brands TOML file; saved in the store for later commands.",
)
JsonOption = typer.Option(
    False, "--json", is_eager=True, callback=_remember_json, help="Print JSON instead of tables."
)
SinceOption = typer.Option(
    None, "--since", metavar="TIME", help="From this UTC time, inclusive (ISO 8601)."
)
UntilOption = typer.Option(
    None, "--until", metavar="TIME", help="Up to this UTC time, exclusive (ISO 8601)."
)


def choice(
    default: Any,
    *decls: str,
    choices: Sequence[str],
    help: str,
    json_value: str | None = None,
    **kw: Any,
) -> Any:
    """A ``typer.Option`` taking one of ``choices`` in any case (``--platform X`` is ``x``);
    the help shows them as ``a|b|c``. Choosing ``json_value`` (``--format json``) makes
    errors print as JSON, as ``--json`` does."""

    def normalise(ctx: click.Context, value: str | None) -> str | None:
        if value is None:
            return None
        for c in choices:
            if value.lower() == c.lower():
                if json_value is not None and c == json_value:
                    ctx.meta[JSON_KEY] = True
                return c
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")

    metavar = "|".join(choices)
    if len(metavar) > 24:  # a long list reads better in the help text than in its column
        metavar = decls[0].lstrip("-").upper()
        help = f"{help} One of: {', '.join(choices)} (any case)."
    return typer.Option(default, *decls, help=help, metavar=metavar, callback=normalise, **kw)


def settings(**flags: object) -> Settings:
    """The settings for this run (flag > UPROAR_* > uproar.toml > default), resolved once
    and kept on the root context, with this command's flags (None: not given) on top."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, Settings):
        base = root.obj
    else:
        base = Settings.resolve()
        if root is not None:
            root.obj = base
    return base.with_flags(**flags)


# The commands that write posts: only they create a store that does not exist yet.
CREATING_COMMANDS = ("ingest", "listen", "watch")


def open_store(db: Path | None, *, read_only: bool = False, create: bool | None = None) -> Store:
    """The store named by --db (or UPROAR_DB). Only the commands that write posts (ingest,
    listen: ``create`` None means "if this is one of them") create a missing file; for the
    others it is an error that says how to make one, never a new empty store that answers
    "0 incidents"."""
    s = settings(db=db)
    if create is None:
        ctx = click.get_current_context(silent=True)
        root = ctx.find_root() if ctx is not None else None
        create = root is not None and root.invoked_subcommand in CREATING_COMMANDS
    return Store(s.db, read_only=read_only, create=create, memory_limit=s.memory_limit)


@contextmanager
def creating_store(db: Path | None) -> Iterator[Store]:
    """A store for ingest: created when missing, and deleted again if the command fails
    before anything was stored or quarantined."""
    s = settings(db=db)
    with Store.opened(s.db, create=True, memory_limit=s.memory_limit) as store:
        yield store


def brands_for(store: Store, brands_file: Path | None) -> dict[str, Brand]:
    """Brands from the file (remembered in the store) or, without one, from the store."""
    path = settings(brands=brands_file).brands
    if path is not None:
        brands = load_brands(path)
        store.save_brands(brands)
        return brands
    return store.load_brands()


def window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """--since and --until as UTC times; a window that ends before it starts is an error."""
    return parse_window(since, until)


@contextmanager
def byte_progress(description: str, total: int, *, quiet: bool) -> Iterator[Progress]:
    """A Rich progress bar over bytes read, on stderr; silent when ``quiet``."""
    from uproar.cli.output import console

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
        progress.add_task(description, total=total)
        yield progress


def time_arg(value: str | None, name: str) -> datetime | None:
    """One time flag (``--now``) as UTC, or None."""
    from uproar.times import parse_time_arg

    return parse_time_arg(value, name) if value else None
