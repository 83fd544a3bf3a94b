"""The watch stage's SQL: detection's watermark, feed validators and the status row.

Every query binds its parameters.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pyarrow as pa

from uproar.store.store import Store, naive_utc

# Post columns continuous detection reads (``detect.stream.MONITOR_COLUMNS``) with the
# classifier's complaint label where there is one.
_NEW_POSTS = """
    SELECT p.id, p.created_at, p.author_id, p.brands, p.own_brand, p.text, p.reposted_id,
           l.complaint
    FROM posts p LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
    WHERE p.ingested_at > $after AND p.ingested_at <= $through
    ORDER BY p.created_at, p.platform, p.id
"""


def latest_ingest(store: Store) -> datetime | None:
    """The newest ``ingested_at`` in the store (naive UTC), or None when it has no posts."""
    rows = store.connection.execute("SELECT max(ingested_at) FROM posts").fetchall()
    return rows[0][0] if rows and rows[0][0] is not None else None


def new_posts(store: Store, *, after: datetime, through: datetime) -> pa.Table:
    """Posts ingested in ``(after, through]``, in time order, with ``complaint``."""
    return store.connection.sql(
        _NEW_POSTS, params={"after": naive_utc(after), "through": naive_utc(through)}
    ).to_arrow_table()


def ended_incidents(store: Store) -> set[str]:
    """The ids of the stored incidents that have ended."""
    rows = store.connection.execute('SELECT id FROM incidents WHERE "end" IS NOT NULL')
    return {str(r[0]) for r in rows.fetchall()}


def load_watermark(store: Store, name: str) -> datetime | None:
    rows = store.connection.execute(
        "SELECT watermark FROM watch_progress WHERE name = $name", {"name": name}
    ).fetchall()
    return rows[0][0] if rows else None


def save_watermark(store: Store, name: str, watermark: datetime, *, now: datetime) -> None:
    store.connection.execute(
        "INSERT OR REPLACE INTO watch_progress VALUES ($name, $watermark, $now)",
        {"name": name, "watermark": naive_utc(watermark), "now": naive_utc(now)},
    )


def load_feed_state(store: Store, url: str) -> tuple[str | None, str | None]:
    """A feed's saved ``(etag, last_modified)``; ``(None, None)`` before its first poll."""
    rows = store.connection.execute(
        "SELECT etag, last_modified FROM feed_state WHERE url = $url", {"url": url}
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def save_feed_state(
    store: Store, url: str, *, etag: str | None, last_modified: str | None, now: datetime
) -> None:
    store.connection.execute(
        "INSERT OR REPLACE INTO feed_state VALUES ($url, $etag, $modified, $now)",
        {"url": url, "etag": etag, "modified": last_modified, "now": naive_utc(now)},
    )


def save_status(store: Store, name: str, status: dict[str, Any], *, now: datetime) -> None:
    store.connection.execute(
        "INSERT OR REPLACE INTO watch_status VALUES ($name, $status, $now)",
        {"name": name, "status": json.dumps(status, default=str), "now": naive_utc(now)},
    )


def load_status(store: Store, name: str = "watch") -> dict[str, Any] | None:
    """What ``uproar watch`` last reported (for the dashboard), or None if it never ran."""
    rows = store.connection.execute(
        "SELECT status FROM watch_status WHERE name = $name", {"name": name}
    ).fetchall()
    if not rows:
        return None
    value: dict[str, Any] = json.loads(rows[0][0])
    return value
