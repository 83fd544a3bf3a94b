"""``uproar export``: the store's posts, with their labels, as Parquet for other engines."""

from __future__ import annotations

from pathlib import Path

import typer

from uproar.cli.app import app
from uproar.cli.common import DbOption, JsonOption, open_store
from uproar.cli.output import emit_json, stdout
from uproar.store.parquet import export_parquet


@app.command(
    epilog="""Examples:

  uproar export --db uproar.duckdb --parquet posts/

  duckdb -c "SELECT platform, count(*) FROM read_parquet('posts/**/*.parquet') GROUP BY 1"
"""
)
def export(
    parquet: Path = typer.Option(..., "--parquet", help="Folder to write (hive-partitioned)."),
    db: Path | None = DbOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace what the folder holds."),
    json: bool = JsonOption,
) -> None:
    """Write every stored post once, with its labels, as Parquet partitioned by platform and
    day (platform=x/day=2014-09-05/...), for Spark, DuckDB or pandas to read in place."""
    with open_store(db, read_only=True) as store:
        result = export_parquet(store, parquet, overwrite=overwrite)
    if json:
        emit_json({"ok": True, "folder": str(result.folder), "posts": result.posts,
                   "files": result.files})  # fmt: skip
    else:
        stdout.print(f"{result.posts:,} posts in {result.files} files → [bold]{result.folder}[/]")
