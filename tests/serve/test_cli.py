"""`uproar users` and `uproar serve` on the command line, and the dashboard sharing its store
with other processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.serve import create_app
from uproar.store import Store

from .conftest import PASSWORD, Clients, Served, free_port


def run(runner: CliRunner, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(get_app(), list(args), input=input)
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "uproar.duckdb"
    Store(path).close()
    return path


def test_users_add_list_token_remove(runner: CliRunner, db: Path) -> None:
    code, out = run(
        runner, "users", "add", "ann", "--role", "admin", "--password-stdin", "--db", str(db),
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0 and "added ann (admin)" in out
    code, out = run(
        runner, "users", "add", "bob", "--db", str(db), input="pw12345678\npw12345678\n"
    )
    assert code == 0 and "added bob (viewer)" in out  # asked twice, viewer by default
    code, out = run(runner, "users", "token", "bob", "--label", "ci", "--db", str(db), "--json")
    token = json.loads(out)["token"]
    assert code == 0 and token.startswith("uproar_")
    code, out = run(runner, "users", "list", "--db", str(db), "--json")
    listed = {u["name"]: (u["role"], u["tokens"]) for u in json.loads(out)["users"]}
    assert listed == {"ann": ("admin", 0), "bob": ("viewer", 1)}
    with Store(db, read_only=True) as store:  # the token itself is never kept
        kept = store.connection.execute("SELECT token_hash FROM api_tokens").fetchall()
        actions = store.connection.execute("SELECT action FROM audit_log").fetchall()
    assert token not in str(kept) and len(kept[0][0]) == 64
    assert [a for (a,) in actions] == ["user.add", "user.add", "token.add"]
    code, out = run(runner, "users", "remove", "bob", "--db", str(db))
    assert code == 0
    code, out = run(runner, "users", "list", "--db", str(db), "--json")
    assert [u["name"] for u in json.loads(out)["users"]] == ["ann"]


def test_users_mistakes_are_loud(runner: CliRunner, db: Path) -> None:
    add = ("users", "add", "--password-stdin", "--db", str(db))
    code, out = run(runner, *add[:2], "ann", *add[2:], input="short\n")
    assert code == 2 and "at least 8 characters" in out
    code, out = run(runner, *add[:2], "<bad name>", *add[2:], input=f"{PASSWORD}\n")
    assert code == 2 and "account name" in out
    code, out = run(runner, *add[:2], "ann", "--role", "boss", *add[2:], input=f"{PASSWORD}\n")
    assert code == 2 and "viewer, responder, admin" in out
    run(runner, *add[:2], "ann", *add[2:], input=f"{PASSWORD}\n")
    code, out = run(runner, *add[:2], "ann", *add[2:], input=f"{PASSWORD}\n")
    assert code == 2 and "already exists" in out
    code, out = run(runner, "users", "remove", "anne", "--db", str(db))
    assert code == 2 and "unknown account 'anne'; known: ann" in out
    code, out = run(runner, "users", "list", "--db", str(db.with_name("missing.duckdb")))
    assert code == 2 and "no such store" in out


def test_serve_refuses_another_address_without_an_account(runner: CliRunner, db: Path) -> None:
    code, out = run(runner, "serve", "--db", str(db), "--host", "0.0.0.0")
    assert code == 2
    assert "--host 0.0.0.0" in out and "uproar users add" in out


@pytest.mark.slow
def test_uproar_serve_runs_and_guards_its_pages(db: Path, runner: CliRunner) -> None:
    run(runner, "users", "add", "ann", "--password-stdin", "--db", str(db), input=f"{PASSWORD}\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "uproar.cli", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300  # importing uproar takes a minute on a busy machine
        while True:
            try:
                health = httpx.get(f"{url}/health")
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"ok": True}
        assert httpx.get(f"{url}/api/search").status_code == 401
        page = httpx.get(f"{url}/search", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsearch"
        assert httpx.get(f"{url}/openapi.json").status_code == 401
        # another command gets the store while the dashboard serves it
        code, out = run(runner, "users", "token", "ann", "--db", str(db), "--json")
        assert code == 0, out
        token = json.loads(out)["token"]
        me = httpx.get(f"{url}/api/me", headers={"authorization": f"Bearer {token}"})
        assert me.json() == {"name": "ann", "role": "viewer"}
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=120)[0].decode()  # exiting is slow when busy
    assert server.returncode == 0, output
    assert f"serving {db} on http://127.0.0.1:{port}/" in output


@pytest.mark.slow
def test_the_dashboard_lends_its_store_to_other_processes(
    tmp_path: Path, store_file: Path, clients: Clients
) -> None:
    db = tmp_path / "uproar.duckdb"
    shutil.copy(store_file, db)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    with Served(create_app(db)) as served:
        client, _ = clients.log_in(served.url, "vic")
        assert client.get("/search?q=kiwinet").status_code == 200
        # a separate process (a command, a listener) asks for the file and gets it
        added = subprocess.run(
            [sys.executable, "-m", "uproar.cli", "users", "add", "zed", "--password-stdin",
             "--db", str(db)],
            input=f"{PASSWORD}\n", env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        # and the dashboard takes it back for the next request, seeing the change
        assert client.get("/search?q=kiwinet").status_code == 200
        zed, _ = clients.log_in(served.url, "zed")
        assert zed.get("/api/me").json() == {"name": "zed", "role": "viewer"}


def test_the_demo_admin_gets_a_new_one_time_password_each_run(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from uproar.serve import accounts
    from uproar.serve.server import demo_admin

    with Store(tmp_path / "demo.duckdb") as store:
        first = demo_admin(store, now=datetime(2014, 9, 6, tzinfo=UTC))
        second = demo_admin(store, now=datetime(2014, 9, 6, tzinfo=UTC))
        assert first != second and len(second) >= 16
        assert accounts.authenticate(store, "admin", first) is None
        admin = accounts.authenticate(store, "admin", second)
        assert admin is not None and admin.role == "admin"
        assert [u["name"] for u in accounts.list_users(store)] == ["admin"]


def test_an_app_over_an_open_store_reads_it_and_leaves_it_open(
    tmp_path: Path, store_file: Path, clients: Clients
) -> None:
    """A process that already holds the store (a watcher serving the dashboard itself)."""
    db = tmp_path / "uproar.duckdb"
    shutil.copy(store_file, db)
    with Store(db) as store:
        with Served(create_app(store=store)) as served:
            client, _ = clients.log_in(served.url, "vic")
            assert client.get("/api/search", params={"q": "kiwinet"}).json()["posts"]
        assert store.count_posts() > 0  # still open, still usable


def test_serve_refuses_a_missing_or_broken_config(runner: CliRunner, db: Path) -> None:
    code, out = run(runner, "serve", "--db", str(db), "--config", str(db.with_name("no.toml")))
    assert code == 2 and "no.toml: cannot read" in out
    broken = db.with_name("watch.toml")
    broken.write_text("[alerts\n")
    code, out = run(runner, "serve", "--db", str(db), "--config", str(broken))
    assert code == 2 and "watch.toml: not valid TOML" in out
