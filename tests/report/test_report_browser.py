"""The report in a real browser (Debian's chromium, driven by Playwright): at laptop and
phone widths nothing overflows sideways, and the page carries no script to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from uproar.report import build_report, write_report
from uproar.store import Store
from uproar.times import zone

from .conftest import Stored

pytestmark = pytest.mark.slow

WIDTHS = {"laptop": (1366, 900), "phone": (390, 844)}


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_report_fits_the_screen(
    browser: Browser, simulated_store: Stored, tmp_path: Path, device: str
) -> None:
    with Store(simulated_store.db, read_only=True) as store:
        report = build_report(store, brand="kiwinet", tz=zone("Pacific/Auckland"))
    html = write_report(report, tmp_path / "report.html")
    width, height = WIDTHS[device]
    page = browser.new_page(viewport={"width": width, "height": height})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri())
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow}px of sideways scroll at {width}px"
    wider = page.evaluate(
        """() => {
            const edge = document.documentElement.clientWidth + 1;
            return [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > edge)
              .map(e => e.tagName + '.' + e.className).slice(0, 5);
        }"""
    )
    assert wider == []
    assert requests == [html.as_uri()]  # nothing else fetched
    assert page.evaluate("() => document.scripts.length") == 0
    shot = page.screenshot(path=str(tmp_path / f"{device}.png"), full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    page.close()
