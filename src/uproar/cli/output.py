"""Shared rendering for CLI commands: uniform JSON, one-line errors, the Rich console."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from uproar.errors import UproarError

console = Console(stderr=True)
stdout = Console()

ERROR_STATUS = 2


def to_json(value: Any) -> str:
    """Serialise with ISO 8601 times, dataclasses and numpy values handled."""
    return orjson.dumps(
        value,
        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z,
        default=_default,
    ).decode()


def _default(value: Any) -> Any:
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(value: Any) -> None:
    sys.stdout.write(to_json(value) + "\n")
    sys.stdout.flush()


def report_error(exc: UproarError, *, as_json: bool) -> int:
    """Print one clear line (or the shared JSON error shape) and return the exit status."""
    if as_json:
        emit_json({"ok": False, "error": exc.message, "status": ERROR_STATUS, **exc.context})
    else:
        console.print(
            f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True
        )
    return ERROR_STATUS
