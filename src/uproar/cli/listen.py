"""``uproar listen``: follow live streams (Mastodon, Bluesky Jetstream) or serve an HTTP
ingest endpoint, writing into the store as posts arrive.

SIGTERM and SIGINT stop a listener cleanly: what it holds is written, the store is
checkpointed and closed (the ``.duckdb`` file alone then has every post), exit status 0.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import uvicorn

from uproar.cli.app import app
from uproar.cli.common import BrandsOption, DbOption, JsonOption, brands_for, open_store
from uproar.cli.output import console, emit_json, stdout
from uproar.config import setting
from uproar.pipeline import ingest_enrichers
from uproar.sources import Ingestor
from uproar.sources.http_endpoint import (
    EndpointLimits,
    IngestApp,
    require_token_off_loopback,
    server_config,
)
from uproar.sources.live import LiveTotals, StreamLimits, listen_jetstream, listen_mastodon
from uproar.store import Store

listen_app = typer.Typer(help="Follow live streams into the store as posts arrive.")
app.add_typer(listen_app, name="listen")

JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
MaxMessages = typer.Option(None, "--max-messages", help="Stop after this many messages.")
MaxSeconds = typer.Option(None, "--max-seconds", help="Stop after this many seconds.")


def _ingestor(store: Store, brands: Path | None) -> Ingestor:
    enrichers = ingest_enrichers(model=setting("model", None))
    return Ingestor(store, brands_for(store, brands), enrichers=enrichers)


def _until_signalled(follow: Callable[[asyncio.Event], Awaitable[LiveTotals]]) -> LiveTotals:
    """Run a stream until it ends or SIGTERM/SIGINT sets its stop event."""

    async def main() -> LiveTotals:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await follow(stop)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())


@contextmanager
def _quiet_after_shutdown() -> Iterator[None]:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again to
    the handler it found; a no-op one lets the store be closed and the command exit 0."""
    before = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _show(totals: LiveTotals, as_json: bool) -> None:
    if as_json:
        emit_json(totals.as_dict())
    else:
        stdout.print(", ".join(f"{k} {v:,}" for k, v in totals.as_dict().items()))


@listen_app.command(
    "mastodon",
    epilog="""Examples:

  uproar listen mastodon https://mastodon.social --tag kiwinet --brands brands.toml

  uproar listen mastodon https://mastodon.nz --token $TOKEN --max-seconds 3600 --json
""",
)
def mastodon(
    instance: str = typer.Argument(..., help="The instance's base URL, e.g. https://mastodon.nz"),
    token: str | None = typer.Option(
        None, "--token", envvar="MASTODON_TOKEN", help="Access token."
    ),
    stream: str = typer.Option("public", "--stream", help="public | public:local | user"),
    tag: str | None = typer.Option(None, "--tag", help="Follow one hashtag instead."),
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
    max_messages: int | None = MaxMessages,
    max_seconds: float | None = MaxSeconds,
    json: bool = JsonOption,
) -> None:
    """Follow a Mastodon instance's streaming API."""
    with open_store(db) as store:
        ingestor = _ingestor(store, brands)
        limits = StreamLimits(max_messages=max_messages, max_seconds=max_seconds)
        totals = _until_signalled(
            lambda stop: listen_mastodon(
                instance, ingestor, token=token, stream=stream, tag=tag, limits=limits, stop=stop
            )
        )
    _show(totals, json)


@listen_app.command(
    "bluesky",
    epilog="""Examples:

  uproar listen bluesky --brands brands.toml

  uproar listen bluesky --url wss://jetstream1.us-west.bsky.network/subscribe --max-seconds 600
""",
)
def bluesky(
    url: str = typer.Option(JETSTREAM, "--url", help="Jetstream subscribe URL."),
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
    max_messages: int | None = MaxMessages,
    max_seconds: float | None = MaxSeconds,
    json: bool = JsonOption,
) -> None:
    """Follow Bluesky posts from Jetstream, resuming from the last stored cursor."""
    with open_store(db) as store:
        ingestor = _ingestor(store, brands)
        limits = StreamLimits(max_messages=max_messages, max_seconds=max_seconds)
        totals = _until_signalled(
            lambda stop: listen_jetstream(url, ingestor, limits=limits, stop=stop)
        )
    _show(totals, json)


@listen_app.command(
    "http",
    epilog="""Examples:

  uproar listen http --port 8787 --brands brands.toml

  curl -X POST --data-binary @tweets.jsonl 'http://127.0.0.1:8787/v1/posts?format=x-v2'
""",
)
def http(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8787, "--port", help="Port to listen on."),
    token: str | None = typer.Option(
        None, "--token", envvar="UPROAR_INGEST_TOKEN", help="Require 'Authorization: Bearer TOKEN'."
    ),
    max_body: int = typer.Option(
        EndpointLimits().max_body, "--max-body", help="Largest request body, in bytes."
    ),
    max_connections: int = typer.Option(
        EndpointLimits().max_connections,
        "--max-connections",
        help="Open connections; past it the longest-idle one is closed.",
    ),
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
) -> None:
    """Serve POST /v1/posts: JSON, JSON arrays or JSON Lines in any archive format.

    Each request is committed whole before it is answered; concurrent requests share
    transactions. Without --token it listens on loopback only."""
    require_token_off_loopback(host, token)
    limits = EndpointLimits(
        max_body=max_body,
        max_connections=max_connections,
        max_held=max(EndpointLimits().max_held, max_body),
    )
    with open_store(db) as store:
        app = IngestApp(_ingestor(store, brands), token=token, limits=limits)
        server = uvicorn.Server(server_config(app, host=host, port=port))
        console.print(f"listening on http://{host}:{port}/v1/posts")
        try:
            with _quiet_after_shutdown():
                server.run()
        finally:
            app.close()
