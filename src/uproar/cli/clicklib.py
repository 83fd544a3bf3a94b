"""The click that Typer runs on, in one place.

Typer 0.29 ships its own copy of click (``typer._click``): its contexts and exceptions are
not ``click``'s, so the error handler and the option callbacks must use that copy. An older
Typer runs on click itself."""

from __future__ import annotations

try:
    from typer._click import core, exceptions, globals
except ImportError:  # pragma: no cover - Typer before it vendored click
    from click import core, exceptions, globals  # type: ignore[no-redef]

Context = core.Context
Parameter = core.Parameter
UsageError = exceptions.UsageError
NoArgsIsHelpError = exceptions.NoArgsIsHelpError
get_current_context = globals.get_current_context

__all__ = [
    "Context",
    "NoArgsIsHelpError",
    "Parameter",
    "UsageError",
    "get_current_context",
]
