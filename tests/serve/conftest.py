"""A dashboard to test: a store with ordinary and hostile posts, three accounts, and a real
uvicorn server on loopback in a thread (httpx talks to it over TCP)."""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from uproar.config import load_brands
from uproar.pipeline import ingest_enrichers
from uproar.serve import accounts, create_app
from uproar.serve.accounts import LoginLimiter
from uproar.sources import ingest
from uproar.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2014, 9, 6, 12, tzinfo=UTC)
PASSWORD = "correct horse battery"
# (role, account)
ACCOUNTS = {"admin": "ann", "responder": "rob", "viewer": "vic"}
HOSTILE_TEXT = "<script>alert(1)</script> KiwiNet broadband is down again"
HOSTILE_AUTHOR = '"><img src=x onerror=alert(1)>'
HOSTILE_LINK = "javascript:alert(1)"
ORDINARY = 120  # more than two pages of results


@dataclass(frozen=True, slots=True)
class Dashboard:
    url: str
    app: FastAPI
    db: Path
    tokens: dict[str, str]  # account -> API token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """``app`` served by uvicorn on a loopback port, in a thread, for a ``with`` block."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def write_posts(path: Path) -> None:
    """Ordinary complaints about KiwiNet, one post per minute, then the hostile ones."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "created_at", "text", "username", "urls"])
        for i in range(ORDINARY):
            text = f"KiwiNet broadband down again, no internet since {i} minutes"
            if i % 10 == 0:
                text += " 100% offline"
            at = datetime(2014, 9, 6, 10) + timedelta(minutes=i)
            out.writerow([f"p{i}", f"{at:%Y-%m-%d %H:%M:%S}", text, f"user{i}", ""])
        link = f"{HOSTILE_LINK} https://example.org/status"
        out.writerow(["h1", "2014-09-06 12:30:00", HOSTILE_TEXT, HOSTILE_AUTHOR, link])
        text = 'KiwiNet "><img src=x onerror=alert(2)> click'
        out.writerow(["h2", "2014-09-06 12:31:00", text, "mallory", HOSTILE_LINK])


def make_store(folder: Path) -> Path:
    posts = folder / "posts.csv"
    write_posts(posts)
    brands = load_brands(FIXTURES / "brands.toml")
    db = folder / "uproar.duckdb"
    with Store(db) as store:
        store.save_brands(brands)
        result = ingest([posts], store, brands, enrichers=ingest_enrichers())
        assert result.stored == ORDINARY + 2, result
        for role, name in ACCOUNTS.items():
            accounts.add_user(store, name, PASSWORD, role=role, now=NOW)
    return db


@pytest.fixture(scope="session")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def dashboard(store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The dashboard over a copy of the store (tests change accounts), its login throttle
    out of the way (test_login_limit has its own)."""
    folder = tmp_path_factory.mktemp("dash")
    db = folder / "uproar.duckdb"
    db.write_bytes(store_file.read_bytes())
    watch = folder / "watch.toml"
    watch.write_text(
        '[[alerts.channels]]\nname = "ops-slack"\nurl = "slack://T000/B000/SECRETTOKEN/#ops"\n'
        'min_severity = "high"\nbrands = ["kiwinet"]\n'
    )
    tokens: dict[str, str] = {}
    with Store(db) as store:
        for name in ACCOUNTS.values():
            tokens[name] = accounts.new_token(store, name, label="tests", now=NOW)
    app = create_app(
        db, config=watch, clock=lambda: NOW, login_limiter=LoginLimiter(failures=10_000)
    )
    with Served(app) as served:
        yield Dashboard(served.url, app, db, tokens)


META_CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]*)">')


def csrf_of(html: str) -> str:
    found = META_CSRF.search(html)
    assert found, "the page has no csrf-token meta tag"
    return found.group(1)


class Clients:
    """httpx clients for a test, closed after it."""

    def __init__(self) -> None:
        self._made: list[httpx.Client] = []

    def new(self, url: str, *, html: bool = True) -> httpx.Client:
        headers = {"accept": "text/html"} if html else {}
        client = httpx.Client(base_url=url, headers=headers, timeout=30)
        self._made.append(client)
        return client

    def log_in(self, url: str, name: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
        """A browser-like client logged in as ``name``, and its CSRF token."""
        client = self.new(url)
        page = client.get("/login")
        assert page.status_code == 200
        answer = client.post(
            "/login",
            data={"name": name, "password": password, "csrf_token": csrf_of(page.text)},
        )
        assert answer.status_code == 303, answer.text
        return client, csrf_of(client.get("/settings").text)

    def close(self) -> None:
        for client in self._made:
            client.close()


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    yield made
    made.close()


@contextmanager
def running(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """An ``uproar`` command in its own process, stopped with SIGTERM afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uproar.cli", *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
