"""Listen commands: ``ingest`` archives; see what is stored with ``posts`` and ``stats``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from uproar.cli.app import app
from uproar.cli.common import (
    BrandsOption,
    DbOption,
    JsonOption,
    SinceOption,
    UntilOption,
    brands_for,
    byte_progress,
    choice,
    creating_store,
    open_store,
    settings,
    window,
)
from uproar.cli.engine import EngineOption, MasterOption, ParquetOption
from uproar.cli.engine import engine as engine_session
from uproar.cli.output import console, emit_json, stdout
from uproar.config import load_brands
from uproar.errors import InputError, NothingStoredError
from uproar.pipeline import ingest_enrichers
from uproar.quarantine import verdict
from uproar.sources import FORMATS, Ingestor
from uproar.sources.csv_format import load_columns, mapping_help
from uproar.sources.ingestor import IngestResult
from uproar.sources.parquet_out import ParquetIngestor
from uproar.store.parquet import open_parquet


@app.command(
    epilog="""Examples:

  uproar ingest tweets.jsonl --brands brands.toml

  uproar ingest archive/*.jsonl.gz --db incident.duckdb --json

  uproar ingest export.csv --format csv --map text=Message --map created_at=Posted

  uproar ingest archive/*.jsonl --parquet-out posts/ --brands brands.toml

  uproar ingest archive/*.jsonl --db big.duckdb --engine spark --master local[4]

CSV fields for --map FIELD=COLUMN, and column names recognised without one:

"""
    + "\n\n".join(mapping_help().splitlines())
)
def ingest(
    paths: list[Path] = typer.Argument(..., help="Archive files (.jsonl, .json, .csv, .gz)."),
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
    format: str = choice(
        "auto", "--format", choices=FORMATS, help="Input format.", show_default=True
    ),
    mapping: list[str] = typer.Option(
        [],
        "--map",
        metavar="FIELD=COLUMN",
        help="CSV column mapping (repeatable); FIELD is one of "
        + ", ".join(load_columns().fields)
        + ".",
    ),
    classify: bool = typer.Option(
        True, "--classify/--no-classify", help="Label posts as they are stored."
    ),
    model: str | None = choice(
        None, "--model", choices=("fast", "accurate"), help="Classifier path (env UPROAR_MODEL)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", metavar="N", help="Posts per transaction (env UPROAR_BATCH_SIZE)."
    ),
    parquet_out: Path | None = typer.Option(
        None,
        "--parquet-out",
        metavar="DIR",
        help="Write posts and labels to this Parquet folder (as `uproar export` lays it out) "
        "instead of a store; quarantine goes to DIR.quarantine.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="With --parquet-out: replace what the folder holds."
    ),
    engine: str = EngineOption,
    master: str | None = MasterOption,
    json: bool = JsonOption,
) -> None:
    """Ingest X (v2, v1.1, twarc), Mastodon, Bluesky Jetstream or CSV archives into the store.

    Idempotent on (platform, id); bad lines are quarantined with file, line and reason.

    The store is created if need be, and removed again if the run fails before storing anything.

    Exits 2 when every record read was quarantined.
    """
    bad = [m for m in mapping if "=" not in m]
    if bad:
        raise InputError(f"--map expects FIELD=COLUMN, got {bad[0]!r}", field="--map")
    csv_mapping = dict(m.split("=", 1) for m in mapping)
    run = settings(db=db, brands=brands, model=model, batch_size=batch_size)
    if parquet_out is not None and db is not None:
        raise InputError("--parquet-out writes Parquet instead of a store: drop --db")
    enrichers = ingest_enrichers(model=run.model) if classify else ()
    total = sum(p.stat().st_size for p in paths if p.is_file())
    with engine_session(engine, master) as spark:
        if parquet_out is not None:
            brand_table = load_brands(run.brands) if run.brands is not None else {}
            if not brand_table and not json:
                console.print("[yellow]no brands configured: posts are stored unmatched[/]")
            out = ParquetIngestor(
                parquet_out, brand_table, batch_size=run.batch_size, enrichers=enrichers,
                csv_mapping=csv_mapping, overwrite=overwrite,
            )  # fmt: skip
            with out.store:
                result = _run(out, spark, paths, format, total, quiet=json)
                out.finish(result)
                reasons = out.quarantine_reasons() if result.quarantined else []
        else:
            with creating_store(db) as store:
                brand_table = brands_for(store, brands)
                if not brand_table and not json:
                    console.print("[yellow]no brands configured: posts are stored unmatched[/]")
                ingestor = Ingestor(
                    store, brand_table, batch_size=run.batch_size, enrichers=enrichers,
                    csv_mapping=csv_mapping,
                )  # fmt: skip
                result = _run(ingestor, spark, paths, format, total, quiet=json)
                reasons = (
                    store.quarantine_reasons([str(p) for p in paths]) if result.quarantined else []
                )
    judged = verdict(
        read=result.read,
        stored=result.stored,
        duplicates=result.duplicates,
        quarantined=result.quarantined,
        reasons=reasons,
        files={str(k): v for k, v in result.files.items()},
        forced_format=format,
    )
    if judged.level == "error":
        raise NothingStoredError(judged.message, counts=result.as_dict())
    if json:
        emit_json({**result.as_dict(), **({"warning": judged.message} if judged.message else {})})
        return
    table = Table(title="ingest", show_header=True)
    for column in ("read", "stored", "duplicates", "quarantined", "skipped"):
        table.add_column(column, justify="right")
    table.add_row(
        *(f"{v:,}" for v in (result.read, result.stored, result.duplicates,
                             result.quarantined, result.skipped))
    )  # fmt: skip
    stdout.print(table)
    for message in result.errors[:10]:
        console.print(Text("quarantined: " + message, style="yellow"))
    if judged.level == "warn":
        console.print(Text("warning: " + judged.message, style="bold yellow"))


def _run(
    ingestor: Ingestor, spark: Any, paths: list[Path], format: str, total: int, *, quiet: bool
) -> IngestResult:
    """One ingest run, here or on Spark, with a progress bar over the bytes written."""
    with byte_progress("ingest", total, quiet=quiet) as bar:
        task = bar.task_ids[0]

        def advance(n: int) -> None:
            bar.advance(task, n)

        if spark is None:
            return ingestor.ingest(paths, format=format, progress=advance)
        from uproar.spark.ingest import spark_ingest

        # tasks leave their chunks beside the output: storage a cluster's machines share
        beside = (
            ingestor.folder.parent
            if isinstance(ingestor, ParquetIngestor)
            else Path(ingestor.store.path).resolve().parent
        )
        return spark_ingest(spark, ingestor, paths, format=format, progress=advance, staging=beside)


@app.command(
    epilog="""Examples:

  uproar posts --brand kiwinet --since 2014-09-06T08:00 --until 2014-09-06T09:00

  uproar posts --db incident.duckdb --limit 5 --json
"""
)
def posts(
    db: Path | None = DbOption,
    brand: str | None = typer.Option(None, "--brand", help="Only posts about this brand id."),
    since: str | None = SinceOption,
    until: str | None = UntilOption,
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many posts."),
    json: bool = JsonOption,
) -> None:
    """Show stored posts in time order."""
    start, end = window(since, until)
    with open_store(db, read_only=True) as store:
        if brand is not None:
            store.require_brand(brand)
        found = store.posts(brand=brand, since=start, until=end, limit=limit)
    if json:
        emit_json([{k: getattr(p, k) for k in p.__slots__ if k != "raw"} for p in found])
        return
    table = Table(show_lines=False)
    for column in ("time (UTC)", "platform", "author", "brands", "text"):
        table.add_column(column, overflow="fold")
    for p in found:
        table.add_row(
            p.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            p.platform,
            Text("@" + (p.author_handle or p.author_id)),
            ",".join(p.brands) + (f" (own: {p.own_brand})" if p.own_brand else ""),
            Text(p.text),  # Text(): post text is never read as Rich markup
        )
    stdout.print(table)


@app.command(
    epilog="""Examples:

  uproar stats

  uproar stats --db incident.duckdb --json

  uproar stats --parquet posts/
"""
)
def stats(
    db: Path | None = DbOption, parquet: Path | None = ParquetOption, json: bool = JsonOption
) -> None:
    """Counts of what is stored: per platform, brand, region and day, and quarantine reasons."""
    with open_store(db, read_only=True) if parquet is None else open_parquet(parquet) as store:
        figures = store.stats()
    if json:
        emit_json(figures)
        return
    stdout.print(f"[bold]{figures['posts']:,}[/] posts, {figures['first']} → {figures['last']}")
    for title, key in (("platform", "platforms"), ("brand", "brands"), ("region", "regions"),
                       ("own posts", "own_posts"), ("quarantine", "quarantine")):  # fmt: skip
        if figures[key]:
            table = Table(title=title)
            table.add_column(title)
            table.add_column("posts", justify="right")
            for name, n in figures[key].items():
                table.add_row(Text(str(name)), f"{n:,}")
            stdout.print(table)
    if figures["coverage"]:
        table = Table(title="coverage (from the last `uproar detect`; never incidents)")
        for col in ("brand", "change", "since (UTC)", "until (UTC)"):
            table.add_column(col)
        for c in figures["coverage"]:
            table.add_row(
                Text(c["brand"]),
                "collection began" if c["kind"] == "start" else "gap",
                f"{c['since']:%Y-%m-%d %H:%M}",
                f"{c['until']:%Y-%m-%d %H:%M}" if c["until"] else "",
            )
        stdout.print(table)
    if figures["days"]:
        table = Table(title="per day")
        table.add_column("day")
        table.add_column("posts", justify="right")
        for row in figures["days"]:
            table.add_row(row["day"], f"{row['posts']:,}")
        stdout.print(table)
