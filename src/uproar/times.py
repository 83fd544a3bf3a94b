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
