"""``uproar bus``: publish posts to a partitioned stream (NATS JetStream or Kafka), consume it
as one member of a group into per-partition stores, and check those stores together."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import typer

from uproar.bus import MemberLimits, check_stores, consume, parse_bus_url, publish_files
from uproar.bus.address import BusAddress
from uproar.bus.member import MemberTotals
from uproar.bus.publish import publish_lines
from uproar.cli.app import app
from uproar.cli.common import JsonOption, choice, settings
from uproar.cli.output import emit_json, stdout
from uproar.config import Brand, load_brands
from uproar.errors import ConfigError
from uproar.pipeline import ingest_enrichers
from uproar.sources.ingestor import FORMATS

bus_app = typer.Typer(help="Live streams across machines: a partitioned log and a group.")
app.add_typer(bus_app, name="bus")

BusOption = typer.Option(
    ...,
    "--bus",
    metavar="URL",
    envvar="UPROAR_BUS",
    help="nats://HOST:PORT/STREAM?partitions=N or kafka://HOST:PORT/TOPIC?partitions=N",
)
StoresOption = typer.Option(
    ..., "--stores", metavar="DIR", help="Folder of the group's partition stores."
)
BrandsRequired = typer.Option(None, "--brands", metavar="FILE", help="Brands TOML file.")


def _brands(path: Path | None) -> dict[str, Brand]:
    chosen = settings(brands=path).brands  # flag > UPROAR_BRANDS > uproar.toml
    if chosen is None:
        raise ConfigError(
            "--brands FILE is needed: posts are routed by brand (publish) and detected per "
            "brand (consume); e.g. the brands.toml your listeners use"
        )
    return load_brands(Path(chosen))


def _address(url: str) -> BusAddress:
    return parse_bus_url(url)


@bus_app.command(
    "publish",
    epilog="""Examples:

  uproar bus publish mentions.jsonl --bus nats://127.0.0.1:4222/uproar-posts --brands brands.toml

  uproar bus publish archive/*.jsonl.gz --bus kafka://broker:9092/uproar-posts?partitions=32

  websocat $JETSTREAM | uproar bus publish - --format bluesky --bus nats://n1:4222 --brands b.toml
""",
)
def publish(
    paths: list[Path] = typer.Argument(
        ..., help="Files in any archive format, or - for JSON Lines on stdin (with --format)."
    ),
    bus: str = BusOption,
    brands: Path | None = BrandsRequired,
    format: str = choice("auto", "--format", choices=FORMATS, help="Input format."),
    json: bool = JsonOption,
) -> None:
    """Parse files and publish their posts, keyed by brand, to the stream (nothing is
    stored here: the group's members store them)."""
    if [str(p) for p in paths] == ["-"]:  # a live source piped in
        totals = asyncio.run(
            publish_lines(_address(bus), sys.stdin.buffer, brands=_brands(brands), format=format)
        )
    else:
        totals = asyncio.run(
            publish_files(_address(bus), paths, brands=_brands(brands), format=format)
        )
    if json:
        emit_json(totals.as_dict())
    else:
        stdout.print(", ".join(f"{k} {v:,}" for k, v in totals.as_dict().items()))


@bus_app.command(
    "consume",
    epilog="""Examples:

  uproar bus consume --bus nats://127.0.0.1:4222/uproar-posts --stores /shared/uproar \\
      --group watchers --brands brands.toml

  uproar bus consume --bus kafka://broker:9092/uproar-posts --stores /shared/uproar \\
      --group watchers --brands brands.toml --max-idle 60 --json
""",
)
def consume_command(
    bus: str = BusOption,
    stores: Path = StoresOption,
    group: str = typer.Option("uproar", "--group", help="Consumer group name."),
    brands: Path | None = BrandsRequired,
    member: str | None = typer.Option(None, "--member", help="This member's name (unique)."),
    lease: float = typer.Option(
        MemberLimits().lease, "--lease", help="Seconds before a dead member's partitions move."
    ),
    max_seconds: float | None = typer.Option(
        None, "--max-seconds", help="Stop after this many seconds."
    ),
    max_idle: float | None = typer.Option(
        None, "--max-idle", help="Stop after this many seconds without a message."
    ),
    detect: bool = typer.Option(
        True, "--detect/--no-detect", help="Detect incidents when the stream goes quiet."
    ),
    json: bool = JsonOption,
) -> None:
    """Consume the stream as one member of a group: each owned partition is written to its
    own store (DIR/partition-<p>.duckdb), acknowledged after the store's commit, and its
    brands' incidents detected when the stream goes quiet. SIGTERM stops it cleanly."""
    totals = run_member(
        _address(bus),
        stores=stores,
        group=group,
        brands=_brands(brands),
        member=member,
        limits=MemberLimits(lease=lease, max_seconds=max_seconds, max_idle=max_idle, detect=detect),
    )
    if json:
        emit_json(totals.as_dict())
    else:
        stdout.print(", ".join(f"{k} {v}" for k, v in totals.as_dict().items()))


def run_member(
    address: BusAddress,
    *,
    stores: Path,
    group: str,
    brands: dict[str, Brand],
    member: str | None,
    limits: MemberLimits,
) -> MemberTotals:
    """One member until a limit or SIGTERM/SIGINT (``uproar watch --bus`` runs the same)."""
    s = settings()
    enrichers = ingest_enrichers(model=s.model)

    async def main() -> MemberTotals:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await consume(
                address, stores=stores, group=group, brands=brands, enrichers=enrichers,
                limits=limits, member=member, stop=stop, memory_limit=s.memory_limit,
            )  # fmt: skip
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())


@bus_app.command(
    "check",
    epilog="""Examples:

  uproar bus check --stores /shared/uproar --json
""",
)
def check(
    stores: Path = StoresOption,
    stream: str | None = typer.Option(None, "--stream", help="Also show this stream's cursors."),
    json: bool = JsonOption,
) -> None:
    """Count a group's partition stores together: posts (each should be stored once),
    quarantined records and incidents (each should be reported once)."""
    result = check_stores(stores, stream=stream)
    out = result.as_dict()
    if stream is not None:
        out["cursors"] = {str(k): v for k, v in sorted(result.cursors.items())}
    if json:
        emit_json(out)
    else:
        stdout.print(", ".join(f"{k} {v}" for k, v in out.items()))
