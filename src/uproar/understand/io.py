"""Reading texts for ``uproar classify``: one text per line, or JSONL posts (``text`` field).

The format is detected from the first non-blank character of the input (``{`` = JSONL).
Lines come back in batches so memory stays bounded on large files; every input line gives
exactly one text (a blank line is an empty text), so output lines match input lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from uproar.errors import InputError

# Post fields that feed ``reach`` when a JSONL post carries them (Uproar's post columns).
REACH_FIELDS = ("author_followers", "like_count", "repost_count", "reply_count")


def _empty_counts() -> dict[str, list[int | None]]:
    return {name: [] for name in REACH_FIELDS}


@dataclass(slots=True)
class Batch:
    """Texts in input order, with the reach fields of JSONL posts (None where absent)."""

    texts: list[str] = field(default_factory=list)
    counts: dict[str, list[int | None]] = field(default_factory=_empty_counts)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, record: dict[str, Any] | None = None) -> None:
        self.texts.append(text)
        for name, values in self.counts.items():
            value = record.get(name) if record else None
            ok = isinstance(value, int) and not isinstance(value, bool)
            values.append(value if ok else None)


def read_batches(
    lines: Iterable[str], *, source: str = "<stdin>", batch_size: int = 10_000
) -> Iterator[Batch]:
    """Yield batches of texts, in input order."""
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    jsonl: bool | None = None
    batch = Batch()
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if jsonl is None and line.strip():
            jsonl = line.lstrip().startswith("{")
        if jsonl and line.strip():
            record = _record(line, source, number)
            batch.add(_text_of(record, source, number), record)
        else:
            batch.add(line)
        if len(batch) >= batch_size:
            yield batch
            batch = Batch()
    if len(batch):
        yield batch


def _record(line: str, source: str, number: int) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", file=source, line=number) from exc
    if not isinstance(record, dict):
        raise InputError("expected a JSON object", file=source, line=number)
    return record


def _text_of(record: dict[str, Any], source: str, number: int) -> str:
    text = record.get("text", "")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InputError("must be a string", file=source, line=number, field="text")
    return text
