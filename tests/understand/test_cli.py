"""`uproar classify` and `uproar eval classify` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.errors import InputError
from uproar.understand.evaluate import find_data

KEYS = {
    "complaint",
    "sentiment",
    "topics",
    "question",
    "urgency",
    "language",
    "sarcasm",
    "reach",
    "sentiment_scores",
}


def run(runner: CliRunner, args: list[str], stdin: str | None = None) -> list[dict[str, object]]:
    result = runner.invoke(get_app(), args, input=stdin)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_one_object_per_line_in_order(runner: CliRunner) -> None:
    lines = ["great job @acme, third outage this week", "", "love the new app", "is it down?", "😡"]
    rows = run(runner, ["classify", "-", "--json"], "\n".join(lines) + "\n")
    assert len(rows) == len(lines)
    assert all(set(r) == KEYS for r in rows)
    assert [r["complaint"] for r in rows] == [True, False, False, True, True]
    assert rows[0]["sarcasm"] is True and rows[0]["sentiment"] == "negative"
    assert rows[2]["sentiment"] == "positive" and rows[3]["question"] is True


def test_jsonl_posts_from_a_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    posts = [
        {"id": "1", "text": "@acme no signal since 6am", "author_followers": 99, "like_count": 9},
        {"id": "2", "text": "thanks @acme!"},
        {"id": "3"},
    ]
    path.write_text("\n".join(json.dumps(p) for p in posts) + "\n", encoding="utf-8")
    rows = run(runner, ["classify", str(path), "--model", "accurate"])
    assert [r["complaint"] for r in rows] == [True, False, False]
    assert rows[2]["sentiment"] == "neutral"
    assert rows[0]["reach"] == 3.0 and rows[1]["reach"] == 0.0  # log10(100) + log10(10)


def test_config_option(runner: CliRunner, tmp_path: Path) -> None:
    cfg = tmp_path / "brand.toml"
    cfg.write_text(
        '[understand.topics.router_lights]\nkeywords = ["flashing orange"]\n', encoding="utf-8"
    )
    rows = run(runner, ["classify", "-", "--config", str(cfg)], "hub flashing orange\n")
    assert "router_lights" in rows[0]["topics"]  # type: ignore[operator]


def test_bad_jsonl_line_names_the_line(runner: CliRunner) -> None:
    result = runner.invoke(get_app(), ["classify", "-"], input='{"text": "ok"}\n{oops\n')
    assert result.exit_code == 2
    assert "<stdin>:2:" in result.output  # one line naming the input and the line


def test_eval_classify_small(runner: CliRunner, shared_data: Path) -> None:
    result = runner.invoke(
        get_app(),
        [
            "eval",
            "classify",
            "--data",
            str(shared_data),
            "--limit",
            "200",
            "--model",
            "fast",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    systems = [s["system"] for s in report["sentiment"]]
    assert systems == ["fast", "vader"]
    assert all(s["posts"] == 200 for s in report["sentiment"])
    names = [b["name"] for b in report["labels"]["fast"]]
    assert names[:3] == ["complaint", "question", "urgency"] and "topic:baggage" in names
    human = runner.invoke(
        get_app(),
        ["eval", "classify", "--data", str(shared_data), "--limit", "50", "--model", "fast"],
    )
    assert human.exit_code == 0 and "macro-recall" in human.stdout


def test_eval_classify_finds_the_data_from_any_folder(
    runner: CliRunner, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPROAR_DATA", raising=False)
    assert find_data().resolve() == shared_data.resolve()
    result = runner.invoke(
        get_app(), ["eval", "classify", "--limit", "50", "--model", "fast", "--no-vader"]
    )
    assert result.exit_code == 0, result.output
    assert "macro-recall" in result.stdout and "Language: accuracy" in result.stdout


def test_missing_data_says_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="UPROAR_DATA") as err:
        find_data(tmp_path / "nope")
    assert "shared/data" in str(err.value)
    assert find_data(env={"UPROAR_DATA": str(tmp_path)}) == tmp_path
    with pytest.raises(InputError, match=r"\(UPROAR_DATA\)"):
        find_data(env={"UPROAR_DATA": str(tmp_path / "gone")})
