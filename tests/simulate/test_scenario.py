"""Scenario files: the shipped ones load, and bad ones fail naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from uproar.errors import ConfigError
from uproar.simulate import load_scenario, parse_scenario, shipped_scenarios, simulate
from uproar.simulate.scenario import parse_minutes

MINIMAL = """
[scenario]
start = "2014-09-01T00:00:00Z"
days = 0.25

[brands.acme]
name = "Acme"
handles = ["@Acme"]
keywords = ["acme"]
mentions_per_hour = 40
"""


def minimal(**patch: Any) -> dict[str, Any]:
    data = tomllib.loads(MINIMAL)
    for dotted, value in patch.items():
        node = data
        *parents, last = dotted.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return data


def test_shipped_scenarios_load() -> None:
    names = shipped_scenarios()
    assert {"isp-2014", "airline-disruption", "regional-mobile-outage"} <= set(names)
    for name in names:
        sc = load_scenario(name)
        assert sc.name == name
        assert sc.brands and sc.days > 0


def test_isp_2014_is_the_2014_story() -> None:
    sc = load_scenario("isp-2014")
    kiwinet = sc.brand("kiwinet")
    assert kiwinet.brand.handles == ("@KiwiNet", "@KiwiNetHelp")
    assert set(kiwinet.brand.peers) == {"tuinet", "wekamobile"}
    (incident,) = sc.incidents
    assert incident.scope == "brand" and incident.peers_hit == ()
    assert "security" in incident.topics
    assert any("not supplied by us" in t for u in incident.updates for t in u.thread)
    assert sc.rumours[0].kind == "bait_link" and sc.rumours[0].onset < incident.onset


def test_load_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    sc = load_scenario(path)
    assert sc.name == "mine" and sc.minutes == 360


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"scenario__days": "five"}, "scenario.days"),
        ({"scenario__start": "yesterday"}, "scenario.start"),
        ({"scenario__bogus": 1}, "scenario.bogus"),
        ({"brands__acme__mentions_per_hour": -3}, "brands.acme.mentions_per_hour"),
        ({"brands__acme__timezone": "Mars/Olympus"}, "brands.acme.timezone"),
        ({"brands__acme__industry": "bakery"}, "brands.acme.industry"),
        ({"brands__acme__handles": ["Acme"]}, "brands.acme.handles"),
        ({"brands__acme__daily": [1, 2, 3]}, "brands.acme.daily"),
        (
            {
                "incidents": [
                    {
                        "brand": "nobody",
                        "onset": "2014-09-01T01:00:00Z",
                        "duration": "1h",
                        "magnitude": 3,
                    }
                ]
            },
            "incidents[0].brand",
        ),
        (
            {
                "incidents": [
                    {
                        "brand": "acme",
                        "onset": "2014-09-01T01:00:00Z",
                        "duration": "1h",
                        "magnitude": 0.5,
                    }
                ]
            },
            "incidents[0].magnitude",
        ),
        (
            {
                "incidents": [
                    {
                        "brand": "acme",
                        "onset": "2014-09-01T01:00:00Z",
                        "duration": "soon",
                        "magnitude": 3,
                    }
                ]
            },
            "incidents[0].duration",
        ),
        (
            {
                "incidents": [
                    {
                        "brand": "acme",
                        "onset": "2014-09-01T01:00:00Z",
                        "duration": "1h",
                        "magnitude": 3,
                        "onset_shape": "wobbly",
                    }
                ]
            },
            "incidents[0].onset_shape",
        ),
        (
            {
                "rumours": [
                    {
                        "brand": "acme",
                        "kind": "bait_link",
                        "url": "not a url",
                        "onset": "2014-09-01T01:00:00Z",
                        "duration": "1h",
                    }
                ]
            },
            "rumours[0].url",
        ),
        (
            {
                "floods": [
                    {
                        "brand": "acme",
                        "onset": "2014-09-01T01:00:00Z",
                        "duration": "1h",
                        "posts": 2.5,
                    }
                ]
            },
            "floods[0].posts",
        ),
        ({"holidays": [{"date": "someday"}]}, "holidays[0].date"),
    ],
)
def test_bad_scenario_names_the_key(patch: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(minimal(**patch), source="bad.toml")
    assert key in err.value.message
    assert err.value.context.get("key") == key


def test_unknown_topic_names_the_key(tmp_path: Path) -> None:
    data = minimal(
        incidents=[
            {
                "brand": "acme",
                "onset": "2014-09-01T01:00:00Z",
                "duration": "1h",
                "magnitude": 3,
                "topics": ["dragons"],
            }
        ]
    )
    with pytest.raises(ConfigError, match=r"incidents\[0\]\.topics.*dragons"):
        simulate(parse_scenario(data), tmp_path / "x.jsonl", seed=1)


def test_missing_file_names_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="isp-2014"):
        load_scenario("no-such-scenario")


def test_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[scenario\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90m", 90),
        ("36h", 2160),
        ("2d", 2880),
        ("1h30m", 90),
        (45, 45),
        ("1.5h", 90),
        ("", None),
        ("soon", None),
        (True, None),
    ],
)
def test_durations(text: object, minutes: float | None) -> None:
    assert parse_minutes(text) == minutes
