"""`uproar simulate` through Typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from uproar.cli.app import get_app


def test_simulate_by_name_json(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "out" / "isp.jsonl.gz"
    result = runner.invoke(
        get_app(),
        ["simulate", "isp-2014", "--out", str(out), "--seed", "3", "--scale", "0.3", "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["scenario"] == "isp-2014" and summary["seed"] == 3
    assert summary["posts"] > 3_000
    assert out.exists()
    assert (tmp_path / "out" / "isp.truth.json").exists()
    assert (tmp_path / "out" / "isp.brands.toml").exists()


def test_simulate_file_human(tmp_path: Path, runner: CliRunner) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        '[scenario]\nstart = "2014-01-01T00:00:00Z"\ndays = 0.1\n'
        '[brands.a]\nname = "A"\nhandles = ["@A"]\nmentions_per_hour = 50\n'
    )
    out = tmp_path / "tiny.jsonl"
    result = runner.invoke(get_app(), ["simulate", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "posts" in result.stdout and out.exists()


def test_simulate_bad_scenario(tmp_path: Path, runner: CliRunner) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[scenario]\nstart = "2014-01-01T00:00:00Z"\ndays = "x"\n')
    result = runner.invoke(get_app(), ["simulate", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert "scenario.days" in result.output
