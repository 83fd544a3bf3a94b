"""Parsing of human-typed values shared by the CLI and the web app."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def zone(name: str | None) -> tzinfo:
    """An IANA time zone by name (``Pacific/Auckland``); None or ``UTC`` is UTC."""
    if name is None or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}; use an IANA name like Pacific/Auckland or UTC",
            field="tz",
        ) from None


def local_time(moment: datetime, tz: tzinfo, *, day: bool = True) -> str:
    """A time the way people write it: ``Sat 6 Sep, 7:02 am NZST`` (``7:02 am NZST`` when
    ``day`` is false)."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'} {local.tzname()}"
    return f"{local:%a} {local.day} {local:%b}, {clock}" if day else clock


def duration(seconds: float) -> str:
    """A span in the largest units that read naturally: ``45 s``, ``4 min``, ``2 h 5 min``,
    ``3 d 4 h``."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


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
