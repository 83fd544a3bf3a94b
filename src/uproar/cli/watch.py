"""``uproar watch``: every listener of a ``watch.toml`` into one store, detecting as it goes.

SIGTERM and SIGINT stop it cleanly (what is received is written, a last detection pass
runs, the store is checkpointed); SIGKILL loses nothing that was committed, and a restart
carries on from the saved cursors.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import typer

from uproar.bus import MemberLimits, parse_bus_url
from uproar.cli.app import app
from uproar.cli.bus import run_member
from uproar.cli.common import DbOption, JsonOption, open_store
from uproar.cli.output import console, emit_json, stdout
from uproar.config import load_brands, setting
from uproar.errors import ConfigError
from uproar.pipeline import ingest_enrichers
from uproar.watch.config import load_watch
from uproar.watch.runner import WatchRun, run_watch


@app.command(
    epilog="""Examples:

  uproar watch --db team.duckdb --config watch.toml

  X_BEARER_TOKEN=... uproar watch --db team.duckdb --config watch.toml --max-seconds 3600 --json
""",
)
def watch(
    config: Path = typer.Option(
        ..., "--config", metavar="FILE", help="watch.toml: the brands file and the listeners."
    ),
    db: Path | None = DbOption,
    max_seconds: float | None = typer.Option(
        None, "--max-seconds", help="Stop after this many seconds (default: run until stopped)."
    ),
    bus: str | None = typer.Option(
        None,
        "--bus",
        metavar="URL",
        help="Consume this stream as one member of --group instead (see `uproar bus consume`).",
    ),
    stores: Path | None = typer.Option(
        None, "--stores", metavar="DIR", help="With --bus: the group's partition stores."
    ),
    group: str = typer.Option("uproar", "--group", help="With --bus: the consumer group."),
    json: bool = JsonOption,
) -> None:
    """Run every listener in watch.toml (Bluesky Jetstream, Mastodon, RSS/Atom feeds, the X
    filtered stream, the HTTP endpoint) into one store, and the streaming detector over what
    is stored every few seconds. Lag (event to stored, event to detected, p50/p99) is printed
    on stderr and kept in DB.watch.json and the watch_status table."""
    watch_config = load_watch(config)
    if bus is not None:
        _member(bus, stores, group, watch_config.brands, max_seconds, json)
        return
    # The models load before the store is opened: a dashboard already serving the store
    # (`uproar serve`) lends it to the watch, and should not wait on the models for it.
    enrichers = ingest_enrichers(model=setting("model", None))
    with open_store(db) as store:
        # Say at once that this process lends the file between commits (before the writer's
        # first turn), so that a dashboard asking for it waits rather than failing.
        while not store.available():
            time.sleep(0.02)
        if watch_config.brands is not None:
            brands = load_brands(watch_config.brands)
            store.save_brands(brands)
        else:
            brands = store.load_brands()

        def show(status: dict[str, Any]) -> None:
            console.print(_line(status), highlight=False, soft_wrap=True)

        async def main() -> WatchRun:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            try:
                return await run_watch(
                    watch_config,
                    store,
                    brands,
                    enrichers=enrichers,
                    stop=stop,
                    max_seconds=max_seconds,
                    on_status=show,
                )
            finally:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)

        result = asyncio.run(main())
    if json:
        emit_json(result.status)
    else:
        stdout.print(_line(result.status), highlight=False, soft_wrap=True)


def _member(
    bus: str,
    stores: Path | None,
    group: str,
    brands: Path | None,
    seconds: float | None,
    json: bool,
) -> None:
    """``--bus``: one member of a group, as ``uproar bus consume`` (the same function)."""
    if stores is None:
        raise ConfigError("--bus needs --stores DIR: the folder of the group's partition stores")
    if brands is None:
        raise ConfigError("--bus needs the brands file named in watch.toml (brands = ...)")
    totals = run_member(
        parse_bus_url(bus),
        stores=stores,
        group=group,
        brands=load_brands(brands),
        member=None,
        limits=MemberLimits(max_seconds=seconds),
    )
    if json:
        emit_json(totals.as_dict())
    else:
        stdout.print(", ".join(f"{k} {v}" for k, v in totals.as_dict().items()))


def _line(status: dict[str, Any]) -> str:
    def lag(key: str) -> str:
        figures = status.get(key) or {}
        if not figures.get("count"):
            return "-"
        return f"p50 {figures['p50']:.3f} s, p99 {figures['p99']:.3f} s"

    return (
        f"watch: {status.get('stored', 0):,} stored, {status.get('quarantined', 0):,} "
        f"quarantined, {status.get('pending', 0):,} pending; lag to stored {lag('lag_stored_s')}"
        f"; to detected {lag('lag_detected_s')}; peak RSS {status.get('peak_rss_mb', 0):.0f} MB"
    )
