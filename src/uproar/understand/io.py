"""Reading texts for ``uproar classify``: one text per line, or JSONL posts (``text`` field).

The format is detected from the first non-blank character of the input (``{`` = JSONL).
Lines come back in batches so memory stays bounded on large files; every input line gives
exactly one text (a blank line is an empty text), so output lines match input lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from uproar.errors import InputError


def read_batches(
    lines: Iterable[str], *, source: str = "<stdin>", batch_size: int = 10_000
) -> Iterator[list[str]]:
    """Yield lists of texts, in input order."""
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    jsonl: bool | None = None
    batch: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if jsonl is None and line.strip():
            jsonl = line.lstrip().startswith("{")
        if jsonl and line.strip():
            batch.append(_text_of(line, source, number))
        else:
            batch.append(line)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text_of(line: str, source: str, number: int) -> str:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", file=source, line=number) from exc
    if not isinstance(record, dict):
        raise InputError("expected a JSON object", file=source, line=number)
    text = record.get("text", "")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InputError("must be a string", file=source, line=number, field="text")
    return text
