"""``--engine`` and ``--master``: where a batch command runs (this process, or Spark)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from uproar.cli.common import choice
from uproar.errors import InputError

ENGINES = ("embedded", "spark")
EngineOption = choice(
    "embedded",
    "--engine",
    choices=ENGINES,
    help="Run here (embedded) or on Apache Spark (needs uproar[spark] and Java 17).",
    show_default=True,
)
MasterOption = typer.Option(
    None,
    "--master",
    metavar="URL",
    help="Spark master: local[N] (default local[2]), spark://HOST:7077, yarn, k8s://URL.",
)

ParquetOption = typer.Option(
    None,
    "--parquet",
    metavar="DIR",
    help="Read posts in place from a Parquet folder (uproar export / ingest --parquet-out) "
    "instead of a store.",
)


@contextmanager
def engine(name: str, master: str | None) -> Iterator[Any]:
    """A SparkSession for ``--engine spark`` (one per command), or None for embedded."""
    if name != "spark":
        if master is not None:
            raise InputError("--master goes with --engine spark", field="--master")
        yield None
        return
    from uproar.spark import spark_session

    with spark_session(master) as spark:
        yield spark
