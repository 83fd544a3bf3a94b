"""Help shows what to type, never Python's type names (`<bool>`, `<list[Path]>`, `{paths}...`)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from uproar.cli.app import get_app

INTERNAL = re.compile(r"<(bool|str|int|float|path|list\[[^\]]*\])>|\{\w+\}|list\[", re.I)


def every_command() -> list[list[str]]:
    """The path of every command and group, e.g. ["eval", "detect"], the root as []."""
    found: list[list[str]] = [[]]

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            found.append([*prefix, name])
            walk(command, [*prefix, name])

    walk(typer.main.get_command(get_app()), [])
    return found


@pytest.mark.parametrize("path", every_command(), ids=lambda p: " ".join(p) or "uproar")
def test_help_has_no_internal_type_names(runner: CliRunner, path: list[str]) -> None:
    result = runner.invoke(get_app(), [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert not INTERNAL.search(result.output), INTERNAL.search(result.output)
