"""Output formats: thin printers over the one Finding record, as in Vale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.markup import escape

from uproar.records import Finding

_COLOUR = {"error": "red", "warning": "yellow", "suggestion": "blue"}


def as_dicts(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The JSON shape: {line, start, end, rule, category, severity, message, suggestion}."""
    return [asdict(f) for f in findings]


def as_text(findings: Sequence[Finding], *, source: str = "stdin") -> str:
    """Vale-style lines as Rich markup; draft text and messages are escaped."""
    if not findings:
        return f"[green]✔[/] {escape(source)}: no findings"
    lines = [f"[underline]{escape(source)}[/]"]
    for f in findings:
        colour = _COLOUR[f.severity]
        hint = f" [dim](try: {escape(f.suggestion)})[/]" if f.suggestion else ""
        lines.append(
            f" {f.line}:{f.start:<4} [{colour}]{f.severity:<10}[/] {escape(f.message)}{hint}"
            f"  [dim]{f.rule} · {f.category}[/]"
        )
    counts = {s: sum(1 for f in findings if f.severity == s) for s in _COLOUR}
    lines.append(
        f"\n{counts['error']} errors, {counts['warning']} warnings, "
        f"{counts['suggestion']} suggestions"
    )
    return "\n".join(lines)
