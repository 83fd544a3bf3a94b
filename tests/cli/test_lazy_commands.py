"""A run imports only its own command's stage; help, eval and typos still see every command."""

from __future__ import annotations

import subprocess
import sys

import typer

from uproar.cli.app import COMMAND_MODULE, get_app


def test_every_top_level_command_names_the_module_that_registers_it() -> None:
    group = typer.main.get_command(get_app())
    registered = {
        name: command.callback.__module__.rsplit(".", 1)[-1]
        for name, command in group.commands.items()  # type: ignore[attr-defined]
        if name != "eval" and command.callback is not None
    }
    groups = {name for name, c in group.commands.items() if c.callback is None}  # type: ignore[attr-defined]
    assert set(COMMAND_MODULE) == set(registered) | (groups - {"eval"})
    for name, module in registered.items():
        assert COMMAND_MODULE[name] == module, name


def imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys; from uproar.cli.app import get_app; "
        f"get_app({argv!r}); print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_ingest_loads_neither_the_dashboard_nor_the_report() -> None:
    modules = imported_after(["ingest", "x.jsonl", "--db", "s.duckdb"])
    assert "uproar.cli.ingest" in modules
    assert not {"fastapi", "altair", "uproar.serve", "uproar.report"} & modules


def test_help_and_unknown_words_load_every_command() -> None:
    for argv in (["--help"], ["eval", "detect"], ["ingset"]):
        assert "uproar.cli.serve" in imported_after(argv), argv
