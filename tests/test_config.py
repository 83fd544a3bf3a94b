"""The brands file: the documented shape loads; mistakes name the key."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from uproar.config import Settings, load_brands, parse_brands, setting
from uproar.datafiles import decode
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


def test_settings_resolve_once_into_a_frozen_object(tmp_path: Path) -> None:
    config = tmp_path / "uproar.toml"
    config.write_text('db = "file.duckdb"\nbatch_size = 500\nmodel = "accurate"\n')
    env = {"UPROAR_BATCH_SIZE": "1000", "UPROAR_CONFIG": str(config)}
    resolved = Settings.resolve({"model": "fast"}, env=env)
    assert (resolved.db, resolved.batch_size, resolved.model) == ("file.duckdb", 1000, "fast")
    with pytest.raises(AttributeError):
        resolved.db = "other.duckdb"  # type: ignore[misc]
    assert resolved.with_flags(db=Path("flag.duckdb"), brands=None).db == "flag.duckdb"


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"batch_size": 0}, {}, "--batch-size: expected a whole number above 0, got 0"),
        ({}, {"UPROAR_BATCH_SIZE": "abc"}, "UPROAR_BATCH_SIZE: expected a whole number above 0"),
        ({}, {"UPROAR_MODEL": "big"}, "UPROAR_MODEL: expected 'fast' or 'accurate', got 'big'"),
    ],
)
def test_bad_settings_name_their_source(
    flags: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.resolve(flags, env=env)
    assert caught.value.message.startswith(message)


def test_a_settings_file_typo_suggests_the_key(tmp_path: Path) -> None:
    config = tmp_path / "uproar.toml"
    config.write_text("batchsize = 10\n")
    with pytest.raises(ConfigError, match=r"unknown key 'batchsize'; did you mean 'batch_size'"):
        Settings.resolve(env={"UPROAR_CONFIG": str(config)})


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    words: tuple[str, ...] = ()


class Outer(msgspec.Struct, forbid_unknown_fields=True):
    tables: dict[str, Inner]


def test_the_translator_names_the_entry_msgspec_writes_as_dots() -> None:
    data = {"tables": {"good": {"words": ["a"]}, "bad": {"wrods": ["b"]}}}
    with pytest.raises(ConfigError) as caught:
        decode(data, Outer, source="f.toml")
    assert caught.value.message == "f.toml: tables.bad: unknown key 'wrods'; did you mean 'words'?"
    assert caught.value.context == {"file": "f.toml", "key": "tables.bad.wrods"}
    with pytest.raises(ConfigError) as caught:
        decode({"tables": {"x": {"words": "a"}}}, Outer, source="f.toml")
    assert caught.value.message == "f.toml: tables.x.words: expected a list, got 'a'"
    with pytest.raises(ConfigError, match="missing key 'tables'"):
        decode({}, Outer, source="f.toml")
