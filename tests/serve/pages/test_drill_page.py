"""A drill worked from the dashboard in real headless chromium: a drill store started at
600x, served; the drilled incident appears on Now as its clock passes the onset; a
responder posts a good update on the Drill page and a blaming one from the
Composer (highlighted as it is typed), sees the blame named at once, approves a drafted
reply in the Inbox (the team's reply in the drill), and the debrief scores the blaming post
down and names its category. A viewer gets no form, and a store without a drill says how to
start one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from uproar.drill import prepare_source, start_drill
from uproar.store import Store
from uproar.store.drill import load_drill_state

from .browser import add_users, log_in, serving, shot

pytestmark = pytest.mark.slow

MINI = Path(__file__).resolve().parents[2] / "drill" / "mini-outage.toml"
GOOD = (
    "We're sorry: broadband is down for customers in Wellington. Please restart your modem "
    "and don't click the prize link going round, it's a scam. Next update at 7.30pm."
)
BLAMING = "Most of these modems were not supplied by us, so please check yours."


@pytest.fixture
def drill_db(tmp_path: Path) -> Path:
    source = prepare_source(str(MINI), workdir=tmp_path / "src")
    db = tmp_path / "drill.duckdb"
    with Store(db) as store:
        start_drill(store, source, now=datetime.now(UTC), speed=600, span=timedelta(hours=1))
    add_users(db)
    return db


def test_a_team_drills_from_the_dashboard(browser: Browser, drill_db: Path) -> None:
    with Store(drill_db, read_only=True) as store:
        state = load_drill_state(store)
        assert state is not None
        incident = state["incident"]
    with serving(drill_db) as base:
        page = log_in(browser, base, "alice")
        # the drilled incident appears on Now as the drill's clock passes its onset
        page.goto(f"{base}/now")
        page.wait_for_selector(f"#incident-{incident}", timeout=60_000)
        shot(page, "drill-now")
        page.goto(f"{base}/drill")
        assert "600x" in page.locator("#drill-clock").inner_text()  # running, or done already

        page.select_option("#drill-kind", "update")
        page.fill("#drill-text", GOOD)
        page.click("#drill-respond button[type=submit]")
        page.wait_for_url(f"{base}/drill")
        # the Composer highlights the blame as it is typed, then posts it to the drill
        page.goto(f"{base}/composer")
        page.select_option("#kind", "update")
        page.locator("#draft").press_sequentially(BLAMING, delay=2)
        page.wait_for_selector("#highlights mark", timeout=30_000)
        page.click("#post-to-drill")
        page.wait_for_url(f"{base}/drill")
        posted = page.locator("#drill-responses li")
        assert posted.count() == 2
        assert posted.nth(0).locator(".pill").count() == 0
        assert "blame" in posted.nth(1).locator(".pill").all_inner_texts()
        shot(page, "drill")

        # a reply approved in the inbox is the team's reply in the drill
        page.goto(f"{base}/inbox/acme")
        first = page.locator(".cluster").first
        first.locator("button[value=approve]").click()
        first.locator(".decision.approve").wait_for(timeout=15_000)
        page.goto(f"{base}/drill")
        assert page.locator("#drill-responses li").count() == 3
        assert "reply" in page.locator("#drill-responses li").nth(2).locator(".meta").inner_text()

        page.goto(f"{base}/drill/debrief")
        scored = page.locator("#drill-scored li")
        assert scored.count() == 3
        good_meta, blaming_meta = (scored.nth(i).locator(".meta").inner_text() for i in (0, 1))
        assert "blame" in blaming_meta and "blame" not in good_meta

        def points(meta: str) -> int:
            return int(meta.split("scored ")[1].split()[0])

        assert points(blaming_meta) < points(good_meta)
        shot(page, "drill-debrief")

        viewer = log_in(browser, base, "victor")
        viewer.goto(f"{base}/drill")
        assert viewer.locator("#drill-respond").count() == 0
        assert "600x" in viewer.locator("#drill-clock").inner_text()


def test_a_store_without_a_drill_says_how_to_start_one(tmp_path: Path) -> None:
    db = tmp_path / "plain.duckdb"
    Store(db).close()
    add_users(db)
    with serving(db) as base, httpx.Client(base_url=base) as client:
        login = client.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"name": "alice", "password": "correct horse battery", "csrf_token": token},
        )
        page = client.get("/drill")
    assert page.status_code == 404
    assert "uproar drill SCENARIO --start-only" in page.text
