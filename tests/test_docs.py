"""Documentation keeps up with the code: every table, command and setting is described."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from uproar.cli.app import get_app
from uproar.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_every_table_is_documented() -> None:
    schema = (ROOT / "src/uproar/store/schema.sql").read_text()
    tables = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema)
    documented = set(re.findall(r"^## `(\w+)`", (ROOT / "docs/schema.md").read_text(), re.M))
    assert tables and set(tables) <= documented, set(tables) - documented


def commands() -> dict[str, Any]:
    """Every leaf command by its full name, e.g. "ingest" or "eval detect"."""
    found: dict[str, Any] = {}

    def walk(group: Any, prefix: str) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, f"{prefix}{name} ")
            else:
                found[f"{prefix}{name}"] = command

    walk(typer.main.get_command(get_app()), "")
    return found


def test_every_command_has_help_and_examples() -> None:
    assert "ingest" in commands()
    for name, command in commands().items():
        assert command.help, name
        assert command.epilog and "Examples" in command.epilog, name


def test_every_command_and_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in commands():
        assert f"uproar {name}" in readme, name
    for setting in SETTINGS:
        assert setting.env in readme, setting.env
