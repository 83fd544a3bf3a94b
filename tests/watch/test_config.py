"""watch.toml: a declared shape, loud about mistakes, tokens from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.errors import ConfigError
from uproar.watch.config import load_watch, parse_watch
from uproar.watch.runner import sources_for
from uproar.watch.xstream import XStreamSource

FULL = """
brands = "brands.toml"
[detect]
every = 2.5
[limits]
max_pending = 5000
[[bluesky]]
url = "ws://127.0.0.1:1/subscribe"
[[mastodon]]
instance = "https://mastodon.example"
tag = "kiwinet"
token_env = "MASTO"
[[rss]]
url = "https://news.example/rss"
every = 60
[[rss]]
url = "https://news.example/comments/feed"
platform = "comments"
[x]
token_env = "XTOKEN"
[http]
port = 9999
[alerts]
[[alerts.channels]]
name = "ops"
url = "json://127.0.0.1:9/hook"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watch.toml"
    path.write_text(text)
    return path


def test_a_full_file_names_every_listener(tmp_path: Path) -> None:
    config = load_watch(write(tmp_path, FULL), env={"MASTO": "m", "XTOKEN": "x"})
    assert config.brands == tmp_path / "brands.toml"  # relative to the file
    assert config.file.detect.every == 2.5 and config.file.limits.max_pending == 5000
    assert config.tokens == {"MASTO": "m", "XTOKEN": "x"}
    assert config.alerts is not None and [c.name for c in config.alerts.channels] == ["ops"]
    sources = sources_for(config)
    assert [s.name for s in sources] == [
        "ws://127.0.0.1:1/subscribe",
        "wss://mastodon.example/api/v1/streaming",
        "https://news.example/rss",
        "https://news.example/comments/feed",
        "https://api.x.com/2/tweets/search/stream",
        "http://127.0.0.1:9999/v1/posts",
    ]
    x = sources[4]
    assert isinstance(x, XStreamSource) and x.token == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[bluesky]]\nurl = 'ws://h/s'\n[detekt]\nevery = 1",
            "unknown key 'detekt'; did you mean 'detect'?",
        ),
        (
            "[[rss]]\nurl = 'https://h/f'\nevry = 5",
            "rss[0]: unknown key 'evry'; did you mean 'every'?",
        ),
        ("[[rss]]\nurl = 'ftp://h/f'", "rss[0].url: expected an http(s):// or ws(s):// URL"),
        ("[[rss]]\nurl = 'https://h/f'\nevery = 0", "expected a number of seconds above 0"),
        ("[detect]\nevery = 1", "no listeners"),
        ("[x]\ntoken_env = 'NOPE_UNSET'", "x.token_env names $NOPE_UNSET, which is not set"),
        (
            "[[bluesky]]\n[alerts]\n[[alerts.channels]]\nname = 'a'\nurl = 'json://h'\n"
            "min_sevrity = 'high'",
            "did you mean 'min_severity'?",
        ),
        ("[http]\nhost = '0.0.0.0'\n", None),  # refused later, by the endpoint, without a token
    ],
)
def test_mistakes_are_loud(tmp_path: Path, text: str, message: str | None) -> None:
    if message is None:
        config = load_watch(write(tmp_path, text), env={})
        with pytest.raises(ConfigError, match="token"):
            sources_for(config)
        return
    with pytest.raises(ConfigError) as caught:
        load_watch(write(tmp_path, text), env={})
    assert message in caught.value.message
    assert str(tmp_path / "watch.toml") in caught.value.message


def test_the_cli_says_what_is_wrong(tmp_path: Path) -> None:
    path = write(tmp_path, "[[bluesky]]\nurl = 'ws://h/s'\n[limits]\nmax_pendng = 5\n")
    result = CliRunner().invoke(
        get_app(), ["watch", "--db", str(tmp_path / "w.duckdb"), "--config", str(path)]
    )
    assert result.exit_code == 2
    assert "did you mean 'max_pending'?" in result.output
    assert not (tmp_path / "w.duckdb").exists()  # nothing was opened for a bad file


def test_a_token_is_never_taken_from_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key 'token'"):
        parse_watch({"x": {"token": "secret"}}, source="watch.toml", base=tmp_path, env={})
