"""The listen commands through Typer's runner: contracts of --json and errors."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from uproar.cli.app import get_app


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(get_app(), list(args))
    return result.exit_code, result.stdout


def test_ingest_json_contract_and_idempotence(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "u.duckdb")
    args = [
        "ingest",
        str(fixtures / "x_v2_page.jsonl"),
        str(fixtures / "bad.jsonl"),
        "--db",
        db,
        "--brands",
        str(fixtures / "brands.toml"),
        "--json",
        "--no-classify",
    ]
    code, out = run(runner, *args)
    assert code == 0
    first = orjson.loads(out)
    assert {k: first[k] for k in ("read", "stored", "duplicates", "quarantined")} == {
        "read": 13,
        "stored": 6,
        "duplicates": 0,
        "quarantined": 7,
    }
    code, out = run(runner, *args)
    assert orjson.loads(out)["stored"] == 0 and orjson.loads(out)["duplicates"] == 6


def test_posts_and_stats(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "u.duckdb")
    run(
        runner,
        "ingest",
        str(fixtures / "x_v2_page.jsonl"),
        str(fixtures / "posts.csv"),
        "--db",
        db,
        "--brands",
        str(fixtures / "brands.toml"),
        "--no-classify",
    )
    code, out = run(runner, "posts", "--db", db, "--brand", "tuinet", "--json")
    assert code == 0
    posts = orjson.loads(out)
    assert [p["id"] for p in posts] == ["508170300000000000", "c3"]
    code, out = run(
        runner,
        "posts",
        "--db",
        db,
        "--since",
        "2014-09-06T10:00",
        "--until",
        "2014-09-06T10:06",
        "--json",
    )
    assert [p["id"] for p in orjson.loads(out)] == ["c1", "c3"]
    code, out = run(runner, "stats", "--db", db, "--json")
    figures = orjson.loads(out)
    assert figures["posts"] == 7
    assert figures["platforms"] == {"x": 4, "csv": 3}
    assert figures["brands"]["kiwinet"] == 6
    assert sum(figures["regions"].values()) == 7 and "unknown" in figures["regions"]
    code, out = run(runner, "stats", "--db", db)
    assert code == 0 and "per day" in out and "region" in out


def test_text_is_not_markup(runner: CliRunner, tmp_path: Path, fixtures: Path) -> None:
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(
        'id,created_at,text,username\nh1,2014-09-06T10:00:00Z,"[bold red]x[/] <b>",z\n'
    )
    db = str(tmp_path / "u.duckdb")
    run(runner, "ingest", str(hostile), "--db", db, "--no-classify")
    _, out = run(runner, "posts", "--db", db)
    assert "[bold red]x[/]" in out


def test_main_turns_errors_into_one_line_and_json_shape(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = str(tmp_path / "none.duckdb")
    plain = subprocess.run(
        [sys.executable, "-m", "uproar.cli", "posts", "--db", missing],
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 2
    assert plain.stderr.strip().count("\n") == 0
    assert "no such store" in plain.stderr
    as_json = subprocess.run(
        [sys.executable, "-m", "uproar.cli", "posts", "--db", missing, "--json"],
        capture_output=True,
        text=True,
    )
    error = orjson.loads(as_json.stdout)
    assert error["ok"] is False and error["status"] == 2 and "no such store" in error["error"]


def test_ingest_labels_new_posts_once(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "u.duckdb")
    args = [
        "ingest",
        str(fixtures / "x_v2_page.jsonl"),
        "--db",
        db,
        "--brands",
        str(fixtures / "brands.toml"),
        "--json",
    ]
    assert run(runner, *args)[0] == 0
    _, out = run(runner, "stats", "--db", db, "--json")
    assert orjson.loads(out)["labelled"] == 4
    from uproar.store import Store

    with Store(db) as store:
        rows = dict(
            store.connection.execute(
                "SELECT p.id, l.complaint FROM posts p JOIN labels l USING (platform, id)"
            ).fetchall()
        )
    assert rows["508170146223599616"] is True  # "impossibly slow tonight & nothing loads"
    assert run(runner, *args)[0] == 0  # nothing new: nothing relabelled, still one row each
    assert orjson.loads(run(runner, "stats", "--db", db, "--json")[1])["labelled"] == 4


def test_a_malformed_column_mapping_is_an_error(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        get_app(),
        [
            "ingest",
            str(fixtures / "posts.csv"),
            "--db",
            str(tmp_path / "u.duckdb"),
            "--map",
            "text",
        ],
    )
    assert result.exit_code == 2
    assert "--map expects FIELD=COLUMN" in result.output
