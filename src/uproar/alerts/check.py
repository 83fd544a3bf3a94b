"""``uproar alerts test``: one test message to each channel, and what each said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from uproar.alerts.config import AlertsConfig
from uproar.alerts.delivery import send
from uproar.alerts.render import Message
from uproar.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """One channel's answer to the test message (its URL masked)."""

    channel: str
    url: str
    ok: bool
    error: str | None = None


def check_channels(
    config: AlertsConfig, *, now: datetime, channel: str | None = None
) -> list[ChannelCheck]:
    """Send a test message to every channel (or the one named), one after the other, and
    report each outcome. No channel configured is a ``ConfigError``: a test that tests
    nothing must not read as a pass."""
    channels = [config.channel(channel)] if channel is not None else list(config.channels)
    if not channels:
        raise ConfigError(
            "no alert channels configured; add an [[alerts.channels]] table with a name and "
            "an Apprise url to watch.toml",
            key="alerts.channels",
        )
    out = []
    for c in channels:
        message = Message(
            title="[TEST] Uproar alerts work",
            body=(
                f"[TEST] Uproar alerts work\n\nThis is a test alert for channel {c.name!r}, "
                f"sent {now:%Y-%m-%d %H:%M} UTC.\nIncident alerts here link to "
                f"{config.link(c, 'example')}.\nMinimum severity: {c.min_severity}."
            ),
            notify_type="info",
        )
        outcome = send(c, message)
        out.append(ChannelCheck(c.name, c.masked_url, outcome.ok, outcome.error))
    return out
