"""The brands file: the documented shape loads; mistakes name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from uproar.config import load_brands, parse_brands, setting
from uproar.errors import ConfigError


def test_documented_shape_loads(fixtures: Path) -> None:
    brands = load_brands(fixtures / "brands.toml")
    kiwinet = brands["kiwinet"]
    assert kiwinet.name == "KiwiNet"
    assert kiwinet.handles == ("@KiwiNet", "@KiwiNetHelp")
    assert kiwinet.peers == ("tuinet", "wekamobile")
    assert kiwinet.handle_names == {"kiwinet", "kiwinethelp"}


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"name": ""}, "brands.b.name"),
        ({"handles": "@B"}, "brands.b.handles"),
        ({"handles": ["B"]}, "brands.b.handles"),
        ({"hashtags": ["b"], "handles": ["@B"]}, "brands.b.hashtags"),
        ({"handles": ["@B"], "peers": ["nobody"]}, "brands.b.peers"),
        ({"name": "B"}, "brands.b"),
    ],
)
def test_errors_name_the_key(spec: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_brands({"brands": {"b": spec}})
    assert caught.value.context["key"] == key
    assert key in caught.value.message


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "brands.toml"
    bad.write_text("[brands.x\nname = 1")
    with pytest.raises(ConfigError, match=r"brands\.toml: not valid TOML"):
        load_brands(bad)


def test_setting_precedence() -> None:
    assert setting("db", "flag.duckdb", env={"UPROAR_DB": "env.duckdb"}) == "flag.duckdb"
    assert setting("db", env={"UPROAR_DB": "env.duckdb"}) == "env.duckdb"
    assert setting("db", env={}, file_values={"db": "file.duckdb"}) == "file.duckdb"
    assert setting("db", env={}) == "uproar.duckdb"
    assert setting("batch_size", env={"UPROAR_BATCH_SIZE": "10"}) == 10
