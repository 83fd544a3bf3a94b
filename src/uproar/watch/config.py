"""``watch.toml``: what ``uproar watch`` listens to, declared once as msgspec types.

An unknown key is a loud error with a did-you-mean (``datafiles.decode``), like the brands
file. Secrets are never written in the file: a listener names the environment variable
that holds its token (``token_env``), and a token named but not set is an error at start.

    brands = "brands.toml"            # relative to this file

    [detect]
    every = 5.0                       # seconds between detection passes

    [[bluesky]]
    url = "wss://jetstream2.us-east.bsky.network/subscribe"

    [[mastodon]]
    instance = "https://mastodon.nz"
    tag = "kiwinet"

    [[rss]]
    url = "https://news.example/rss"
    every = 300

    [x]
    token_env = "X_BEARER_TOKEN"

    [http]
    port = 8787

    [alerts]                          # read by uproar.alerts
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import msgspec

from uproar.alerts import AlertsConfig, parse_alerts
from uproar.config import read_toml
from uproar.datafiles import decode
from uproar.errors import ConfigError

Seconds = Annotated[float, msgspec.Meta(gt=0, description="a number of seconds above 0")]
Url = Annotated[
    str, msgspec.Meta(pattern=r"^(https?|wss?)://\S+$", description="an http(s):// or ws(s):// URL")
]
EnvName = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="an environment variable")
]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535, description="a port number (1-65535)")]
Positive = Annotated[int, msgspec.Meta(ge=1, description="a whole number above 0")]

JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
# developer.x.com, "Filtered stream": GET /2/tweets/search/stream
X_STREAM = "https://api.x.com/2/tweets/search/stream"


class BlueskyListener(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    url: Url = JETSTREAM


class MastodonListener(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    instance: Url
    stream: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^(public|public:local|user)$", description="public, public:local or user"
        ),
    ] = "public"
    tag: str | None = None
    token_env: EnvName | None = None


class RssFeed(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    url: Url
    every: Seconds = 300.0  # seconds between polls
    platform: Annotated[
        str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]*$", description="a platform name like 'news'")
    ] = "news"


class XStream(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    url: Url = X_STREAM
    token_env: EnvName = "X_BEARER_TOKEN"
    # Pro and Enterprise access only: replay up to 5 minutes missed while disconnected.
    backfill_minutes: Annotated[int, msgspec.Meta(ge=0, le=5, description="0 to 5")] = 0


class HttpEndpoint(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8787
    token_env: EnvName | None = None


class DetectSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    every: Seconds = 5.0  # seconds between detection passes over newly stored posts
    signal: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^(fresh|fresh_complaint|weighted)$",
            description="fresh, fresh_complaint or weighted",
        ),
    ] = "fresh_complaint"


class LimitSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    # Records received but not yet committed, across every listener; past it listeners
    # stop reading (their TCP windows fill and the senders wait).
    max_pending: Positive = 50_000
    batch: Positive = 2_000  # records a stream listener hands the writer at once
    batch_wait: Seconds = 0.1  # or after this long
    status_every: Seconds = 10.0  # seconds between lag lines on stderr and the status file
    # Processes that decode, parse, match brands and label (the writer only writes and
    # detects: bench/watch.py); 0 parses on the writer thread.
    parse_workers: Annotated[
        int, msgspec.Meta(ge=0, le=64, description="a whole number from 0 to 64")
    ] = 2


class WatchFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    brands: str | None = None
    detect: DetectSettings = msgspec.field(default_factory=DetectSettings)
    limits: LimitSettings = msgspec.field(default_factory=LimitSettings)
    bluesky: tuple[BlueskyListener, ...] = ()
    mastodon: tuple[MastodonListener, ...] = ()
    rss: tuple[RssFeed, ...] = ()
    x: XStream | None = None
    http: HttpEndpoint | None = None
    # [alerts]: uproar.alerts declares and checks it (channels, quiet hours, URLs)
    alerts: AlertsConfig | None = None


class WatchConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A validated ``watch.toml``, with paths made absolute and tokens read."""

    source: str
    brands: Path | None
    file: WatchFile
    tokens: dict[str, str]  # token_env -> value, for the variables the file names
    alerts: AlertsConfig | None = None  # None: no [alerts] table, nothing is sent

    @property
    def listeners(self) -> int:
        f = self.file
        return (
            len(f.bluesky) + len(f.mastodon) + len(f.rss) + (f.x is not None) + (f.http is not None)
        )


def parse_watch(
    data: dict[str, Any], *, source: str, base: Path, env: dict[str, str] | None = None
) -> WatchConfig:
    """Validate a parsed ``watch.toml`` (``base``: the folder relative paths start from)."""
    env = dict(os.environ) if env is None else env
    file = decode(data, WatchFile, source=source)
    brands = None
    if file.brands is not None:
        brands = Path(file.brands).expanduser()
        brands = brands if brands.is_absolute() else base / brands
    named: list[tuple[str, str]] = [
        (f"mastodon[{i}].token_env", m.token_env)
        for i, m in enumerate(file.mastodon)
        if m.token_env
    ]
    if file.x is not None:
        named.append(("x.token_env", file.x.token_env))
    if file.http is not None and file.http.token_env:
        named.append(("http.token_env", file.http.token_env))
    tokens: dict[str, str] = {}
    for key, name in named:
        value = env.get(name, "").strip()
        if not value:
            raise ConfigError(
                f"{source}: {key} names ${name}, which is not set; export it before "
                "`uproar watch` (tokens never go in the file)",
                file=source,
                key=key,
            )
        tokens[name] = value
    alerts = parse_alerts(data, source=source) if file.alerts is not None else None
    config = WatchConfig(source=source, brands=brands, file=file, tokens=tokens, alerts=alerts)
    if config.listeners == 0:
        raise ConfigError(
            f"{source}: no listeners: add at least one of [[bluesky]], [[mastodon]], "
            "[[rss]], [x] or [http]",
            file=source,
        )
    return config


def load_watch(path: str | Path, *, env: dict[str, str] | None = None) -> WatchConfig:
    """Read and validate a ``watch.toml``."""
    path = Path(path)
    data = read_toml(path, what="watch config")
    return parse_watch(data, source=str(path), base=path.resolve().parent, env=env)
