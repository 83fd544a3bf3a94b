"""The Typer application. Each stage's commands live in their own module and attach here.

A module in ``COMMAND_MODULES`` imports ``app`` (or ``eval_app``) from this file and
decorates its commands; ``get_app()`` imports them all. Errors from the library are
caught once, in ``main``.
"""

from __future__ import annotations

import importlib
import sys

import typer

from uproar.errors import UproarError

app = typer.Typer(
    name="uproar",
    help="Social-media incident command: listen, detect, understand, respond, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Score a stage against ground truth and print the table.")
app.add_typer(eval_app, name="eval")

# One module per stage; each registers its commands on import.
COMMAND_MODULES: tuple[str, ...] = (
    "ingest", "listen", "respond", "lint", "simulate", "detect", "nab", "classify", "demo"
)


def get_app() -> typer.Typer:
    """The application with every stage's commands attached."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"uproar.cli.{name}")
    return app


def main() -> None:
    """Console entry point: run the app, turn library errors into one clear line."""
    from uproar.cli.output import report_error

    try:
        get_app()()  # click handles usage errors itself (exit status 2)
    except UproarError as exc:
        sys.exit(report_error(exc, as_json="--json" in sys.argv))
