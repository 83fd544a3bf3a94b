"""Running the dashboard: the bind check and uvicorn's configuration."""

from __future__ import annotations

import ipaddress
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import uvicorn
from fastapi import FastAPI

from uproar.errors import ConfigError
from uproar.serve import accounts
from uproar.store import Store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8788


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def require_accounts_off_loopback(store: Store, host: str) -> None:
    """Refuse to serve beyond this machine while the store has no account (nobody could
    log in, and the refusal would be the only protection)."""
    if not is_loopback(host) and not accounts.has_accounts(store):
        raise ConfigError(
            f"--host {host} would serve the dashboard beyond this machine, and the store has no "
            f"accounts: add one first with `uproar users add NAME --role admin --db {store.path}`, "
            "or serve on 127.0.0.1"
        )


def demo_admin(store: Store, *, now: datetime, name: str = "admin") -> str:
    """(Re)create the demo's admin account with a new random password; return it (the one
    time it is shown)."""
    password = secrets.token_urlsafe(12)
    if accounts.user(store, name) is not None:
        accounts.remove_user(store, name)
    accounts.add_user(store, name, password, role="admin", now=now)
    accounts.audit(store, None, "user.add", name, {"role": "admin", "by": "uproar demo"}, now=now)
    return password


def server_config(app: FastAPI, *, host: str, port: int) -> uvicorn.Config:
    """How ``uproar serve`` runs ``app``. Forwarded headers (the https scheme that makes
    cookies Secure) are trusted from a proxy on this machine only, uvicorn's default."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_level="warning",
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


class Server(uvicorn.Server):
    """uvicorn's server, stopped by SIGINT or SIGTERM as a clean exit (status 0, like
    ``uproar listen``) rather than by re-raising the signal once it has shut down."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        before = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)
