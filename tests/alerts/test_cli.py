"""``uproar alerts test``: each channel's outcome, loudly, and exit status 2 on a failure."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from uproar.cli.app import get_app

from .receivers import Mailbox, Webhook


def watch_toml(tmp_path: Path, channels: str) -> Path:
    path = tmp_path / "watch.toml"
    path.write_text(f'[alerts]\ndashboard_url = "https://dash.example"\n{channels}')
    return path


def test_every_channel_gets_a_test_message(
    runner: CliRunner, tmp_path: Path, hook: Webhook, mailbox: Mailbox
) -> None:
    config = watch_toml(
        tmp_path,
        f'[[alerts.channels]]\nname = "hook"\nurl = "{hook.url}"\n'
        f'[[alerts.channels]]\nname = "mail"\nurl = "{mailbox.url()}"\n',
    )
    result = runner.invoke(get_app(), ["alerts", "test", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "sent    hook" in result.output and "sent    mail" in result.output
    assert hook.received[0]["title"] == "[TEST] Uproar alerts work"
    assert "https://dash.example/incidents/example" in hook.received[0]["message"]
    assert mailbox.messages[0]["Subject"] == "[TEST] Uproar alerts work"


def test_one_channel_by_name(runner: CliRunner, tmp_path: Path, hook: Webhook) -> None:
    config = watch_toml(
        tmp_path,
        f'[[alerts.channels]]\nname = "hook"\nurl = "{hook.url}"\n'
        '[[alerts.channels]]\nname = "other"\nurl = "json://127.0.0.1:1/x"\n',
    )
    result = runner.invoke(
        get_app(), ["alerts", "test", "--config", str(config), "--channel", "hook", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert [c["channel"] for c in json.loads(result.stdout)["channels"]] == ["hook"]
    bad = runner.invoke(get_app(), ["alerts", "test", "--config", str(config), "--channel", "hok"])
    assert bad.exit_code == 2
    assert "unknown alert channel 'hok'; did you mean 'hook'?" in bad.output


def test_a_failing_channel_is_loud_exits_2_and_hides_its_secret(
    runner: CliRunner, tmp_path: Path, hook: Webhook
) -> None:
    config = watch_toml(
        tmp_path,
        f'[[alerts.channels]]\nname = "hook"\nurl = "{hook.url}"\n'
        '[[alerts.channels]]\nname = "down"\n'
        'url = "json://admin:s3cretpass@127.0.0.1:1/hook"\n',
    )
    result = runner.invoke(get_app(), ["alerts", "test", "--config", str(config)])
    assert result.exit_code == 2
    assert "sent    hook" in result.output
    assert "FAILED  down" in result.output
    assert "1 of 2 channel(s) failed" in result.output
    assert "s3cretpass" not in result.output
    as_json = runner.invoke(get_app(), ["alerts", "test", "--config", str(config), "--json"])
    assert as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert [c["ok"] for c in report["channels"]] == [True, False]
    assert "s3cretpass" not in as_json.stdout


def test_no_channels_is_an_error_not_an_all_clear(runner: CliRunner, tmp_path: Path) -> None:
    config = watch_toml(tmp_path, "")
    result = runner.invoke(get_app(), ["alerts", "test", "--config", str(config)])
    assert result.exit_code == 2
    assert "no alert channels configured" in result.output


def test_a_typo_in_the_file_names_the_key(runner: CliRunner, tmp_path: Path) -> None:
    config = watch_toml(tmp_path, '[[alerts.channels]]\nname = "x"\nurl = "jsno://h/x"\n')
    result = runner.invoke(get_app(), ["alerts", "test", "--config", str(config)])
    assert result.exit_code == 2
    assert "alerts.channels[0].url (x): unknown Apprise scheme 'jsno'; did you mean 'json'?" in (
        " ".join(result.output.split())
    )
