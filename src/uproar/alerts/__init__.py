"""Alerts: incident transitions sent to Slack, Teams, Discord, e-mail or webhooks (Apprise).

``load_alerts(watch.toml)`` reads the ``[alerts]`` table; ``Alerter(config, store)``
turns successive incident snapshots into alerts (``observe(incidents, now)``), sends them
through Apprise with quiet hours, minimum severities, a per-incident rate limit and
retries, and keeps what it sent in the store so a restart never repeats one.
``check_channels`` sends one test message to each channel.
"""

from __future__ import annotations

from uproar.alerts.alerter import Alert, Alerter
from uproar.alerts.check import ChannelCheck, check_channels
from uproar.alerts.config import (
    SEVERITIES,
    AlertsConfig,
    ChannelConfig,
    QuietHours,
    load_alerts,
    mask,
    parse_alerts,
)
from uproar.alerts.events import Event, Snapshot, transitions
from uproar.alerts.render import neutralise

__all__ = [
    "SEVERITIES",
    "Alert",
    "Alerter",
    "AlertsConfig",
    "ChannelCheck",
    "ChannelConfig",
    "Event",
    "QuietHours",
    "Snapshot",
    "check_channels",
    "load_alerts",
    "mask",
    "neutralise",
    "parse_alerts",
    "transitions",
]
