"""``uproar lint`` and ``uproar eval lint`` through Typer's CliRunner: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app

CLEAN = (
    "Broadband is down for customers in Leeds since 9:40. We're sorry. Please leave your "
    "router switched on. Next update at 11am."
)
BAD = "lol your router caused this, not our network"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def test_clean_draft_exits_0(cli: CliRunner, tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(CLEAN, encoding="utf-8")
    result = cli.invoke(get_app(), ["lint", str(draft)])
    assert result.exit_code == 0, result.output
    assert "no findings" in result.output


def test_error_findings_exit_1_with_json_findings(cli: CliRunner) -> None:
    result = cli.invoke(get_app(), ["lint", "-", "--format", "json", "--kind", "reply"], input=BAD)
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)
    assert {f["category"] for f in findings} >= {"blame", "flippant"}
    for f in findings:
        assert set(f) == {
            "line",
            "start",
            "end",
            "rule",
            "category",
            "severity",
            "message",
            "suggestion",
        }
    lol = next(f for f in findings if f["rule"] == "Uproar.Slang")
    assert BAD[lol["start"] - 1 : lol["end"]] == "lol"


def test_each_line_numbers_findings_by_line(cli: CliRunner) -> None:
    text = "Thanks for your patience, Sam.\nlol yeah it's broken\n"
    result = cli.invoke(
        get_app(), ["lint", "-", "--each-line", "--kind", "reply", "--format", "json"], input=text
    )
    assert result.exit_code == 1
    assert {f["line"] for f in json.loads(result.stdout)} == {2}


def test_warnings_alone_exit_0(cli: CliRunner) -> None:
    result = cli.invoke(
        get_app(), ["lint", "-", "--kind", "reply"], input="We are sorry, the DNS is broken."
    )
    assert result.exit_code == 0, result.output
    assert "Uproar.Acronyms" in result.output


def test_unreadable_input_exits_2_naming_the_file(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    result = cli.invoke(get_app(), ["lint", str(missing)])
    assert result.exit_code == 2
    assert "nope.txt" in result.output
    binary = tmp_path / "draft.bin"
    binary.write_bytes(b"\xff\xfe\x00bad")
    result = cli.invoke(get_app(), ["lint", str(binary)])
    assert result.exit_code == 2
    assert "UTF-8" in result.output


def test_bad_rule_file_exits_2_naming_file_and_key(cli: CliRunner, tmp_path: Path) -> None:
    style = tmp_path / "styles" / "Acme"
    style.mkdir(parents=True)
    (style / "Broken.yml").write_text(
        "extends: existence\nmessage: 'x'\ncategory: blame\nlevel: fatal\ntokens: [x]\n",
        encoding="utf-8",
    )
    profile = tmp_path / "acme.toml"
    profile.write_text('[profile]\nstyles = ["Uproar"]\npaths = ["styles"]\n', encoding="utf-8")
    result = cli.invoke(get_app(), ["lint", "-", "--profile", str(profile)], input=CLEAN)
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert "Broken.yml" in line and "Acme.Broken" in line and "'level'" in line
    result = cli.invoke(
        get_app(), ["lint", "-", "--profile", str(profile), "--format", "json"], input=CLEAN
    )
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["ok"] is False and error["status"] == 2 and error["rule"] == "Acme.Broken"


def test_profile_terms_and_tone(cli: CliRunner, tmp_path: Path) -> None:
    profile = tmp_path / "bank.toml"
    profile.write_text(
        '[profile]\nname = "bank"\ntone = "formal"\n'
        '[terms]\nbanned = ["glitch"]\n[terms.prefer]\n"customers" = "members"\n',
        encoding="utf-8",
    )
    result = cli.invoke(
        get_app(),
        ["lint", "-", "--profile", str(profile), "--format", "json", "--kind", "reply"],
        input="Hey folks, sorry: a glitch is hitting customers.",
    )
    rules = {f["rule"] for f in json.loads(result.stdout)}
    assert {"Profile.Banned", "Profile.Preferred", "Uproar.TooCasual"} <= rules
    assert result.exit_code == 1


@pytest.mark.slow
def test_eval_lint_prints_the_table(cli: CliRunner) -> None:
    """Runs the scorer's nested cross-validation twice (a minute or two each)."""
    result = cli.invoke(get_app(), ["eval", "lint", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    reports = {r["split"]: r for r in data["evalset"]}
    assert set(reports) == {"all", "dev", "held-out"}
    assert data["twcs"]["replies"] == 2222 and data["twcs"]["error_share"] <= 0.02
    everything, held = data["families"]
    assert held["split"] == "held out from every rule"
    families = {s["label"]: s for s in everything["labels"]}
    assert set(families) == {"blame", "defensive", "flippant", "dismissive", "clean"}
    assert everything["drafts"] >= 600
    scorer = data["scorer"]
    assert set(scorer["recall"]) == {"blame", "defensive", "flippant", "dismissive"}
    assert scorer["overall_recall"] >= 0.9 and "clean_flagged" in scorer
    assert data["twcs"]["unseen"] > 1000 and "unseen_scorer_share" in data["twcs"]
    table = cli.invoke(get_app(), ["eval", "lint"])
    for word in ("blame", "overpromise", "recall", "precision", "held-out", "tone scorer"):
        assert word in table.output
