"""The Settings page's library: brands and peers from the store, alert channels from the
watch.toml the dashboard was given, and account changes (admin only, audited)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from uproar.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Channel:
    """An alert channel as Settings shows it: the URL's secrets (tokens, passwords) are
    never shown, only its scheme."""

    name: str
    kind: str
    min_severity: str
    brands: tuple[str, ...]
    quiet_hours: str


def alert_channels(config: Path | None) -> list[Channel] | None:
    """The ``[[alerts.channels]]`` of ``config`` (watch.toml); None without a config file."""
    if config is None:
        return None
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{config}: cannot read: {exc.strerror}", file=str(config)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config}: not valid TOML: {exc}", file=str(config)) from None
    alerts = data.get("alerts", {})
    raw = alerts.get("channels", []) if isinstance(alerts, dict) else []
    channels = []
    for i, spec in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(spec, dict):
            continue
        url = str(spec.get("url", ""))
        quiet: Any = spec.get("quiet_hours")
        channels.append(
            Channel(
                name=str(spec.get("name", f"channel {i + 1}")),
                kind=(urlsplit(url).scheme or "?") if url else "?",
                min_severity=str(spec.get("min_severity", "low")),
                brands=tuple(str(b) for b in spec.get("brands", []) or []),
                quiet_hours=(
                    f"{quiet.get('start')}–{quiet.get('end')} {quiet.get('tz', '')}".strip()
                    if isinstance(quiet, dict)
                    else ""
                ),
            )
        )
    return channels
