"""The [alerts] table: loud, precise errors, and never a secret in one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from uproar.alerts import load_alerts, mask, parse_alerts
from uproar.alerts.config import QuietHours, scrub
from uproar.errors import ConfigError

SECRET_SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops"


def load(alerts: dict[str, Any]) -> Any:
    return parse_alerts({"alerts": alerts, "listeners": {"ignored": True}}, source="watch.toml")


def error(alerts: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        load(alerts)
    return info.value.message


def test_a_full_table_loads_and_other_tables_are_left_to_the_watch() -> None:
    config = load(
        {
            "dashboard_url": "https://dash.example/",
            "channels": [
                {"name": "ops", "url": SECRET_SLACK, "min_severity": "high", "brands": ["kiwinet"]},
                {
                    "name": "mail",
                    "url": "mailtos://alerts:hunter22@smtp.example.com?to=oncall@example.com",
                    "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Pacific/Auckland"},
                },
                {"name": "hook", "url": "json://hooks.example.com/uproar"},
                {"name": "teams", "url": "workflows://prod.logic.azure.com/abc123/def456"},
                {"name": "discord", "url": "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV"},
            ],
        }
    )
    assert [c.name for c in config.channels] == ["ops", "mail", "hook", "teams", "discord"]
    assert config.link(config.channels[0], "kiwinet-1/x") == (
        "https://dash.example/incidents/kiwinet-1%2Fx"
    )
    assert config.channel("ops").wants("kiwinet", "critical")
    assert not config.channel("ops").wants("kiwinet", "medium")
    assert not config.channel("ops").wants("spark", "critical")


def test_a_file_without_alerts_has_no_channels(tmp_path: Path) -> None:
    path = tmp_path / "watch.toml"
    path.write_text("[listeners]\nbluesky = true\n")
    assert load_alerts(path).channels == ()


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        (
            {"channels": [{"name": "a", "url": "json://h/x", "min_severty": "high"}]},
            "watch.toml: alerts.channels[0]: unknown key 'min_severty'; "
            "did you mean 'min_severity'?",
        ),
        (
            {"channels": [{"name": "teams", "url": "msteams://team/abc/def/ghi"}]},
            "watch.toml: alerts.channels[0].url (teams): unknown Apprise scheme 'msteams'; "
            "Microsoft retired Teams' Office 365 connectors",
        ),
        (
            {"chanels": []},
            "watch.toml: alerts: unknown key 'chanels'; did you mean 'channels'?",
        ),
        (
            {"channels": [{"name": "a", "url": "json://h/x", "min_severity": "urgent"}]},
            "watch.toml: alerts.channels[0].min_severity: expected 'low', 'medium', 'high' or "
            "'critical'",
        ),
        (
            {"channels": [{"url": "json://h/x"}]},
            "watch.toml: alerts.channels[0]: missing key 'name'",
        ),
        (
            {"channels": [{"name": "a", "url": "slakc://T1/B2/C3"}]},
            "watch.toml: alerts.channels[0].url (a): unknown Apprise scheme 'slakc'; did you "
            "mean 'slack'?",
        ),
        (
            {"channels": [{"name": "a", "url": "json://h/x"}, {"name": "a", "url": "json://h/y"}]},
            "watch.toml: alerts.channels[1].name: channel 'a' is named twice",
        ),
        (
            {
                "channels": [
                    {
                        "name": "a",
                        "url": "json://h/x",
                        "quiet_hours": {"start": "22:00", "end": "7am", "tz": "UTC"},
                    }
                ]
            },
            "watch.toml: alerts.channels[0].quiet_hours.end: expected a time of day like '22:00'",
        ),
        (
            {
                "channels": [
                    {
                        "name": "a",
                        "url": "json://h/x",
                        "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Mars/Olympus"},
                    }
                ]
            },
            "watch.toml: alerts.channels[0].quiet_hours.tz: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"dashboard_url": "dash.example", "channels": [{"name": "a", "url": "json://h/x"}]},
            "watch.toml: alerts.dashboard_url: expected an http(s) address",
        ),
    ],
)
def test_mistakes_are_loud_and_name_the_key(alerts: dict[str, Any], expected: str) -> None:
    assert error(alerts).startswith(expected)


def test_secrets_never_appear_in_an_error() -> None:
    # Slack needs three tokens; with two, Apprise refuses it
    bad = "slack://T1JJ3T3L2/A1BRTD4JD"
    message = error({"channels": [{"name": "ops", "url": bad}]})
    assert "Apprise cannot use" in message
    assert "T1JJ3T3L2" not in message and "A1BRTD4JD" not in message
    password = "mailtos://alerts:hunter22@smtp.example.com?to=oncall@example.com"
    assert "hunter22" not in mask(password) and "****" in mask(password)
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in mask(SECRET_SLACK)
    unparsable = "slakc://xoxb-SECRET-TOKEN-123@hooks"
    assert "SECRET" not in error({"channels": [{"name": "a", "url": unparsable}]})
    assert mask(unparsable) == "slakc://****"
    echoed = f"could not post to {SECRET_SLACK}: token TIiajkdnlazkcOXrIdevi7FQ refused"
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in scrub(echoed, SECRET_SLACK)


def test_unknown_channel_name_has_a_did_you_mean() -> None:
    config = load({"channels": [{"name": "ops-slack", "url": "json://h/x"}]})
    with pytest.raises(
        ConfigError, match="unknown alert channel 'ops-slak'; did you mean 'ops-slack'"
    ):
        config.channel("ops-slak")


def test_quiet_hours_across_midnight_and_daylight_saving() -> None:
    quiet = QuietHours(start="22:00", end="07:00", tz="Pacific/Auckland")
    # 23:30 NZDT on 4 April 2026 (DST ends at 03:00 on 5 April): ends 07:00 NZST = 19:00 UTC
    assert quiet.end_of(datetime(2026, 4, 4, 10, 30, tzinfo=UTC)) == datetime(
        2026, 4, 4, 19, 0, tzinfo=UTC
    )
    assert quiet.end_of(datetime(2026, 4, 4, 8, 0, tzinfo=UTC)) is None  # 21:00 NZDT
    assert quiet.end_of(datetime(2026, 4, 4, 18, 59, tzinfo=UTC)) is not None  # 06:59 NZST
    assert quiet.end_of(datetime(2026, 4, 4, 19, 0, tzinfo=UTC)) is None  # 07:00 NZST
    day = QuietHours(start="12:00", end="13:00", tz="UTC")
    assert day.end_of(datetime(2026, 4, 4, 12, 30, tzinfo=UTC)) == datetime(
        2026, 4, 4, 13, 0, tzinfo=UTC
    )
    assert (
        QuietHours(start="09:00", end="09:00", tz="UTC").end_of(datetime(2026, 4, 4, 9, tzinfo=UTC))
        is None
    )
