"""``uproar watch`` as a real process, fed at a steady rate by a Jetstream-style server,
killed with SIGKILL three times at random moments and restarted: afterwards every event is
stored exactly once, every incident is stored once, as an uninterrupted detection over
the same posts finds it, and each of its transitions reaches a local webhook once."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from alerts.receivers import webhook
from uproar.detect.batch import detect_store
from uproar.store import Store

from .jetstream import BASE_US, Story, post_id

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("jetstream.py")
BRANDS = ROOT / "tests" / "fixtures" / "brands.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def watch(db: Path, config: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uproar.cli",
        "watch",
        "--db",
        str(db),
        "--config",
        str(config),
    ]
    return subprocess.Popen(command, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def started(db: Path, config: Path) -> subprocess.Popen[bytes]:
    """A watch that is up: its status file lists its listener."""
    status = Path(f"{db}.watch.json")
    status.unlink(missing_ok=True)
    process = watch(db, config)
    deadline = time.monotonic() + 180  # its imports alone take a minute on a starved machine
    while not (status.exists() and json.loads(status.read_text())["sources"]):
        assert process.poll() is None, process.communicate()[1].decode()
        if time.monotonic() > deadline:
            process.kill()
            process.communicate()
            raise AssertionError("watch did not start")
        time.sleep(0.1)
    return process


def stored(db: Path) -> int:
    """Posts in the store, read while the watch holds it (it lends the file)."""
    with Store(db, read_only=True, wait=30) as store:
        return store.count_posts()


@pytest.mark.slow
def test_sigkill_three_times_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    story = Story(minutes=300, per_minute=10)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port), "--rate", "250", "--minutes", "300"],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    db = tmp_path / "watch.duckdb"
    config = tmp_path / "watch.toml"
    stack = ExitStack()
    hook = stack.enter_context(webhook())
    # every transition at once (no rate limit), and the story's incident is months old:
    # announce it whenever it is first seen
    config.write_text(
        # one parse worker (quicker to start): pieces go to the writer until it is up, then
        # to it, so the kills land in either path
        f'brands = "{BRANDS}"\n[detect]\nevery = 1.0\n[limits]\nstatus_every = 1.0\n'
        "parse_workers = 1\n"
        f'[[bluesky]]\nurl = "ws://127.0.0.1:{port}/subscribe"\n'
        "[alerts]\nmin_interval_minutes = 0\nbackfill_minutes = 10000000\n"
        f'[[alerts.channels]]\nname = "hook"\nurl = "{hook.url}"\n'
    )
    rng = random.Random(15)
    process: subprocess.Popen[bytes] | None = None
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith(b"serving")
        for _ in range(3):
            process = started(db, config)
            time.sleep(rng.uniform(0.2, 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
            assert process.stderr is not None
            process.stderr.close()
        killed_at = stored(db)
        assert 0 < killed_at < story.total  # the kills came mid-stream
        process = started(db, config)
        deadline = time.monotonic() + 90
        while stored(db) < story.total:
            assert process.poll() is None, process.communicate()[1].decode()
            assert time.monotonic() < deadline, f"only {stored(db)} of {story.total} stored"
            time.sleep(2.0)
        time.sleep(2.5)  # a detection pass over the last posts
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
    finally:
        for p in (process, server):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()
        stack.close()

    with Store(db) as store:
        con = store.connection
        rows = con.execute("SELECT id FROM posts").fetchall()
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)) == story.total
        assert set(ids) == {post_id(n) for n in range(1, story.total + 1)}
        cursor = store.load_cursor(f"ws://127.0.0.1:{port}/subscribe")
        assert cursor == BASE_US + story.total
        watched = con.execute(
            'SELECT id, brand, start, detected_at, "end", posts FROM incidents ORDER BY id'
        ).fetchall()
        # every post ingested has been through the detector, once
        behind = con.execute(
            "SELECT count(*) FROM posts WHERE ingested_at > "
            "(SELECT watermark FROM watch_progress WHERE name = 'watch')"
        ).fetchall()
        assert behind == [(0,)]
        reference = detect_store(store, save=False)
        sent = con.execute(
            "SELECT title, status FROM alerts_sent WHERE channel = 'hook' ORDER BY created_at"
        ).fetchall()
    assert [w[0] for w in watched] == ["kiwinet-20260105T0400"]
    expected = [
        (i.id, i.brand, i.start, i.detected_at, i.end, i.posts) for i in reference.incidents
    ]
    got = [
        (i, b, s.replace(tzinfo=e.start.tzinfo), d.replace(tzinfo=e.start.tzinfo), end, n)
        for (i, b, s, d, end, n), e in zip(watched, reference.incidents, strict=True)
    ]
    assert [g[:4] + g[5:] for g in got] == [x[:4] + x[5:] for x in expected]
    assert all(g[4] is not None for g in got) and all(x[4] is not None for x in expected)
    # each transition was recorded once and reached the webhook once
    titles = [str(m.get("title", "")) for m in hook.received]
    assert titles and len(titles) == len(set(titles)), titles
    assert any("opened" in t for t in titles) and any("resolved" in t for t in titles), titles
    assert {t for t, status in sent if status == "sent"} <= set(titles)
    assert set(titles) <= {t for t, status in sent if status in ("sent", "unknown")}
