"""``uproar listen``: follow live streams (Mastodon, Bluesky Jetstream) or serve an HTTP
ingest endpoint, writing into the store as posts arrive."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
import uvicorn

from uproar.cli.app import app
from uproar.cli.common import BrandsOption, DbOption, JsonOption, brands_for, open_store
from uproar.cli.output import console, emit_json, stdout
from uproar.config import setting
from uproar.pipeline import ingest_enrichers
from uproar.sources import Ingestor
from uproar.sources.http_endpoint import make_ingest_app
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
        totals = asyncio.run(
            listen_mastodon(instance, ingestor, token=token, stream=stream, tag=tag, limits=limits)
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
        totals = asyncio.run(listen_jetstream(url, ingestor, limits=limits))
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
    db: Path | None = DbOption,
    brands: Path | None = BrandsOption,
) -> None:
    """Serve POST /v1/posts: JSON, JSON arrays or JSON Lines in any archive format."""
    with open_store(db) as store:
        ingestor = _ingestor(store, brands)
        console.print(f"listening on http://{host}:{port}/v1/posts")
        uvicorn.run(
            make_ingest_app(ingestor, token=token), host=host, port=port, log_level="warning"
        )
