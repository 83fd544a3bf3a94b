"""The alerts' SQL: incident snapshots seen, alerts per channel and their delivery state.

Every query binds its parameters. Only the thread that owns the store calls these (the
watch's main loop): delivery threads talk to Apprise and hand their outcomes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from uproar.store.store import Store, naive_utc, utc

_ROW_COLUMNS = (
    "incident", "event", "channel", "revision", "brand", "severity", "created_at", "status",
    "due_at", "reason", "attempts", "sent_at", "error", "title", "body", "notify_type",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One row of ``alerts_sent``."""

    incident: str
    event: str
    channel: str
    revision: str
    brand: str
    severity: str
    created_at: datetime
    status: str
    due_at: datetime
    reason: str | None
    attempts: int
    sent_at: datetime | None
    error: str | None
    title: str
    body: str
    notify_type: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.incident, self.event, self.channel, self.revision)


def load_snapshots(store: Store, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The last snapshot seen of each of ``ids`` that has one."""
    if not ids:
        return {}
    rows = store.connection.execute(
        "SELECT incident, snapshot FROM alert_state WHERE list_contains($ids, incident)",
        {"ids": list(ids)},
    ).fetchall()
    return {str(i): json.loads(s) for i, s in rows}


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    snapshots: Mapping[str, Mapping[str, Any]],
    rows: Sequence[AlertRow],
    now: datetime,
) -> list[tuple[str, str, str, str]]:
    """Inside a transaction: save the snapshots and add the alert rows that are new, each
    set in one statement. The keys of the rows added (a row whose key is already stored is
    left as it is)."""
    if snapshots:
        table = pa.table(
            {
                "incident": list(snapshots),
                "snapshot": [json.dumps(s) for s in snapshots.values()],
                "seen_at": [naive_utc(now)] * len(snapshots),
            }
        )
        with _registered(con, "alert_state_batch", table):
            con.execute(
                """INSERT OR REPLACE INTO alert_state
                   SELECT incident, snapshot::JSON, seen_at FROM alert_state_batch"""
            )
    if not rows:
        return []
    columns: dict[str, list[Any]] = {c: [] for c in _ROW_COLUMNS}
    for r in rows:
        for c in _ROW_COLUMNS:
            value = getattr(r, c)
            columns[c].append(naive_utc(value) if isinstance(value, datetime) else value)
    table = pa.table(columns, schema=_ROW_SCHEMA)
    with _registered(con, "alerts_batch", table):
        added = con.execute(
            f"""INSERT INTO alerts_sent SELECT {", ".join(_ROW_COLUMNS)} FROM alerts_batch
                ON CONFLICT DO NOTHING RETURNING incident, event, channel, revision"""
        ).fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in added]


_ROW_SCHEMA = pa.schema(
    [(c, pa.string()) for c in _ROW_COLUMNS[:6]]
    + [("created_at", pa.timestamp("us")), ("status", pa.string()), ("due_at", pa.timestamp("us"))]
    + [("reason", pa.string()), ("attempts", pa.int32()), ("sent_at", pa.timestamp("us"))]
    + [(c, pa.string()) for c in ("error", "title", "body", "notify_type")]
)


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)


def rows(
    store: Store,
    *,
    channel: str | None = None,
    incident: str | None = None,
    statuses: Sequence[str] | None = None,
    due_by: datetime | None = None,
) -> list[AlertRow]:
    """Alert rows, oldest first, filtered by channel, incident, status and ``due_at``."""
    cols = ", ".join(_ROW_COLUMNS)
    found = store.connection.execute(
        f"""SELECT {cols} FROM alerts_sent
            WHERE ($channel IS NULL OR channel = $channel)
              AND ($incident IS NULL OR incident = $incident)
              AND ($statuses IS NULL OR list_contains($statuses, status))
              AND ($due IS NULL OR due_at <= $due)
            ORDER BY created_at, incident, channel,
                     list_position(['opened', 'escalated', 'scope', 'resolved'], event),
                     revision""",
        {
            "channel": channel,
            "incident": incident,
            "statuses": list(statuses) if statuses is not None else None,
            "due": naive_utc(due_by),
        },
    ).fetchall()
    out = []
    for values in found:
        rec = dict(zip(_ROW_COLUMNS, values, strict=True))
        for c in ("created_at", "due_at", "sent_at"):
            rec[c] = utc(rec[c])
        out.append(AlertRow(**rec))
    return out


def next_due(store: Store) -> dict[str, datetime]:
    """Each channel's earliest ``due_at`` among the rows that wait to go."""
    found = store.connection.execute(
        """SELECT channel, min(due_at) FROM alerts_sent
           WHERE status IN ('queued', 'held', 'failed') GROUP BY channel"""
    ).fetchall()
    return {str(c): _aware(t) for c, t in found}


def last_dispatches(store: Store, *, channel: str) -> dict[str, datetime]:
    """When an alert about each incident last went to ``channel`` (handed to Apprise)."""
    found = store.connection.execute(
        """SELECT incident, max(sent_at) FROM alerts_sent
           WHERE channel = $channel AND status IN ('sending', 'sent', 'unknown')
             AND sent_at IS NOT NULL
           GROUP BY incident""",
        {"channel": channel},
    ).fetchall()
    return {str(i): _aware(t) for i, t in found}


def update(
    con: duckdb.DuckDBPyConnection,
    keys: Iterable[tuple[str, str, str, str]],
    *,
    status: str,
    due_at: datetime | None = None,
    reason: str | None = None,
    attempts: int | None = None,
    add_attempt: bool = False,
    sent_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Set the delivery state of the rows with these keys, in one statement. Fields left
    ``None`` keep their value, except ``reason`` and ``error``, which are replaced;
    ``add_attempt`` counts one more attempt on each."""
    wanted = [_SEP.join(k) for k in keys]
    if not wanted:
        return
    con.execute(
        """UPDATE alerts_sent SET status = $status,
               due_at = coalesce($due_at, due_at),
               reason = $reason,
               attempts = coalesce($attempts, attempts) + CAST($add AS INTEGER),
               sent_at = coalesce($sent_at, sent_at),
               error = $error
           WHERE list_contains($keys, concat_ws($sep, incident, event, channel, revision))""",
        {
            "status": status,
            "due_at": naive_utc(due_at),
            "reason": reason,
            "attempts": attempts,
            "add": add_attempt,
            "sent_at": naive_utc(sent_at),
            "error": error,
            "keys": wanted,
            "sep": _SEP,
        },
    )


# Joins a key's four parts for matching; no incident id, event, name or revision holds it.
_SEP = "\x1f"


def abandon_in_flight(store: Store) -> int:
    """After a restart: rows that were being sent when the process died may have gone out,
    so they become ``unknown`` and are never resent. How many there were."""
    row = store.connection.execute(
        """UPDATE alerts_sent SET status = 'unknown',
               error = 'the process stopped while this was being sent'
           WHERE status = 'sending' RETURNING 1"""
    ).fetchall()
    return len(row)


def sample_posts(
    store: Store,
    *,
    brand: str,
    ids: Sequence[str],
    since: datetime,
    until: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Sample posts for an alert: those of ``ids`` (in that order) when given, else the
    brand's most engaged mentions in ``[since, until)``, complaints first."""
    if limit <= 0:
        return []
    cols = "p.platform, p.id, p.author_handle, p.author_id, p.text, p.created_at"
    if ids:
        found = store.connection.execute(
            f"""SELECT {cols} FROM posts p WHERE list_contains($ids, p.id)
                  AND list_contains(p.brands, $brand)
                ORDER BY list_position($ids, p.id), p.platform LIMIT $limit""",
            {"ids": list(ids), "brand": brand, "limit": limit},
        ).fetchall()
    else:
        found = store.connection.execute(
            f"""SELECT {cols} FROM posts p
                LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
                WHERE list_contains(p.brands, $brand)
                  AND (p.own_brand IS NULL OR p.own_brand <> $brand)
                  AND p.reposted_id IS NULL
                  AND p.created_at >= $since AND ($until IS NULL OR p.created_at < $until)
                ORDER BY coalesce(l.complaint, FALSE) DESC,
                         coalesce(p.like_count, 0) + coalesce(p.repost_count, 0) DESC,
                         p.created_at, p.platform, p.id
                LIMIT $limit""",
            {"brand": brand, "since": naive_utc(since), "until": naive_utc(until), "limit": limit},
        ).fetchall()
    keys = ("platform", "id", "author_handle", "author_id", "text", "created_at")
    return [dict(zip(keys, r, strict=True)) for r in found]


def _aware(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


def top_topics(
    store: Store, *, brand: str, since: datetime, until: datetime | None, limit: int = 3
) -> list[str]:
    """The labelled topics most frequent in the brand's mentions in ``[since, until)``."""
    found = store.connection.execute(
        """SELECT t, count(*) AS n FROM (
               SELECT unnest(l.topics) AS t FROM posts p
               JOIN labels l ON l.platform = p.platform AND l.id = p.id
               WHERE list_contains(p.brands, $brand)
                 AND (p.own_brand IS NULL OR p.own_brand <> $brand)
                 AND p.created_at >= $since AND ($until IS NULL OR p.created_at < $until))
           GROUP BY t ORDER BY n DESC, t LIMIT $limit""",
        {"brand": brand, "since": naive_utc(since), "until": naive_utc(until), "limit": limit},
    ).fetchall()
    return [str(t) for t, _ in found]


def status_counts(store: Store) -> dict[str, int]:
    """How many ``alerts_sent`` rows are in each status."""
    found = store.connection.execute(
        "SELECT status, count(*) FROM alerts_sent GROUP BY status ORDER BY status"
    ).fetchall()
    return {str(s): int(n) for s, n in found}
