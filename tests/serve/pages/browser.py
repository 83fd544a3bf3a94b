"""Serving the dashboard on loopback for a real browser (uvicorn on a thread; the browser
is the ``browser`` fixture of tests/conftest.py)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Page

from uproar.serve import accounts, create_app
from uproar.store import Store

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "serve"


def add_users(db: Path) -> None:
    """alice may approve replies (responder); victor may only look (viewer)."""
    now = datetime.now(UTC)
    with Store(db) as store:
        accounts.add_user(store, "alice", PASSWORD, role="responder", now=now)
        accounts.add_user(store, "victor", PASSWORD, role="viewer", now=now)


@contextmanager
def serving(db: Path) -> Iterator[str]:
    """The dashboard over ``db`` on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(db), log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def log_in(browser: Browser, base: str, name: str, *, width: int = 1366) -> Page:
    """A new page logged in as ``name``; console errors (a CSP refusal among them) and
    alerts are collected on ``page.problems``."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    # The Incident page builds the report's chapter (seconds on a busy machine).
    page.set_default_navigation_timeout(90_000)
    page.set_default_timeout(60_000)
    problems: list[str] = []
    # A failed load is reported once, with its URL, by the response handler; the browser's
    # own favicon request is no page's.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.problems = problems  # type: ignore[attr-defined]
    page.goto(f"{base}/login?next=/now")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/now"))
    return page


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
