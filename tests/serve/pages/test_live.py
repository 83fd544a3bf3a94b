"""Watch an incident appear on Now: a local Jetstream-style server streams a scenario (quiet
mentions of @KiwiNet, then a surge of complaints), ``uproar watch`` stores and detects in its
own process, and the dashboard, reading the same store file, updates the open Now page over
server-sent events with no reload. Screenshots go to test-artifacts/serve/."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from websockets.asyncio.server import ServerConnection, serve

from uproar.config import load_brands
from uproar.store import Store
from watch.jetstream import BASE_US, Story, events  # tests/watch: the Jetstream-style story

from ..conftest import running
from .browser import add_users, log_in, serving, shot

pytestmark = pytest.mark.slow

BRANDS = """
[brands.kiwinet]
name = "KiwiNet"
handles = ["@KiwiNet"]
regions = ["NZ"]
"""
# 300 simulated minutes of ten mentions each, 40 extra complaints a minute from minute 240
# to 248 (tests/watch/jetstream.py): the quiet four hours teach the detector the usual rate.
STORY = Story()
RATE = 400.0  # events a second


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jetstream(story: Story, rate: float, surge: threading.Event) -> Iterator[str]:
    """tests/watch's Jetstream-style events, served on a loopback port from a thread: the
    quiet part at once, then the surge once ``surge`` is set (so the test sees the page
    before the incident, however slow the machine), and nothing after it (so the incident
    stays open: the story's quiet hour after the surge would close it in seconds)."""
    sequence = [e.decode() for e in events(story)]
    first_surge = story.spike_at * story.per_minute + 1  # event numbers start at 1
    end = story.spike_at + story.spike_for
    sequence = sequence[: sum(n for minute, n, _ in story.counts() if minute < end)]
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: dict[str, asyncio.Future[None]] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlparse(ws.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else BASE_US + 1
        started, sent = time.monotonic(), 0
        for n in range(max(1, cursor - BASE_US), len(sequence) + 1):
            if n == first_surge:
                while not surge.is_set():
                    await asyncio.sleep(0.05)
                started, sent = time.monotonic(), 0
            await ws.send(sequence[n - 1])
            sent += 1
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
        await ws.wait_closed()

    async def main() -> None:
        stop["future"] = loop.create_future()
        async with serve(handler, "127.0.0.1", port, max_queue=None):
            ready.set()
            await stop["future"]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30), "the Jetstream-style server did not start"
    try:
        yield f"ws://127.0.0.1:{port}/subscribe"
    finally:
        surge.set()
        loop.call_soon_threadsafe(stop["future"].set_result, None)
        thread.join(timeout=15)
        loop.close()


@contextmanager
def watching(db: Path, config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``uproar watch`` in its own process (it lends the file to the dashboard between
    commits); stopped with SIGTERM, as a service manager would."""
    command = ["watch", "--db", str(db), "--config", str(config), "--max-seconds", "120"]
    with running(command, log) as process:
        yield process


def test_an_incident_appears_on_now_while_watch_streams(browser: Browser, tmp_path: Path) -> None:
    brands_file = tmp_path / "brands.toml"
    brands_file.write_text(BRANDS)
    db = tmp_path / "team.duckdb"
    with Store(db) as store:
        store.save_brands(load_brands(brands_file))
    add_users(db)
    log = tmp_path / "watch.log"
    surge = threading.Event()
    with jetstream(STORY, RATE, surge) as url:
        config = tmp_path / "watch.toml"
        config.write_text(
            f'brands = "brands.toml"\n[detect]\nevery = 1.0\n[[bluesky]]\nurl = "{url}"\n'
        )
        with watching(db, config, log) as process:
            # The watch holds the file and lends it between commits (it says so with a
            # mark beside it); the dashboard, started after it, borrows it per request.
            mark = Path(f"{db}.lends.{process.pid}")
            deadline = time.monotonic() + 60
            while not mark.exists():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            with serving(db) as base:
                problems = _watch_it_open(browser, base, process, log, surge)
    assert problems == [], "\n".join(problems)
    with Store(db, read_only=True) as store:
        rows = store.connection.execute(
            "SELECT id, severity FROM incidents WHERE brand = $b", {"b": "kiwinet"}
        ).fetchall()
    assert len(rows) == 1


def _watch_it_open(
    browser: Browser,
    base: str,
    process: subprocess.Popen[bytes],
    log: Path,
    surge: threading.Event,
) -> list[str]:
    """On the open Now page, see the incident appear (no reload); returns the page's
    console problems."""
    page = log_in(browser, base, "alice")
    try:
        deadline = time.monotonic() + 30
        while True:  # the first posts take a moment to arrive
            answer = page.goto(f"{base}/now")
            assert answer is not None
            if answer.ok or time.monotonic() > deadline:
                break
            page.wait_for_timeout(500)
        assert answer.ok, log.read_text()
        page.wait_for_selector("#live-status[data-state=live]", timeout=15_000)
        assert page.locator("#no-incidents").count() == 1, "the surge came too soon"
        page.evaluate("() => { window.stillTheSamePage = true; }")
        shot(page, "live-before")
        surge.set()

        try:
            opened = page.wait_for_selector(".incident.open", timeout=60_000)
        except PlaywrightTimeout:
            status = page.locator("#live-status").inner_text()
            clock = page.locator("#now-clock").inner_text()
            raise AssertionError(f"no incident: {status}; {clock}\n{log.read_text()}") from None
        assert opened is not None and process.poll() is None, log.read_text()
        assert "KiwiNet" in opened.inner_text()
        assert page.evaluate("() => window.stillTheSamePage === true")  # no reload
        # the panel may show the incident a poll before the event that names it arrives
        page.wait_for_selector("#live-status:has-text('opened')", timeout=15_000)
        # five hours of history are no usual range yet (that takes earlier days), but the
        # detector's own baseline learns within the hour
        assert int(page.locator("tr[data-brand=kiwinet] td.num").first.inner_text()) > 0
        page.wait_for_selector("#now-panel .chart.drawn canvas", timeout=15_000)
        shot(page, "live-after")
        return list(page.problems)  # type: ignore[attr-defined]
    finally:
        page.close()
