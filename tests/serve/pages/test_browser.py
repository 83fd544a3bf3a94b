"""The dashboard's working pages in real headless chromium: log in, open the incident (its
charts drawn under the strict CSP), see a blaming sentence highlighted in the Composer,
approve a drafted reply and see it recorded, and find hostile post text shown as text.
Screenshots go to test-artifacts/serve/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from uproar.serve import accounts
from uproar.store import Store
from uproar.store.pages import decisions
from uproar.watch.runner import write_status

from .browser import add_users, log_in, serving, shot
from .conftest import HOSTILE, Served

pytestmark = pytest.mark.slow

BLAME = "Most of these modems were not supplied by us"


def test_work_an_incident(browser: Browser, served_copy: Served) -> None:
    add_users(served_copy.db)
    incident = served_copy.incident
    with serving(served_copy.db) as base:
        page = log_in(browser, base, "alice")

        # Now, at an hour into the outage: KiwiNet above its usual range, the incident open
        page.goto(f"{base}/now?at=2014-09-05T09:00:00")
        page.wait_for_selector("#now-panel .chart.drawn canvas", timeout=20_000)
        assert page.locator(f"#incident-{incident}.open").count() == 1
        assert "It's us" in page.locator(f"#incident-{incident} .verdict").inner_text()
        assert page.locator("tr[data-brand=kiwinet] .pill").inner_text() == "above usual"
        shot(page, "now")

        # the incident: charts drawn, the hostile post shown as text, nothing run
        page.click(f"#incident-{incident} h3 a")
        page.wait_for_url(f"**/incidents/{incident}")
        page.wait_for_selector(".chart.drawn canvas", timeout=30_000)
        assert page.locator(".chart.drawn").count() == 4
        hostile = page.locator(".post.own .text", has_text="<script>")
        assert hostile.count() == 1 and hostile.inner_text() == HOSTILE
        scripts = "main img, main script:not([type]), a[href^='javascript:']"
        assert page.evaluate(f"() => document.querySelectorAll({scripts!r}).length") == 0
        shot(page, "incident")

        # the Composer highlights the blame as it is typed
        page.goto(f"{base}/composer")
        page.locator("#draft").press_sequentially(BLAME, delay=5)
        mark = page.wait_for_selector("#highlights mark[data-rule='Uproar.BlameCustomer']")
        assert mark is not None and mark.inner_text() == "not supplied by us"
        counter = page.locator("#counters li[data-platform=x]").inner_text()
        assert counter == f"X: {len(BLAME)} / 280"
        assert page.locator(".thread[data-platform=bluesky] .thread-post").count() == 1
        shot(page, "composer")

        # approve the first drafted reply, edited, and see who approved it
        page.goto(f"{base}/inbox/kiwinet?incident={incident}")
        first = page.locator(".cluster").first
        draft = first.locator("textarea[name=text]")
        edited = draft.input_value() + " We're sorry for the wait."
        draft.fill(edited)
        first.locator("button[value=approve]").click()
        decision = first.locator(".decision.approve")
        decision.wait_for(timeout=15_000)
        assert "Approved by alice" in decision.inner_text() and "(edited)" in decision.inner_text()
        shot(page, "inbox")
        problems = list(page.problems)  # type: ignore[attr-defined]
        page.close()

        # a viewer sees the queue but cannot approve
        viewer = log_in(browser, base, "victor")
        viewer.goto(f"{base}/inbox/kiwinet?incident={incident}")
        assert viewer.locator("#viewer-note").count() == 1
        assert viewer.locator(".cluster").first.locator("button[value=approve]").is_disabled()
        viewer.close()
    assert problems == [], "\n".join(problems)  # no CSP refusal, script error or alert on any page
    with Store(served_copy.db) as store:
        (recorded,) = decisions(store, brand="kiwinet")
        log = accounts.audit_entries(store)
    assert recorded.by == "alice" and recorded.text == edited and recorded.edited
    assert any(e["action"] == "reply.approve" and e["user"] == "alice" for e in log)


OVERFLOW = """() => {
    const edge = document.documentElement.clientWidth + 1;
    const wide = [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > edge && !e.closest('.table-wrap, .chart'))
      .map(e => e.tagName + '.' + e.className).slice(0, 5);
    return [document.documentElement.scrollWidth - document.documentElement.clientWidth, wide];
}"""


def test_phone_and_wall_screen(browser: Browser, served_copy: Served) -> None:
    """At 390 px nothing pushes the page sideways (wide tables and charts scroll or shrink in
    their own box); ?wall=1 sets large type for a shared screen."""
    add_users(served_copy.db)
    incident = served_copy.incident
    with serving(served_copy.db) as base:
        page = log_in(browser, base, "victor", width=390)
        for name, path, ready in (
            ("phone-now", "/now?at=2014-09-05T09:00:00", "#now-panel .chart.drawn canvas"),
            ("phone-incident", f"/incidents/{incident}", ".chart.drawn canvas"),
            ("phone-inbox", f"/inbox/kiwinet?incident={incident}", ".cluster"),
            ("phone-composer", "/composer?text=We+are+sorry", "#counters li"),
        ):
            page.goto(base + path)
            page.wait_for_selector(ready, timeout=30_000)
            overflow, wide = page.evaluate(OVERFLOW)
            assert overflow <= 0 and wide == [], (path, overflow, wide)
            shot(page, name)
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{base}/now?at=2014-09-05T09:00:00")
        normal = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        page.goto(f"{base}/now?at=2014-09-05T09:00:00&wall=1")
        page.wait_for_selector("#now-panel .chart.drawn canvas", timeout=30_000)
        wall = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        assert wall >= 1.4 * normal, (wall, normal)
        shot(page, "wall-now")
        problems = list(page.problems)  # type: ignore[attr-defined]
        page.close()
    assert problems == [], "\n".join(problems)


def test_now_shows_stored_peers_and_the_watch_lag(browser: Browser, served_copy: Served) -> None:
    """The peers that surged come from the incident as stored; a running watch's lag is on
    Now, and whatever its status holds (a hostile error text) is shown as text."""
    add_users(served_copy.db)
    incident = served_copy.incident
    with Store(served_copy.db) as store:
        store.connection.execute(
            """UPDATE incidents SET scope = 'industry',
               peers = '[{"brand": "tuinet", "signal": 42.0, "expected": 7.5, "excess": 34.5}]'
               WHERE id = $id""",
            {"id": incident},
        )
    write_status(
        Path(f"{served_copy.db}.watch.json"),
        {
            "at": datetime.now(UTC).isoformat(),
            "running_s": 60.0,
            "stored": 1234,
            "pending": 0,
            "lag_stored_s": {"count": 1234, "p50": 0.38, "p99": 2.02},
            "lag_detected_s": {"count": 1200, "p50": 3.6, "p99": 6.5},
            "error": HOSTILE,
        },
    )
    with serving(served_copy.db) as base:
        page = log_in(browser, base, "victor")
        page.goto(f"{base}/now?at=2014-09-05T09:00:00")
        page.wait_for_selector("#now-panel .chart.drawn canvas", timeout=30_000)
        card = f"#incident-{incident}"
        assert "It's everyone: TuiNet surged too" in page.locator(f"{card} .verdict").inner_text()
        surged = page.locator(f"{card} tr.peer.surged[data-peer=tuinet] td")
        assert surged.all_inner_texts() == ["TuiNet", "42", "8", "surged"]
        assert page.locator(f"{card} tr.peer.quiet[data-peer=wekamobile]").count() == 1
        lag = page.locator("#watch-lag[data-running=yes]")
        assert "p50 0.4 s · p99 2.0 s" in lag.inner_text()
        assert "p50 3.6 s · p99 6.5 s" in lag.inner_text()
        assert HOSTILE in page.locator("#watch-lag .error").inner_text()  # as text
        scripts = "() => document.querySelectorAll('main img, main script:not([type])').length"
        assert page.evaluate(scripts) == 0
        shot(page, "now-peers-and-lag")
        problems = list(page.problems)  # type: ignore[attr-defined]
        page.close()
    assert problems == [], "\n".join(problems)
