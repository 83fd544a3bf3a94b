"""Shared rendering for CLI commands: uniform JSON, one-line errors, the Rich consoles.

Post text is hostile: it may carry terminal escape sequences (to retitle the window, hide
text, or worse). The consoles here drop every control character (C0 but newline and tab,
DEL, C1) from what they print, whatever renderable it sits in; Rich's own styling is added
after, so colours still work.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

import orjson
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment

from uproar.cli import clicklib as click
from uproar.errors import UproarError

ERROR_STATUS = 2

# Whole escape sequences first (CSI, OSC, DCS/PM/APC, two-byte ESC x), then any control left.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?|\x1b[ -~]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """``text`` without terminal control sequences or control characters (newline and tab
    are kept)."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


class SafeConsole(Console):
    """A Rich console that never passes a control sequence from the data to the terminal."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and _CONTROLS.search(segment.text):
                yield Segment(clean(segment.text), segment.style)
            else:
                yield segment


console = SafeConsole(stderr=True)
stdout = SafeConsole()


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


def _report(message: str, status: int, context: dict[str, object], *, as_json: bool) -> int:
    if as_json:
        emit_json({"ok": False, "error": message, "status": status, **context})
    else:
        one_line = " ".join(message.split())
        console.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False, soft_wrap=True)
    return status


def report_error(exc: UproarError, *, as_json: bool) -> int:
    """Print one clear line (or the shared JSON error shape) and return the exit status."""
    return _report(exc.message, ERROR_STATUS, dict(exc.context), as_json=as_json)


def report_usage(exc: click.UsageError, *, as_json: bool) -> int:
    """A usage error (bad flag or value) as one line that says where to look for help."""
    message = exc.format_message()
    if exc.ctx is not None:
        message += f" (see `{exc.ctx.command_path} --help`)"
    return _report(message, exc.exit_code, {}, as_json=as_json)
