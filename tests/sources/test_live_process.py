"""A real ``uproar listen http`` process: other commands read the store while it writes,
SIGTERM leaves a complete ``.duckdb`` file, and ``uproar demo --out`` never deletes a store
it did not make, nor one in use."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.demo import run_demo
from uproar.errors import InputError, StoreError
from uproar.store import Store

from .listener import listener, post_line


def x_line(i: int) -> bytes:
    return orjson.dumps(
        {
            "data": {
                "id": str(i),
                "text": f"@KiwiNet down again {i}",
                "author_id": str(i % 7),
                "created_at": f"2014-09-06T10:{i % 60:02d}:00.000Z",
            }
        }
    )


@pytest.mark.slow
def test_commands_read_a_store_a_listener_is_writing(tmp_path: Path, runner: CliRunner) -> None:
    """Before, detect, inbox and stats failed with a lock error while a listener ran."""
    db = tmp_path / "live.duckdb"
    acked: list[int] = []
    stop = threading.Event()
    with listener(db) as (base, process):
        app = get_app()
        idle = runner.invoke(app, ["stats", "--json", "--db", str(db)])  # nothing pushed yet
        assert idle.exit_code == 0, idle.output
        assert orjson.loads(idle.output)["posts"] == 0

        def push() -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                i = 0
                while not stop.is_set():
                    reply = client.post("/v1/posts", content=x_line(i))
                    assert reply.status_code == 200 and reply.json()["stored"] == 1
                    acked.append(i)
                    i += 1

        pusher = threading.Thread(target=push)
        pusher.start()
        try:
            while len(acked) < 5:
                stop.wait(0.05)
            commands = [
                ["stats", "--json"],
                ["posts", "--json", "--limit", "5"],
                ["detect", "--json"],
                ["inbox", "--brand", "kiwinet", "--json"],
            ]
            for command in commands:
                result = runner.invoke(app, [*command, "--db", str(db)])
                assert result.exit_code == 0, (command, result.output, result.exception)
            stats = orjson.loads(runner.invoke(app, ["stats", "--json", "--db", str(db)]).output)
            assert stats["posts"] >= 5
        finally:
            stop.set()
            pusher.join(timeout=60)
        assert not pusher.is_alive() and process.poll() is None  # still listening
    with Store(db, read_only=True) as store:  # every acknowledged post, once
        assert store.count_posts() == len(acked) > 5


@pytest.mark.slow
def test_sigterm_checkpoints_and_closes(tmp_path: Path) -> None:
    db = tmp_path / "term.duckdb"
    with listener(db) as (base, process):
        for i in range(20):
            assert post_line(base, x_line(i))["stored"] == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    alone = tmp_path / "copy" / "alone.duckdb"
    alone.parent.mkdir()
    shutil.copy(db, alone)  # the file alone, without any write-ahead log beside it
    with Store(alone, read_only=True) as store:
        assert store.count_posts() == 20


def test_demo_leaves_someone_elses_store_alone(tmp_path: Path) -> None:
    db = tmp_path / "uproar.duckdb"
    with Store(db) as store:
        store.connection.execute("CREATE TABLE precious AS SELECT 42 AS answer")
    before = db.read_bytes()
    with pytest.raises(InputError, match="another --out folder"):
        run_demo(tmp_path)
    assert db.read_bytes() == before


@pytest.mark.slow
def test_demo_does_not_delete_its_old_store_while_a_listener_writes_it(tmp_path: Path) -> None:
    """Before, the demo deleted the file and its WAL under a listener: acknowledged posts
    were lost."""
    db = tmp_path / "uproar.duckdb"
    with Store(db):
        pass
    (tmp_path / ".uproar.duckdb.demo").write_text("made by `uproar demo`\n")
    with listener(db):
        with pytest.raises(InputError, match="open in another process"):
            run_demo(tmp_path)
        assert db.exists()


def test_a_store_held_by_another_program_fails_at_once(tmp_path: Path) -> None:
    """Only a listener lends its file: any other holder gives the lock error, not a wait."""
    db = tmp_path / "held.duckdb"
    Store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        started = time.monotonic()
        with pytest.raises(StoreError, match="in use by another process"):
            Store(db, read_only=True)
        assert time.monotonic() - started < 5
    finally:
        holder.communicate(b"")
