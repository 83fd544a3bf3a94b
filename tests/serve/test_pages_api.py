"""The working pages' JSON API over a real server, with API tokens: Now, Incidents, Inbox
(decisions by role), Composer; unknown names are a 404 naming the known ones."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from uproar.serve.pages.now import LAG_READ_EVERY_S
from uproar.watch.runner import write_status

from .conftest import NOW, Dashboard

pytestmark = pytest.mark.slow  # the dashboard builds inboxes and loads the linter


def api(dashboard: Dashboard, name: str) -> httpx.Client:
    return httpx.Client(
        base_url=dashboard.url,
        headers={"authorization": f"Bearer {dashboard.tokens[name]}"},
        timeout=60,
    )


def test_now_and_incidents(dashboard: Dashboard) -> None:
    with api(dashboard, "vic") as client:
        now = client.get("/api/now").json()
        assert now["now"].startswith("2014-09-06T12:31")
        kiwi = next(b for b in now["brands"] if b["id"] == "kiwinet")
        assert kiwi["mentions"] > 0 and kiwi["state"] == "no history"
        assert now["chart"]["facet"]["row"]["field"] == "brand"
        assert now["watch"] is None  # no watch ever ran on this store
        assert client.get("/api/now?at=yesterday").json()["status"] == 400
        assert client.get("/api/incidents").json() == []
        missing = client.get("/api/incidents/kiwinet-nope")
        assert missing.status_code == 404
        assert missing.json() == {
            "ok": False,
            "error": "unknown incident 'kiwinet-nope'; the store has no incidents yet; "
            "run `uproar detect` to find them",
            "status": 404,
        }


def test_now_carries_the_watch_lag(dashboard: Dashboard) -> None:
    """What `uproar watch` last wrote beside the store is in /api/now, read again within
    LAG_READ_EVERY_S of a change."""
    status = Path(f"{dashboard.db}.watch.json")
    write_status(
        status,
        {"at": NOW.isoformat(), "running_s": 30.0, "stored": 77, "pending": 0,
         "lag_stored_s": {"p50": 0.3, "p99": 1.9}, "lag_detected_s": {"p50": 3.5, "p99": 6.1}},
    )  # fmt: skip
    try:
        time.sleep(LAG_READ_EVERY_S)
        with api(dashboard, "vic") as client:
            watch = client.get("/api/now").json()["watch"]
        assert watch["stored"] == 77 and watch["running"] is True
        assert (watch["stored_p99"], watch["detected_p99"]) == (1.9, 6.1)
    finally:
        status.unlink()
        time.sleep(LAG_READ_EVERY_S)  # the next test reads the store without it


def test_inbox_decisions_need_a_responder(dashboard: Dashboard) -> None:
    with api(dashboard, "vic") as viewer, api(dashboard, "rob") as responder:
        inbox = viewer.get("/api/inbox/kiwinet").json()
        assert inbox["brand"] == "kiwinet" and inbox["clusters"], inbox
        cluster = inbox["clusters"][0]
        body = {"drafted_at": inbox["drafted_at"], "cluster": cluster["id"], "action": "approve"}
        refused = viewer.post("/api/inbox/kiwinet/decisions", json=body)
        assert refused.status_code == 403 and "responder" in refused.json()["error"]
        done = responder.post("/api/inbox/kiwinet/decisions", json={**body, "text": "On it."})
        assert done.status_code == 201, done.text
        assert done.json()["by"] == "rob" and done.json()["edited"] is True
        again = viewer.get("/api/inbox/kiwinet").json()
        assert [d["cluster"] for d in again["decisions"]] == [cluster["id"]]
        unknown = responder.post("/api/inbox/kiwinet/decisions", json={**body, "cluster": 999})
        assert unknown.status_code == 400 and "reload the inbox" in unknown.json()["error"]
        bad = responder.post("/api/inbox/kiwinet/decisions", json={**body, "action": "post"})
        assert bad.status_code == 400
        lost = viewer.get("/api/inbox/kiwinett")
        assert lost.status_code == 404 and "kiwinet" in lost.json()["error"]


def test_composer_api(dashboard: Dashboard) -> None:
    with api(dashboard, "vic") as client:
        answer = client.post(
            "/api/composer", json={"text": "Most of these modems were not supplied by us"}
        )
        assert answer.status_code == 200
        view = answer.json()
        blame = next(s for s in view["spans"] if s["rule"] == "Uproar.BlameCustomer")
        assert (blame["start16"], blame["end16"]) == (26, 44)
        assert [c["platform"] for c in view["counts"]] == ["x", "mastodon", "bluesky", "facebook"]
        assert client.post("/api/composer", json={"text": "x", "kind": "poem"}).status_code == 400
        assert client.post("/api/composer", content=b"not json").status_code == 400


def test_the_pages_are_in_the_openapi_spec(dashboard: Dashboard) -> None:
    with api(dashboard, "vic") as client:
        paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/now",
        "/api/incidents",
        "/api/incidents/{incident_id}",
        "/api/inbox/{brand}",
        "/api/inbox/{brand}/decisions",
        "/api/composer",
    ):
        assert path in paths, path
    assert "/events" not in paths  # a never-ending stream is no operation to call and check
    assert "requestBody" in paths["/api/composer"]["post"]
