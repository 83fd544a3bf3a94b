"""Either start order works: ``uproar serve`` started before ``uproar watch`` on the same store
(real processes on loopback, the dashboard busy with requests all along) leaves the watch
its file, the watch stores every post pushed to it, and the dashboard keeps answering and
shows them."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from uproar.config import load_brands
from uproar.serve import accounts
from uproar.store import Store

from .conftest import free_port, running

pytestmark = pytest.mark.slow

BRANDS = '[brands.kiwinet]\nname = "KiwiNet"\nhandles = ["@KiwiNet"]\nregions = ["NZ"]\n'
BATCHES, PER_BATCH = 15, 20


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300  # a loaded machine takes a minute to import uproar
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def batch(n: int, now: datetime) -> bytes:
    """X v2 records mentioning @KiwiNet, made a minute ago (plausible, not future)."""
    at = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lines = [
        orjson.dumps(
            {
                "data": {
                    "id": f"s{n}-{i}",
                    "text": f"@KiwiNet startorder outage {n} {i}",
                    "author_id": f"u{i}",
                    "created_at": at,
                }
            }
        )
        for i in range(PER_BATCH)
    ]
    return b"\n".join(lines)


def test_serve_started_before_watch_leaves_it_the_store(tmp_path: Path) -> None:
    (tmp_path / "brands.toml").write_text(BRANDS)
    db = tmp_path / "team.duckdb"
    with Store(db) as store:
        store.save_brands(load_brands(tmp_path / "brands.toml"))
        accounts.add_user(store, "ann", "correct horse battery", role="admin",
                          now=datetime.now(UTC))  # fmt: skip
        token = accounts.new_token(store, "ann", label="test", now=datetime.now(UTC))
    push_port, serve_port = free_port(), free_port()
    (tmp_path / "watch.toml").write_text(
        f'brands = "brands.toml"\n[detect]\nevery = 1.0\n[http]\nport = {push_port}\n'
    )
    base = f"http://127.0.0.1:{serve_port}"
    bearer = {"authorization": f"Bearer {token}"}
    codes: Counter[int] = Counter()
    stop = threading.Event()

    def busy_dashboard() -> None:  # a team looking at the dashboard all along
        with httpx.Client(base_url=base, headers=bearer, timeout=60) as client:
            while not stop.is_set():
                codes[client.get("/api/search", params={"q": "startorder"}).status_code] += 1
                codes[client.get("/api/incidents").status_code] += 1
                time.sleep(0.05)

    serve_log, watch_log = tmp_path / "serve.log", tmp_path / "watch.log"
    serve = ["serve", "--db", str(db), "--port", str(serve_port)]
    with running(serve, serve_log) as dashboard:
        wait_for(f"{base}/health", dashboard, serve_log)
        looker = threading.Thread(target=busy_dashboard, daemon=True)
        looker.start()
        time.sleep(1.0)
        watch = ["watch", "--db", str(db), "--config", str(tmp_path / "watch.toml")]
        with running(watch, watch_log) as watcher:
            wait_for(f"http://127.0.0.1:{push_port}/health", watcher, watch_log)
            stored = 0
            with httpx.Client(timeout=60) as pusher:
                for n in range(BATCHES):
                    url = f"http://127.0.0.1:{push_port}/v1/posts"
                    reply = pusher.post(url, content=batch(n, datetime.now(UTC)))
                    assert reply.status_code == 200, reply.text
                    stored += reply.json()["stored"]
                    time.sleep(0.2)
            assert stored == BATCHES * PER_BATCH
            # the dashboard, still serving, shows every post the watch stored
            deadline = time.monotonic() + 60
            with httpx.Client(base_url=base, headers=bearer, timeout=60) as client:
                while True:
                    found = client.get("/api/search", params={"q": "startorder", "page": 1})
                    if found.status_code == 200 and found.json()["has_next"]:
                        break
                    assert time.monotonic() < deadline, (found.status_code, found.text)
                    time.sleep(0.5)
            stop.set()
            looker.join(timeout=60)
            assert watcher.poll() is None, watch_log.read_text()
        assert dashboard.poll() is None, serve_log.read_text()
    assert watcher.returncode == 0, watch_log.read_text()
    assert set(codes) == {200}, (codes, serve_log.read_text()[-3000:])
    with Store(db, read_only=True) as store:
        assert store.count_posts() == BATCHES * PER_BATCH
