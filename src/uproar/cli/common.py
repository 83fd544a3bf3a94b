"""Helpers shared by CLI commands: option types, opening the store, brands, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from uproar.config import Brand, load_brands, setting
from uproar.errors import InputError
from uproar.store import Store
from uproar.times import parse_time_arg

DbOption = typer.Option(None, "--db", help="DuckDB store file (default uproar.duckdb).")
BrandsOption = typer.Option(
    None, "--brands", help="Brands TOML file; saved in the store for later commands."
)
JsonOption = typer.Option(False, "--json", help="Print JSON instead of tables.")


def db_path(db: Path | None) -> Path:
    return Path(setting("db", db))


def open_store(db: Path | None, *, read_only: bool = False) -> Store:
    path = db_path(db)
    if read_only and not path.exists():
        raise InputError("no such store; run `uproar ingest` first", file=str(path))
    return Store(path, read_only=read_only, memory_limit=setting("memory_limit"))


def brands_for(store: Store, brands_file: Path | None) -> dict[str, Brand]:
    """Brands from the file (remembered in the store) or, without one, from the store."""
    path = setting("brands", brands_file)
    if path is not None:
        brands = load_brands(path)
        store.save_brands(brands)
        return brands
    return store.load_brands()


def time_arg(value: str | None, name: str) -> datetime | None:
    return parse_time_arg(value, name) if value else None


@contextmanager
def byte_progress(description: str, total: int, *, quiet: bool) -> Iterator[Progress]:
    """A Rich progress bar over bytes read, on stderr; silent when ``quiet``."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, disable=quiet) as progress:
        progress.add_task(description, total=total)
        yield progress
