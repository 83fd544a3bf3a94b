"""The ``[alerts]`` table of ``watch.toml``: where alerts go, and when.

::

    [alerts]
    dashboard_url = "https://uproar.example.com"   # links: {dashboard_url}/incidents/{id}
    min_interval_minutes = 15                      # per incident and channel

    [[alerts.channels]]
    name = "ops-slack"
    url = "slack://T000/B000/XXXX/#outages"        # any Apprise URL
    min_severity = "medium"
    brands = ["kiwinet"]                           # empty: every brand
    quiet_hours = { start = "22:00", end = "07:00", tz = "Pacific/Auckland" }

Each channel's URL is checked when the file loads (Apprise parses it offline), so a typo in
a scheme or a missing token is a loud ``ConfigError``, never a silent channel. URLs hold
secrets (webhook tokens, SMTP passwords): every message that shows one shows it masked
(``mask``), Apprise's own privacy form where it parses, else the scheme alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from uproar.config import read_toml
from uproar.datafiles import decode, did_you_mean
from uproar.errors import ConfigError

# The incidents table's severities, lowest first (detect/detector.py SEVERITY_LEVELS).
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
Severity = Annotated[
    Literal["low", "medium", "high", "critical"],
    msgspec.Meta(description="'low', 'medium', 'high' or 'critical'"),
]

Name = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="a name of letters, digits, '-', '_' or '.', like 'ops-slack'",
    ),
]
Clock = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="a time of day like '22:00' or '07:30'"
    ),
]
Minutes = Annotated[float, msgspec.Meta(ge=0, description="a number of minutes, 0 or more")]
Url = Annotated[
    str, msgspec.Meta(pattern=r"\S", description="an Apprise URL like 'json://host/hook'")
]


def severity_rank(severity: str) -> int:
    """0 for low up to 3 for critical; an unknown severity ranks lowest."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


class QuietHours(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A daily window (``start`` to ``end``, local time in ``tz``; it may span midnight)
    in which alerts below ``severity`` are held and summarised when it ends."""

    start: Clock
    end: Clock
    tz: Annotated[str, msgspec.Meta(pattern=r"\S", description="an IANA zone like 'Europe/Paris'")]
    # What still gets through at night: by default only critical incidents.
    severity: Severity = "critical"

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def end_of(self, now: datetime) -> datetime | None:
        """When the quiet window that holds ``now`` ends (UTC-aware), or ``None`` when
        ``now`` is outside it. ``start == end`` means no quiet hours."""
        local = now.astimezone(self.zone())
        start, end = _clock(self.start), _clock(self.end)
        if start == end:
            return None
        t = local.time().replace(tzinfo=None)
        if start < end:
            inside = start <= t < end
            end_day = local.date()
        else:  # spans midnight: 22:00 to 07:00
            inside = t >= start or t < end
            end_day = local.date() + timedelta(days=1 if t >= start else 0)
        if not inside:
            return None
        naive = datetime.combine(end_day, end)
        # Through the zone again: the wall time after a DST change is the one people mean.
        return naive.replace(tzinfo=self.zone()).astimezone(now.tzinfo)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class ChannelConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One ``[[alerts.channels]]`` entry."""

    name: Name
    url: Url
    min_severity: Severity = "low"
    brands: tuple[Annotated[str, msgspec.Meta(pattern=r"\S")], ...] = ()
    quiet_hours: QuietHours | None = None
    dashboard_url: str | None = None  # overrides [alerts] dashboard_url for this channel
    min_interval_minutes: Minutes | None = None  # overrides [alerts] min_interval_minutes

    def wants(self, brand: str, severity: str) -> bool:
        """Whether this channel takes alerts about ``brand`` at ``severity``."""
        if self.brands and brand not in self.brands:
            return False
        return severity_rank(severity) >= severity_rank(self.min_severity)

    @property
    def masked_url(self) -> str:
        return mask(self.url)


class AlertsConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The ``[alerts]`` table of ``watch.toml``."""

    channels: tuple[ChannelConfig, ...] = ()
    dashboard_url: str = "http://127.0.0.1:8788"  # `uproar serve`'s default address
    # At most one alert per incident and channel in this many minutes; a resolve and an
    # escalation to critical always go at once (outside quiet hours).
    min_interval_minutes: Minutes = 15.0
    # A failed send is retried after 30 s, 1, 2, 4 ... minutes (capped), this many tries.
    max_attempts: Annotated[int, msgspec.Meta(ge=1, description="a whole number above 0")] = 6
    retry_base_seconds: Annotated[float, msgspec.Meta(gt=0, description="seconds above 0")] = 30.0
    retry_max_seconds: Annotated[float, msgspec.Meta(gt=0, description="seconds above 0")] = 1800.0
    # An incident first seen already resolved (the watch started after it ended) is only
    # announced if it ended within this many minutes; older history stays silent.
    backfill_minutes: Minutes = 60.0
    samples: Annotated[int, msgspec.Meta(ge=0, le=10, description="0 to 10")] = 3

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``, or a ``ConfigError`` listing the known ones."""
        for c in self.channels:
            if c.name == name:
                return c
        known = [c.name for c in self.channels]
        hint = did_you_mean(name, known) or (
            f"; known channels: {', '.join(known)}" if known else "; no channels are configured"
        )
        raise ConfigError(f"unknown alert channel {name!r}{hint}", key="alerts.channels.name")

    def interval(self, channel: ChannelConfig) -> timedelta:
        minutes = channel.min_interval_minutes
        return timedelta(minutes=self.min_interval_minutes if minutes is None else minutes)

    def link(self, channel: ChannelConfig, incident_id: str) -> str:
        """The dashboard page of an incident, as this channel links it."""
        from urllib.parse import quote

        base = (channel.dashboard_url or self.dashboard_url).rstrip("/")
        return f"{base}/incidents/{quote(incident_id, safe='')}"


class _WatchFile(msgspec.Struct, frozen=True):
    """Only the ``[alerts]`` table: the rest of ``watch.toml`` belongs to ``uproar watch``."""

    alerts: AlertsConfig = msgspec.field(default_factory=AlertsConfig)


def parse_alerts(data: Mapping[str, Any], *, source: str = "watch.toml") -> AlertsConfig:
    """The ``[alerts]`` table of a parsed ``watch.toml`` (the whole document), validated:
    keys and types, unique channel names, time zones and every channel's Apprise URL."""
    config = decode(dict(data), _WatchFile, source=source).alerts
    seen: set[str] = set()
    for i, channel in enumerate(config.channels):
        where = f"{source}: alerts.channels[{i}]"
        if channel.name in seen:
            raise ConfigError(
                f"{where}.name: channel {channel.name!r} is named twice; give each its own name",
                file=source,
                key="alerts.channels.name",
            )
        seen.add(channel.name)
        problem = check_url(channel.url)
        if problem:
            raise ConfigError(
                f"{where}.url ({channel.name}): {problem}", file=source, key="alerts.channels.url"
            )
        if channel.quiet_hours is not None:
            try:
                channel.quiet_hours.zone()
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{where}.quiet_hours.tz: unknown time zone {channel.quiet_hours.tz!r}; "
                    "use an IANA name like Pacific/Auckland or UTC",
                    file=source,
                    key="alerts.channels.quiet_hours.tz",
                ) from None
        for j, base in enumerate((channel.dashboard_url, config.dashboard_url)):
            if base is not None and not re.match(r"^https?://[^\s/]+", base):
                key = f"{where}.dashboard_url" if j == 0 else f"{source}: alerts.dashboard_url"
                raise ConfigError(
                    f"{key}: expected an http(s) address like 'https://uproar.example.com', "
                    f"got {base!r}",
                    file=source,
                    key="alerts.dashboard_url",
                )
    return config


def load_alerts(path: str | Path) -> AlertsConfig:
    """Read ``watch.toml`` and validate its ``[alerts]`` table."""
    return parse_alerts(read_toml(path, what="watch config"), source=str(path))


# -- URLs --------------------------------------------------------------------------------
@cache
def _schemas() -> tuple[str, ...]:
    """Every scheme Apprise knows. Loading its plugins the first time is done here, once:
    its e-mail plugin imports ``imghdr``, which warns on Python 3.11-3.12 (the warning is
    Apprise's to fix, and under ``-W error`` it would break the first send)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        from apprise import NotificationManager

        return tuple(sorted(NotificationManager().schemas()))  # type: ignore[no-untyped-call]


def apprise_loaded() -> None:
    """Load Apprise and its plugins (once) before any other use of it."""
    _schemas()


# Schemes people remember that Apprise no longer has, and what replaced them.
_RENAMED = {
    "msteams": (
        "; Microsoft retired Teams' Office 365 connectors: post to a Teams channel through a "
        "Power Automate workflow, 'workflows://HOST/WORKFLOW/SIGNATURE' (or paste its https:// "
        "webhook address)"
    ),
}


def check_url(url: str) -> str | None:
    """``None`` when Apprise understands ``url`` (offline: no network), else what is wrong,
    with the URL masked."""
    apprise_loaded()
    import apprise

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        return f"{mask(url)} is not a URL; expected an Apprise URL like 'json://host/hook'"
    if scheme not in _schemas():
        hint = _RENAMED.get(scheme) or did_you_mean(scheme, _schemas())
        return f"unknown Apprise scheme {scheme!r}{hint}"
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return (
            f"Apprise cannot use {mask(url)}: a token, host or address is missing or "
            f"malformed (see the {scheme}:// page of the Apprise wiki)"
        )
    return None


def mask(url: str) -> str:
    """``url`` with its secrets hidden: Apprise's privacy form (tokens shortened to
    ``T...A``, passwords as ``****``) where Apprise parses it, else only its scheme."""
    return _masking(url)[0]


def secrets_of(url: str) -> tuple[str, ...]:
    """The parts of ``url`` that its masked form hides (tokens, passwords, paths), longest
    first: what ``scrub`` removes from any text that might echo them."""
    return _masking(url)[1]


def scrub(text: str, url: str) -> str:
    """``text`` (an error message, a log line) with every secret part of ``url`` masked."""
    shown, secrets = _masking(url)
    text = text.replace(url, shown)
    for secret in secrets:
        text = text.replace(secret, "****")
    return text


@cache
def _masking(url: str) -> tuple[str, tuple[str, ...]]:
    """(masked URL, its hidden parts), worked out once per URL: a log filter calls
    ``scrub`` for every record, and Apprise logs while it parses."""
    from urllib.parse import unquote

    apprise_loaded()
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is not None:
        shown = str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
    else:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        ok = scheme and re.fullmatch(r"[A-Za-z0-9+.-]+", scheme)
        shown = f"{scheme}://****" if ok else "****"
    parts = {p for p in re.split(r"[/:@?&=#%]+", url) if len(p) >= 4}
    parts |= {unquote(p) for p in parts}
    hidden = sorted((p for p in parts if p not in shown), key=len, reverse=True)
    return shown, tuple(hidden)
