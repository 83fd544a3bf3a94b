"""Fixtures for the alert tests: incidents at a fixed clock, receivers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from uproar.alerts import AlertsConfig, parse_alerts
from uproar.records import Incident
from uproar.sources.ingestor import POST_SCHEMA
from uproar.store import Store

from .receivers import Mailbox, Webhook, smtp, webhook

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 17:00 in Auckland (NZDT): outside quiet hours


def incident(**changes: Any) -> Incident:
    """An open, medium, brand-only kiwinet incident, with ``changes``."""
    values: dict[str, Any] = {
        "id": "kiwinet-20260302-0400",
        "brand": "kiwinet",
        "start": T0,
        "detected_at": T0,
        "peak": T0,
        "end": None,
        "severity": "medium",
        "scope": "brand",
        "posts": 120,
        "authors": 85,
        "regions": ("NZ-AUK",),
        "topics": ("outage", "broadband"),
    }
    values.update(changes)
    return Incident(**values)


def config(*channels: dict[str, Any], **alerts: Any) -> AlertsConfig:
    return parse_alerts(
        {"alerts": {"dashboard_url": "https://dash.example", **alerts, "channels": list(channels)}},
        source="watch.toml",
    )


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook() as h:
        yield h


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp() as box:
        yield box


def add_posts(store: Store, *texts: str, brand: str = "kiwinet") -> list[str]:
    """Store one post per text (a mention of ``brand`` a minute apart after T0); their ids."""
    rows = [
        {
            "platform": "x",
            "id": f"p{i}",
            "created_at": T0 + timedelta(minutes=i),
            "text": text,
            "author_id": f"a{i}",
            "author_handle": f"@user{i}",
            "brands": [brand],
            "ingested_at": T0,
        }
        for i, text in enumerate(texts)
    ]
    store.insert_posts(pa.Table.from_pylist(rows, schema=POST_SCHEMA))
    return [str(r["id"]) for r in rows]
