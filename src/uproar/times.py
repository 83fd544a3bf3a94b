"""Parsing of human-typed values shared by the CLI and the web app."""

from __future__ import annotations

from datetime import UTC, datetime

from uproar.errors import InputError


def parse_time_arg(value: str, name: str) -> datetime:
    """An ISO 8601 date or time from a flag; zone-less means UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"{name} expects an ISO 8601 time like 2014-09-06T08:00, got {value!r}", field=name
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_window(
    since: str | None, until: str | None, *, names: tuple[str, str] = ("--since", "--until")
) -> tuple[datetime | None, datetime | None]:
    """A half-open window ``[since, until)`` from two optional flags. A window that ends
    before it starts (or where it starts) is an error: it could only ever hold nothing."""
    start = parse_time_arg(since, names[0]) if since else None
    end = parse_time_arg(until, names[1]) if until else None
    if start is not None and end is not None and end <= start:
        raise InputError(
            f"{names[0]} {start:%Y-%m-%dT%H:%M:%SZ} is not before {names[1]} "
            f"{end:%Y-%m-%dT%H:%M:%SZ}: the window holds no time (swap them?)",
            field=names[0],
        )
    return start, end
