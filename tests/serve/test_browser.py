"""The dashboard in real headless chromium (Debian's, driven by Playwright): log in, search,
hostile posts show as text with nothing run, no CSP violations, and the page fits a phone,
a laptop and a wall screen. Screenshots go to test-artifacts/serve/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from .conftest import HOSTILE_AUTHOR, HOSTILE_TEXT, PASSWORD, Dashboard

pytestmark = pytest.mark.slow

SCREENS = {"phone": (390, 844), "laptop": (1366, 900), "wall": (2560, 1440)}
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "serve"


def test_log_in_and_search_in_a_browser(browser: Browser, dashboard: Dashboard) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    console: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(m.text))
    offsite: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(dashboard.url) else offsite.append(r.url),
    )

    page.goto(f"{dashboard.url}/search?q=alert")
    assert page.url.startswith(f"{dashboard.url}/login?next=")
    page.fill("input[name=name]", "vic")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{dashboard.url}/search?q=alert")
    page.fill("input[name=q]", "alert")
    page.select_option("select[name=brand]", "kiwinet")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state()
    posts = page.locator("li.post")
    assert posts.count() == 1
    # the hostile post is shown as the text it is, and nothing in it ran
    assert posts.first.locator("p.text").inner_text() == HOSTILE_TEXT
    assert HOSTILE_AUTHOR in posts.first.locator(".meta").inner_text()
    assert page.evaluate("() => document.scripts.length") == 0
    assert page.locator("li.post img").count() == 0
    links = page.locator("li.post a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "https://example.org/status"
    ]
    assert page.locator("li.post .unsafe-link").inner_text() == "javascript:alert(1)"
    assert dialogs == []
    assert not [m for m in console if "Content Security Policy" in m], console
    assert offsite == []

    for screen, (width, height) in SCREENS.items():
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px of sideways scroll on a {screen} ({width}px)"
        shot = page.screenshot(path=str(ARTIFACTS / f"search-{screen}.png"), full_page=True)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    # the wall screen's type is larger than the phone's
    page.set_viewport_size({"width": 390, "height": 844})
    small = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.set_viewport_size({"width": 2560, "height": 1440})
    large = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large > small
    context.close()
