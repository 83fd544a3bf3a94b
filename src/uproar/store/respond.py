"""The reply inbox's queries: mentions with their labels, the brand's replies, incidents.

Every value is a bound parameter; table names are fixed strings.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from uproar.store.store import Store, naive_utc, utc


def table_exists(store: Store, name: str) -> bool:
    rows = store.connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name", {"name": name}
    ).fetchall()
    return bool(rows and rows[0][0])


def incident_window(store: Store, incident_id: str) -> tuple[str, datetime, datetime | None] | None:
    """``(brand, start, end)`` of a stored incident (``end`` is None while it is open), or
    None when there is no incidents table or no such incident."""
    if not table_exists(store, "incidents"):
        return None
    rows = store.connection.execute(
        'SELECT brand, start, "end" FROM incidents WHERE id = $id', {"id": incident_id}
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    start = utc(row[1])
    assert start is not None
    return str(row[0]), start, utc(row[2])


def brand_incidents(store: Store, *, brand: str) -> list[tuple[datetime, datetime | None]]:
    """``(start, end)`` of every stored incident of ``brand`` (``end`` None while open):
    the inbox may say "we know about it" only to posts inside one of these."""
    if not table_exists(store, "incidents"):
        return []
    rows = store.connection.execute(
        'SELECT start, "end" FROM incidents WHERE brand = $brand ORDER BY start',
        {"brand": brand},
    ).fetchall()
    out = []
    for start, end in rows:
        begin = utc(start)
        assert begin is not None
        out.append((begin, utc(end)))
    return out


_MENTIONS = """
WITH window_posts AS (
    SELECT * FROM posts
    WHERE list_contains(brands, $brand)
      AND (own_brand IS NULL OR own_brand <> $brand)
      AND reposted_id IS NULL
      AND ($since IS NULL OR created_at >= $since)
      AND ($until IS NULL OR created_at < $until)
),
replies AS (
    SELECT platform, reply_to_id,
           min(created_at) AS first_reply_at,
           arg_min(id, created_at) AS first_reply_id,
           count(*) AS brand_replies
    FROM posts
    WHERE own_brand = $brand AND reply_to_id IS NOT NULL
      AND ($now IS NULL OR created_at <= $now)
    GROUP BY platform, reply_to_id
),
authors AS (
    SELECT platform, author_id, count(*) AS author_posts
    FROM window_posts GROUP BY platform, author_id
)
SELECT w.platform, w.id, w.created_at, w.text, w.author_id, w.author_handle, w.author_name,
       w.author_followers, w.like_count, w.repost_count, w.urls,
       {labels}
       r.first_reply_at, r.first_reply_id, coalesce(r.brand_replies, 0) AS brand_replies,
       a.author_posts,
       EXISTS (SELECT 1 FROM posts b WHERE b.platform = w.platform AND b.id = w.reply_to_id
               AND b.own_brand = $brand) AS replies_to_brand
FROM window_posts w
{labels_join}
LEFT JOIN replies r ON r.platform = w.platform AND r.reply_to_id = w.id
LEFT JOIN authors a ON a.platform = w.platform AND a.author_id = w.author_id
ORDER BY w.created_at, w.platform, w.id
"""
_WITH_LABELS = (
    "l.complaint, l.sentiment, l.question, l.urgency, l.topics,",
    "LEFT JOIN labels l ON l.platform = w.platform AND l.id = w.id",
)
_WITHOUT_LABELS = (
    "NULL::BOOLEAN AS complaint, NULL::VARCHAR AS sentiment, NULL::BOOLEAN AS question, "
    "NULL::BOOLEAN AS urgency, NULL::VARCHAR[] AS topics,",
    "",
)


def inbox_mentions(
    store: Store,
    *,
    brand: str,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> pa.Table:
    """Mentions of ``brand`` by others in ``[since, until)``, in time order, with their
    labels (NULL where unlabelled), the brand's first reply to each (up to ``now``) and how
    many times each author posted in the window."""
    labels, join = _WITH_LABELS if table_exists(store, "labels") else _WITHOUT_LABELS
    sql = _MENTIONS.format(labels=labels, labels_join=join)
    params = {
        "brand": brand,
        "since": naive_utc(since),
        "until": naive_utc(until),
        "now": naive_utc(now),
    }
    return store.connection.sql(sql, params=params).to_arrow_table()


def latest_mention(
    store: Store, *, brand: str, since: datetime | None, until: datetime | None
) -> datetime | None:
    """The time of the newest post about ``brand`` in the window (the inbox's default now)."""
    rows = store.connection.execute(
        """SELECT max(created_at) FROM posts
           WHERE (list_contains(brands, $brand) OR own_brand = $brand)
             AND ($since IS NULL OR created_at >= $since)
             AND ($until IS NULL OR created_at < $until)""",
        {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
    ).fetchall()
    return utc(rows[0][0]) if rows else None


def save_drafts(
    store: Store,
    *,
    brand: str,
    drafted_at: datetime,
    incident: str | None,
    drafts: Sequence[dict[str, Any]],
) -> int:
    """Keep an inbox's drafts (one dict per cluster: ``cluster``, ``intent``, ``platform``,
    ``text``, ``source``, ``needs_review``, ``review_reasons``, ``findings``, ``post_ids``).
    Saving the same inbox (brand, moment and incident: None for the brand's inbox) again
    replaces its rows; another inbox's are left alone."""
    rows = [
        {
            "brand": brand,
            "drafted_at": naive_utc(drafted_at),
            "incident": incident,
            **{k: d[k] for k in ("cluster", "intent", "platform", "text", "source")},
            "needs_review": bool(d["needs_review"]),
            "review_reasons": list(d["review_reasons"]),
            "findings": json.dumps([dataclasses.asdict(f) for f in d["findings"]]),
            "post_ids": list(d["post_ids"]),
        }
        for d in drafts
    ]
    if not rows:
        return 0
    with store.transaction() as con:
        con.execute(
            """DELETE FROM reply_drafts
               WHERE brand = $brand AND drafted_at = $at
                 AND incident IS NOT DISTINCT FROM $incident""",
            {"brand": brand, "at": naive_utc(drafted_at), "incident": incident},
        ).fetchall()
        con.register("reply_batch", pa.Table.from_pylist(rows))
        try:
            con.execute(
                """INSERT INTO reply_drafts
                   SELECT brand, drafted_at, cluster, incident, intent, platform, text, source,
                          needs_review, review_reasons, findings::JSON, post_ids
                   FROM reply_batch"""
            ).fetchall()
        finally:
            con.unregister("reply_batch")
    return len(rows)


def upgrade_reply_drafts(store: Store, schema: str) -> bool:
    """Rebuild ``reply_drafts`` of a store made when its key was (brand, drafted_at,
    cluster), without the incident: there a brand's inbox and an incident's inbox saved at
    the same moment overwrote each other. The old table is renamed, ``schema`` (the store's
    schema.sql, idempotent) makes the new one, and the rows move over, in one transaction.
    True if the store was upgraded."""
    con = store.connection
    old_key = con.execute(
        """SELECT 1 FROM duckdb_constraints()
           WHERE schema_name = 'main' AND table_name = 'reply_drafts'
             AND constraint_type = 'PRIMARY KEY'"""
    ).fetchall()
    if not old_key:
        return False
    with store.transaction() as con:
        con.execute("DROP INDEX IF EXISTS reply_drafts_inbox").fetchall()
        con.execute("ALTER TABLE reply_drafts RENAME TO reply_drafts_before_upgrade").fetchall()
        con.execute(schema).fetchall()
        con.execute(
            "INSERT INTO reply_drafts BY NAME SELECT * FROM reply_drafts_before_upgrade"
        ).fetchall()
        con.execute("DROP TABLE reply_drafts_before_upgrade").fetchall()
    return True


def held_drafts(store: Store, *, brand: str | None = None) -> list[dict[str, Any]]:
    """Saved drafts waiting for a second person's review, newest first."""
    cursor = store.connection.execute(
        """SELECT * FROM reply_drafts
           WHERE needs_review AND ($brand IS NULL OR brand = $brand)
           ORDER BY drafted_at DESC, cluster""",
        {"brand": brand},
    )
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
