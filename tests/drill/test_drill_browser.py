"""The drill report in a real browser (Debian's chromium, driven by Playwright), after a
drill run at 600x by a scripted team: it fits laptop and phone widths, loads nothing and
runs no script, and shows the debrief with the blaming post scored down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from typer.testing import CliRunner

from uproar.cli.app import get_app

from .test_drill import BLAMING, GOOD, MINI

pytestmark = pytest.mark.slow

WIDTHS = {"laptop": (1366, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def drill_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drill-browser")
    team = folder / "team.jsonl"
    team.write_text(
        json.dumps({"at": "+8m", "kind": "update", "text": GOOD, "author": "sam"})
        + "\n"
        + json.dumps({"at": "+30m", "kind": "update", "text": BLAMING, "author": "kim"})
        + "\n"
    )
    out = folder / "drill.html"
    result = CliRunner().invoke(
        get_app(),
        [
            "drill", str(MINI), "--speed", "600x", "--span", "1h", "--db",
            str(folder / "drill.duckdb"), "--responses", str(team), "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_drill_report_fits_the_screen(browser: Browser, drill_report: Path, device: str) -> None:
    width, height = WIDTHS[device]
    page = browser.new_page(viewport={"width": width, "height": height})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(drill_report.as_uri())
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow}px of sideways scroll at {width}px"
    assert requests == [drill_report.as_uri()]
    assert page.evaluate("() => document.scripts.length") == 0
    body = page.inner_text("body")
    assert "Drill debrief" in body and "blame" in body
    page.close()
