"""The README's scenario walkthrough: its example file loads verbatim and plants what it
says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from uproar.simulate import parse_scenario, simulate

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_scenario() -> str:
    section = README.read_text("utf-8").split("### Author a scenario", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match, "the walkthrough's TOML example is missing"
    return match.group(1)


def test_the_walkthrough_example_simulates(tmp_path: Path) -> None:
    spec = parse_scenario(tomllib.loads(readme_scenario()))
    assert spec.name == "courier-tracking"
    result = simulate(spec, tmp_path / "courier.jsonl", seed=spec.seed)
    (incident,) = result.truth["incidents"]
    assert incident["id"] == "swift-tracking-down" and incident["scope"] == "brand"
    assert len(incident["updates"]) == 1 and len(incident["updates"][0]["thread"]) == 2
    assert [r["kind"] for r in result.truth["rumours"]] == ["copypasta"]
    assert result.posts > 1000
    assert "[brands.swift]" in result.brands_path.read_text()
