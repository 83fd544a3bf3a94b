"""The Typer application. Each stage's commands live in their own module and attach here.

A module in ``COMMAND_MODULES`` imports ``app`` (or ``eval_app``) from this file and
decorates its commands; ``get_app()`` imports them all (``main`` only the one a run
needs). Errors are handled in one place, ``UproarGroup.invoke``: a library error or a
usage error becomes one line on stderr, or the uniform ``{"ok": false, "error": ...,
"status": N}`` on stdout when the command was given ``--json``. Settings are resolved once
per run, when a command first asks (``common.settings``), into a frozen ``Settings`` kept
on the root context.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from uproar import __version__
from uproar.cli import clicklib as click
from uproar.errors import UproarError

JSON_KEY = "uproar.json"  # ctx.meta: whether the running command was given --json


class PlainOption(TyperOption):
    """An option whose help shows a value name (TEXT, PATH, x|mastodon) or nothing for a
    flag, never Python's type names (``<bool>``, ``<list[str]>``)."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        shown = (super().display_type_rich(ctx) or "").strip("<>").removesuffix("...")
        inner = shown.removeprefix("list[").removesuffix("]")
        return _TYPE_WORDS.get(inner, inner.upper())


class PlainArgument(TyperArgument):
    """An argument shown as ``PATHS...`` or ``[FILE]``, as click and man pages do."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return (self.metavar or self.name or "").upper() + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        if self.metavar:
            return self.metavar
        name = self._rich_display_name()
        return name if self.required else f"[{name}]"


# Typer's type names as click and man pages write them.
_TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "Path": "PATH"}


def _plain(params: list[click.Parameter]) -> list[click.Parameter]:
    for p in params:
        if type(p) is TyperOption:
            p.__class__ = PlainOption
        elif type(p) is TyperArgument:
            p.__class__ = PlainArgument
    return params


class UproarCommand(TyperCommand):
    """A command whose help names values, not Python types."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return _plain(super().get_params(ctx))


class UproarGroup(TyperGroup):
    """The root group: plain help, and the one place errors become one line (or JSON)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return _plain(super().get_params(ctx))

    def invoke(self, ctx: click.Context) -> Any:
        from uproar.cli.output import report_error, report_usage

        # The words after the group, kept for a usage error that comes before --json is read.
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except UproarError as exc:
            raise typer.Exit(report_error(exc, as_json=bool(ctx.meta.get(JSON_KEY)))) from None
        except click.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            # A usage error can come before --json is read: then look for the flag itself.
            as_json = bool(ctx.meta.get(JSON_KEY)) or "--json" in words
            raise typer.Exit(report_usage(exc, as_json=as_json)) from None
        except Exception as exc:
            # A DuckDB failure the store did not map itself still becomes one line naming the
            # store, never a traceback.
            duckdb = sys.modules.get("duckdb")
            if duckdb is None or not isinstance(exc, duckdb.Error):
                raise
            from uproar.store.store import map_duckdb_error

            db = ctx.obj.db if hasattr(ctx.obj, "db") else "the store"
            error = map_duckdb_error(exc, db)
            raise typer.Exit(report_error(error, as_json=bool(ctx.meta.get(JSON_KEY)))) from None


app = typer.Typer(
    name="uproar",
    cls=UproarGroup,
    help="Social-media incident command: listen, detect, understand, respond, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Score a stage against ground truth and print the table.")
app.add_typer(eval_app, name="eval")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"uproar {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version, help="Print the version and exit."
    ),
) -> None:
    """Social-media incident command: listen, detect, understand, respond, report."""


# One module per stage; each registers its commands on import.
COMMAND_MODULES: tuple[str, ...] = (
    "ingest",
    "listen",
    "respond",
    "lint",
    "simulate",
    "detect",
    "nab",
    "classify",
    "report",
    "export",
    "bus",
    "demo",
    "alerts",
    "drill",
    "serve",
    "watch",
)


def _use_plain_help(typer_app: typer.Typer) -> None:
    """Every command and group of ``typer_app`` (nested ones too) renders plain help."""
    for command in typer_app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = UproarCommand
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            if sub.info.cls in (None, TyperGroup) or not isinstance(sub.info.cls, type):
                sub.info.cls = _PlainGroup
            _use_plain_help(sub)


class _PlainGroup(TyperGroup):
    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return _plain(super().get_params(ctx))


# The module that registers each top-level command or group, so that a run imports only
# its command's stage: ``uproar ingest`` then starts about a second sooner and 180 MB
# smaller than with every stage's libraries (the dashboard's, the report's) loaded.
COMMAND_MODULE: dict[str, str] = {
    "ingest": "ingest", "posts": "ingest", "stats": "ingest", "listen": "listen",
    "thread": "respond", "inbox": "respond", "lint": "lint", "simulate": "simulate",
    "detect": "detect", "signal": "detect", "classify": "classify", "report": "report",
    "export": "export", "bus": "bus", "demo": "demo", "alerts": "alerts", "drill": "drill",
    "serve": "serve", "users": "serve", "watch": "watch",
}  # fmt: skip


def get_app(argv: list[str] | None = None) -> typer.Typer:
    """The application with its commands attached: with ``argv``, only the module of the
    command it runs; every module for help, ``eval`` or a word that names no command."""
    words = [word for word in argv or () if not word.startswith("-")]
    module = COMMAND_MODULE.get(words[0]) if argv is not None and words else None
    for name in (module,) if module else COMMAND_MODULES:
        importlib.import_module(f"uproar.cli.{name}")
    _use_plain_help(app)
    return app


def main() -> None:
    """Console entry point."""
    get_app(sys.argv[1:])()
