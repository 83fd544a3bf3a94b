"""The Alerter end to end: incidents in, messages received by real servers on loopback.

Time is injected (``now``), so rate limits, quiet hours and retries are exact."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from uproar.alerts import Alerter
from uproar.alerts.alerter import MAX_PER_MESSAGE
from uproar.store import Store
from uproar.store import alerts as sql

from .conftest import T0, add_posts, config, incident
from .receivers import Mailbox, Webhook

MIN = timedelta(minutes=1)


def run(alerter: Alerter, incidents: list, now) -> list:  # type: ignore[type-arg, no-untyped-def]
    """One detection pass: observe, then wait for what was sent."""
    alerts = alerter.observe(incidents, now)
    assert alerter.flush(now, timeout=20) == 0
    return alerts


def test_an_opened_incident_reaches_a_webhook_with_everything_a_responder_needs(
    hook: Webhook, store: Store
) -> None:
    ids = add_posts(store, "kiwinet fibre down in Grey Lynn since 4pm", "no internet again??")
    alerter = Alerter(config({"name": "hook", "url": hook.url}), store)
    inc = incident(
        severity="high",
        scope="industry",
        peers=({"brand": "spark", "signal": 40.0}, {"brand": "vodafone", "signal": 22.0}),
        regions=("NZ-AUK", "NZ-WGN"),
        sample_post_ids=tuple(reversed(ids)),
    )
    alerts = run(alerter, [inc], T0)
    alerter.close(T0)
    assert [(a.event, a.channel, a.revision) for a in alerts] == [("opened", "hook", "phase1")]
    alert = alerts[0]
    assert (alert.brand, alert.severity, alert.scope, alert.peers) == (
        "kiwinet", "high", "industry", ("spark", "vodafone"),
    )  # fmt: skip
    assert alert.topics == ("outage", "broadband")
    assert alert.samples == ("no internet again??", "kiwinet fibre down in Grey Lynn since 4pm")
    assert alert.link == "https://dash.example/incidents/kiwinet-20260302-0400"
    assert len(hook.received) == 1
    got = hook.received[0]
    assert got["title"] == "[HIGH] kiwinet: incident opened"
    assert got["type"] == "failure"
    body = got["message"]
    assert "Scope: everyone: the peers surged too (spark, vodafone)" in body
    assert "Regions: NZ-AUK, NZ-WGN" in body
    assert "Topics: outage, broadband" in body
    assert "Posts: 120 from 85 authors" in body
    assert "• @​user1: “no internet again??”" in body  # the handle's @ is neutralised too
    assert "Dashboard: https://dash.example/incidents/kiwinet-20260302-0400" in body
    assert sql.status_counts(store) == {"sent": 1}


def test_samples_fall_back_to_the_brands_posts_in_the_window(hook: Webhook, store: Store) -> None:
    add_posts(store, "is kiwinet down for anyone else")
    add_posts(store, "spark is fine here", brand="spark")
    alerter = Alerter(config({"name": "hook", "url": hook.url}), store)
    (alert,) = run(alerter, [incident()], T0)
    alerter.close(T0)
    assert alert.samples == ("is kiwinet down for anyone else",)


def test_an_email_arrives_at_a_real_smtp_server(mailbox: Mailbox, store: Store) -> None:
    add_posts(store, "<script>alert(1)</script> kiwinet is down @everyone")
    alerter = Alerter(config({"name": "mail", "url": mailbox.url()}), store)
    run(alerter, [incident(severity="critical")], T0)
    alerter.close(T0)
    assert mailbox.recipients == [["oncall@example.com"]]
    message = mailbox.messages[0]
    assert message["Subject"] == "[CRITICAL] kiwinet: incident opened"
    text = mailbox.texts()[0]
    assert "https://dash.example/incidents/kiwinet-20260302-0400" in text
    assert "Topics: outage, broadband" in text
    assert "<script>" not in text and "‹script›alert(1)‹/script›" in text
    assert "@everyone" not in text and "@\u200beveryone" in text


def test_each_transition_is_one_alert_and_an_unchanged_incident_none(
    hook: Webhook, store: Store
) -> None:
    alerter = Alerter(config({"name": "hook", "url": hook.url}, min_interval_minutes=0), store)
    steps = [
        (incident(), ["opened"]),
        (incident(), []),
        (incident(severity="high"), ["escalated"]),
        (incident(severity="high", scope="industry", peers=({"brand": "spark"},)), ["scope"]),
        (incident(severity="high", scope="industry", peers=({"brand": "spark"},)), []),
        (incident(severity="high", end=T0 + 9 * MIN), ["scope", "resolved"]),
        (incident(severity="high", end=T0 + 9 * MIN), []),
    ]
    for i, (inc, expected) in enumerate(steps):
        alerts = run(alerter, [inc], T0 + i * MIN)
        assert [a.event for a in alerts] == expected, i
    alerter.close(T0 + 9 * MIN)
    titles = [r["title"] for r in hook.received]
    assert titles == [
        "[MEDIUM] kiwinet: incident opened",
        "[HIGH] kiwinet: incident escalated medium → high",
        "[HIGH] kiwinet: scope changed",
        # the scope change back to "us" and the resolve came in one pass: one message
        "Uproar: 2 alerts",
    ]
    assert "[HIGH] kiwinet: incident resolved" in hook.received[-1]["message"]


def test_a_reopened_incident_alerts_again_with_a_new_phase(hook: Webhook, store: Store) -> None:
    alerter = Alerter(config({"name": "hook", "url": hook.url}, min_interval_minutes=0), store)
    run(alerter, [incident()], T0)
    run(alerter, [incident(end=T0 + 5 * MIN)], T0 + 5 * MIN)
    again = run(alerter, [incident()], T0 + 20 * MIN)
    run(alerter, [incident(end=T0 + 30 * MIN)], T0 + 30 * MIN)
    alerter.close(T0 + 30 * MIN)
    assert [(a.event, a.revision) for a in again] == [("opened", "phase2")]
    assert [r["title"] for r in hook.received] == [
        "[MEDIUM] kiwinet: incident opened",
        "[MEDIUM] kiwinet: incident resolved",
        "[MEDIUM] kiwinet: incident opened",
        "[MEDIUM] kiwinet: incident resolved",
    ]


def test_rate_limit_holds_updates_then_sends_them_together(hook: Webhook, store: Store) -> None:
    alerter = Alerter(config({"name": "hook", "url": hook.url}, min_interval_minutes=15), store)
    run(alerter, [incident()], T0)
    run(alerter, [incident(severity="high")], T0 + 2 * MIN)  # within 15 minutes: held
    run(alerter, [incident(severity="high", regions=("NZ-AUK", "NZ-CAN"))], T0 + 5 * MIN)
    assert len(hook.received) == 1
    held = sql.rows(store, statuses=("held",))
    assert {(r.event, r.reason) for r in held} == {
        ("escalated", "rate limit"),
        ("scope", "rate limit"),
    }
    assert {r.due_at for r in held} == {T0 + 15 * MIN}
    run(alerter, [incident(severity="high", regions=("NZ-AUK", "NZ-CAN"))], T0 + 14 * MIN)
    assert len(hook.received) == 1
    run(alerter, [incident(severity="high", regions=("NZ-AUK", "NZ-CAN"))], T0 + 15 * MIN)
    alerter.close(T0 + 15 * MIN)
    assert len(hook.received) == 2
    assert hook.received[1]["title"] == "Uproar: 2 alerts"
    assert "Regions: NZ-AUK, NZ-CAN" in hook.received[1]["message"]


def test_critical_escalation_and_resolve_skip_the_rate_limit_and_supersede_what_waits(
    hook: Webhook, store: Store
) -> None:
    alerter = Alerter(config({"name": "hook", "url": hook.url}, min_interval_minutes=30), store)
    run(alerter, [incident()], T0)
    run(alerter, [incident(severity="high")], T0 + 1 * MIN)  # held by the rate limit
    run(alerter, [incident(severity="critical")], T0 + 2 * MIN)  # goes at once
    run(alerter, [incident(severity="critical", end=T0 + 3 * MIN)], T0 + 3 * MIN)  # at once
    alerter.close(T0 + 3 * MIN)
    assert [r["title"] for r in hook.received] == [
        "[MEDIUM] kiwinet: incident opened",
        "[CRITICAL] kiwinet: incident escalated high → critical",
        "[CRITICAL] kiwinet: incident resolved",
    ]
    statuses = {(r.event, r.revision): r.status for r in sql.rows(store)}
    assert statuses[("escalated", "high")] == "superseded"


def test_quiet_hours_hold_alerts_below_critical_and_summarise_them_after(
    hook: Webhook, store: Store
) -> None:
    quiet = {"start": "22:00", "end": "07:00", "tz": "Pacific/Auckland"}
    alerter = Alerter(config({"name": "hook", "url": hook.url, "quiet_hours": quiet}), store)
    night = T0.replace(hour=10)  # 23:00 NZDT
    other = incident(id="spark-1", brand="spark", severity="critical")
    run(alerter, [incident(), other], night)
    assert [r["title"] for r in hook.received] == ["[CRITICAL] spark: incident opened"]
    run(alerter, [incident(end=night + 30 * MIN), other], night + 30 * MIN)
    assert len(hook.received) == 1
    held = sql.rows(store, statuses=("held",))
    morning = T0.replace(hour=18)  # 07:00 NZDT
    assert {(r.event, r.reason, r.due_at) for r in held} == {
        ("opened", "quiet hours", morning),
        ("resolved", "quiet hours", morning),
    }
    run(alerter, [], morning - MIN)
    assert len(hook.received) == 1
    run(alerter, [], morning)
    alerter.close(morning)
    assert len(hook.received) == 2
    summary = hook.received[1]
    assert summary["title"] == "Uproar: 2 alerts"
    assert "• [MEDIUM] kiwinet: incident opened" in summary["message"]
    assert "• [MEDIUM] kiwinet: incident resolved" in summary["message"]


def test_min_severity_and_brand_filters_choose_the_channels(store: Store, hook: Webhook) -> None:
    alerter = Alerter(
        config(
            {"name": "all", "url": hook.url},
            {"name": "severe", "url": hook.url, "min_severity": "high"},
            {"name": "spark-team", "url": hook.url, "brands": ["spark"]},
            min_interval_minutes=0,
        ),
        store,
    )
    first = run(alerter, [incident(severity="low")], T0)
    assert [a.channel for a in first] == ["all"]
    second = run(alerter, [incident(severity="high")], T0 + MIN)
    assert [(a.channel, a.event) for a in second] == [("all", "escalated"), ("severe", "escalated")]
    alerter.close(T0 + MIN)
    assert len(hook.received) == 3


def test_history_from_before_the_watch_is_recorded_but_not_announced(
    hook: Webhook, store: Store
) -> None:
    alerter = Alerter(config({"name": "hook", "url": hook.url}), store)
    old = incident(id="old", end=T0 - timedelta(days=2))
    recent = incident(id="recent", end=T0 - 10 * MIN)
    alerts = run(alerter, [old, recent], T0)
    alerter.close(T0)
    assert [(a.incident, a.event) for a in alerts] == [("recent", "resolved")]
    assert sql.load_snapshots(store, ["old"])["old"]["open"] is False


def test_a_failed_send_is_retried_with_backoff_and_recorded(hook: Webhook, store: Store) -> None:
    hook.fail_next = 2
    alerter = Alerter(
        config({"name": "hook", "url": hook.url}, retry_base_seconds=60, max_attempts=5), store
    )
    run(alerter, [incident()], T0)
    (row,) = sql.rows(store)
    assert (row.status, row.attempts, row.due_at, row.reason) == ("failed", 1, T0 + MIN, "retry")
    assert row.error and "500" in row.error
    run(alerter, [incident()], T0 + 30 * timedelta(seconds=1))  # not due yet
    assert sql.rows(store)[0].attempts == 1
    run(alerter, [incident()], T0 + MIN)
    (row,) = sql.rows(store)
    assert (row.status, row.attempts, row.due_at) == ("failed", 2, T0 + 3 * MIN)  # doubled
    run(alerter, [incident()], T0 + 3 * MIN)
    alerter.close(T0 + 3 * MIN)
    (row,) = sql.rows(store)
    assert (row.status, row.attempts) == ("sent", 3)
    assert hook.failed == 2 and len(hook.received) == 1


def test_a_channel_that_never_answers_gives_up_without_blocking_the_others(
    hook: Webhook, store: Store
) -> None:
    dead = "json://127.0.0.1:1/hook"  # nothing listens on port 1
    alerter = Alerter(
        config(
            {"name": "dead", "url": dead},
            {"name": "hook", "url": hook.url},
            retry_base_seconds=1,
            max_attempts=2,
        ),
        store,
    )
    run(alerter, [incident()], T0)
    run(alerter, [incident()], T0 + MIN)
    alerter.close(T0 + MIN)
    by_channel = {r.channel: r for r in sql.rows(store)}
    assert by_channel["hook"].status == "sent"
    assert (by_channel["dead"].status, by_channel["dead"].attempts) == ("gave_up", 2)
    assert "Connection" in (by_channel["dead"].error or "")


def test_a_restarted_alerter_never_repeats_an_alert(hook: Webhook, tmp_path: Path) -> None:
    db = tmp_path / "watch.duckdb"
    settings = config({"name": "hook", "url": hook.url}, min_interval_minutes=0)
    with Store(db) as store:
        alerter = Alerter(settings, store)
        run(alerter, [incident()], T0)
        run(alerter, [incident(severity="high")], T0 + MIN)
        alerter.close(T0 + MIN)
    with Store(db) as store:
        alerter = Alerter(settings, store)
        # the same snapshots again (the detector replays its state): nothing new
        assert run(alerter, [incident(severity="high")], T0 + 2 * MIN) == []
        # what changed while it was down is still announced
        assert [a.event for a in run(alerter, [incident(severity="critical")], T0 + 3 * MIN)] == [
            "escalated"
        ]
        alerter.close(T0 + 3 * MIN)
    assert [r["title"].split(": ", 1)[1] for r in hook.received] == [
        "incident opened",
        "incident escalated medium → high",
        "incident escalated high → critical",
    ]


def test_an_alert_in_flight_when_the_process_died_is_not_resent(
    hook: Webhook, tmp_path: Path
) -> None:
    db = tmp_path / "watch.duckdb"
    settings = config({"name": "hook", "url": hook.url})
    with Store(db) as store:
        alerter = Alerter(settings, store)
        alerter.observe([incident()], T0)  # handed to Apprise on a worker thread
        # a kill -9 now: the message goes out, but its outcome is never recorded
        alerter._courier.close()
        assert [r.status for r in sql.rows(store)] == ["sending"]
    assert len(hook.received) == 1
    with Store(db) as store:
        alerter = Alerter(settings, store)
        assert alerter.recovered == 1
        run(alerter, [incident()], T0 + MIN)
        alerter.close(T0 + MIN)
        assert [r.status for r in sql.rows(store)] == ["unknown"]
    assert len(hook.received) == 1


def test_apprise_log_lines_never_show_a_channels_secret(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "json://admin:s3cretpass@127.0.0.1:1/hook"  # nothing listens on port 1
    alerter = Alerter(config({"name": "down", "url": secret}), store)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("apprise").warning("posting to %s failed", secret)
        run(alerter, [incident()], T0)
        alerter.close(T0)
    assert "posting to json://admin:****@127.0.0.1:1/hook" in caplog.text
    assert "failed (try 1 of 6), retrying in 30 s" in caplog.text
    assert "s3cretpass" not in caplog.text
    (row,) = sql.rows(store)
    assert row.status == "failed" and "s3cretpass" not in (row.error or "")


def test_a_backlog_goes_as_summaries_of_bounded_size(hook: Webhook, store: Store) -> None:
    quiet = {"start": "22:00", "end": "07:00", "tz": "Pacific/Auckland"}
    alerter = Alerter(config({"name": "hook", "url": hook.url, "quiet_hours": quiet}), store)
    night = T0.replace(hour=10)  # 23:00 NZDT
    many = [incident(id=f"inc-{i}") for i in range(MAX_PER_MESSAGE + 5)]
    run(alerter, many, night)
    assert hook.received == []
    morning = T0.replace(hour=18)
    run(alerter, [], morning)
    run(alerter, [], morning + MIN)
    alerter.close(morning + MIN)
    assert [r["title"] for r in hook.received] == [
        f"Uproar: {MAX_PER_MESSAGE} alerts",
        "Uproar: 5 alerts",
    ]
    assert sql.status_counts(store) == {"sent": MAX_PER_MESSAGE + 5}
