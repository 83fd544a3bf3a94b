"""The dashboard pages' queries: complaints per bucket, posts by id, the live pulse, and
the decisions people take on reply drafts (``reply_decisions``).

Every value is a bound parameter; the complaint pattern is Uproar's own word list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from uproar.store.store import Store, naive_utc, utc


def complaint_volume(
    store: Store,
    *,
    bucket_minutes: int,
    since: datetime,
    until: datetime,
    pattern: str,
    brands: Sequence[str] | None = None,
) -> pa.Table:
    """Customer mentions and complaints per brand per bucket in ``[since, until)``
    (brand, bucket, posts, complaints), of every brand or only ``brands``. A complaint is
    the classifier's label where there is one, else the detector's word list (the same
    rule as ``store/detect.py``)."""
    sql = """
        WITH m AS (
            SELECT unnest(p.brands) AS brand, p.created_at, p.own_brand,
                   coalesce(l.complaint, regexp_matches(lower(p.text), $pattern)) AS complaint
            FROM posts p LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
            WHERE p.created_at >= $since AND p.created_at < $until
              AND ($brands IS NULL OR list_has_any(p.brands, $brands))
        )
        SELECT brand, time_bucket(to_minutes($minutes), created_at) AS bucket,
               count(*) AS posts, count(*) FILTER (WHERE complaint) AS complaints
        FROM m WHERE (own_brand IS NULL OR own_brand <> brand)
          AND ($brands IS NULL OR list_contains($brands, brand))
        GROUP BY ALL ORDER BY brand, bucket
    """
    params = {
        "minutes": bucket_minutes,
        "since": naive_utc(since),
        "until": naive_utc(until),
        "pattern": pattern,
        "brands": None if brands is None else list(brands),
    }
    return store.connection.sql(sql, params=params).to_arrow_table()


def posts_by_id(store: Store, ids: Sequence[str], *, limit: int = 50) -> list[dict[str, Any]]:
    """The posts with these ids (any platform), in the order given: platform, id,
    created_at (UTC), author_handle, author_id, text, urls, region."""
    if not ids:
        return []
    rows = store.connection.execute(
        """SELECT platform, id, created_at, author_handle, author_id, text, urls, region
           FROM posts WHERE list_contains($ids, id) ORDER BY created_at, platform, id
           LIMIT $limit""",
        {"ids": list(ids), "limit": limit},
    ).fetchall()
    names = ("platform", "id", "created_at", "author_handle", "author_id", "text", "urls", "region")
    found = [dict(zip(names, r, strict=True)) for r in rows]
    for row in found:
        row["created_at"] = utc(row["created_at"])
    order = {i: n for n, i in enumerate(ids)}
    return sorted(found, key=lambda r: order.get(r["id"], len(order)))


def latest_post_time(store: Store) -> datetime | None:
    """When the newest stored post was made."""
    rows = store.connection.execute("SELECT max(created_at) FROM posts").fetchall()
    return utc(rows[0][0]) if rows else None


@dataclass(frozen=True, slots=True)
class Pulse:
    """What the live page watches, read cheaply: the posts stored (count and newest time)
    and each incident's changing fields (id, severity, scope, end, posts)."""

    posts: int
    last_post: datetime | None
    incidents: tuple[tuple[str, str, str, datetime | None, int], ...]


def pulse(store: Store) -> Pulse:
    """The store's pulse: two small aggregate queries (DuckDB answers ``count(*)`` and
    ``max`` from its metadata and zonemaps; the incidents table holds a few rows)."""
    con = store.connection
    rows = con.execute("SELECT count(*), max(created_at) FROM posts").fetchall()
    posts, last = (int(rows[0][0]), utc(rows[0][1])) if rows else (0, None)
    incidents = tuple(
        (str(i), str(sev), str(scope), utc(end), int(n))
        for i, sev, scope, end, n in con.execute(
            'SELECT id, severity, scope, "end", posts FROM incidents ORDER BY start, id'
        ).fetchall()
    )
    return Pulse(posts=posts, last_post=last, incidents=incidents)


# -- decisions on reply drafts -------------------------------------------------------------
DECISIONS: tuple[str, ...] = ("approve", "skip")


@dataclass(frozen=True, slots=True)
class Decision:
    """Who approved (or skipped) which draft, with what text, and when."""

    brand: str
    drafted_at: datetime
    cluster: int
    incident: str | None
    action: str
    text: str
    edited: bool
    by: str
    at: datetime


def record_decision(store: Store, decision: Decision) -> None:
    """Keep one decision (every decision is kept: the latest for a draft is its state)."""
    store.connection.execute(
        """INSERT INTO reply_decisions VALUES
           ($brand, $drafted_at, $cluster, $incident, $action, $text, $edited, $by, $at)""",
        {
            "brand": decision.brand,
            "drafted_at": naive_utc(decision.drafted_at),
            "cluster": decision.cluster,
            "incident": decision.incident,
            "action": decision.action,
            "text": decision.text,
            "edited": decision.edited,
            "by": decision.by,
            "at": naive_utc(decision.at),
        },
    )


def draft_text(
    store: Store, *, brand: str, drafted_at: datetime, cluster: int, incident: str | None
) -> str | None:
    """The saved draft's text (``reply_drafts``), or None when there is no such draft (of
    that inbox: the brand's, or one incident's)."""
    rows = store.connection.execute(
        """SELECT text FROM reply_drafts
           WHERE brand = $brand AND drafted_at = $at AND cluster = $cluster
             AND incident IS NOT DISTINCT FROM $incident""",
        {"brand": brand, "at": naive_utc(drafted_at), "cluster": cluster, "incident": incident},
    ).fetchall()
    return str(rows[0][0]) if rows else None


def draft_posts(
    store: Store, *, brand: str, drafted_at: datetime, cluster: int, incident: str | None
) -> list[str]:
    """The mentions (``platform:id``) a saved draft answers, first the one it replies to."""
    rows = store.connection.execute(
        """SELECT post_ids FROM reply_drafts
           WHERE brand = $brand AND drafted_at = $at AND cluster = $cluster
             AND incident IS NOT DISTINCT FROM $incident""",
        {"brand": brand, "at": naive_utc(drafted_at), "cluster": cluster, "incident": incident},
    ).fetchall()
    return [str(p) for p in rows[0][0] or ()] if rows else []


def decisions(
    store: Store,
    *,
    brand: str,
    drafted_at: datetime | None = None,
    incident: str | None = None,
) -> list[Decision]:
    """The decisions on ``brand``'s drafts, oldest first; with ``drafted_at``, those of one
    inbox (the brand's, or ``incident``'s)."""
    rows = store.connection.execute(
        """SELECT brand, drafted_at, cluster, incident, action, text, edited, decided_by,
                  decided_at
           FROM reply_decisions
           WHERE brand = $brand
             AND ($drafted_at IS NULL
                  OR (drafted_at = $drafted_at AND incident IS NOT DISTINCT FROM $incident))
           ORDER BY decided_at, cluster""",
        {"brand": brand, "drafted_at": naive_utc(drafted_at), "incident": incident},
    ).fetchall()
    out = []
    for b, d, c, inc, action, text, edited, by, at in rows:
        drafted, when = utc(d), utc(at)
        assert drafted is not None and when is not None
        out.append(
            Decision(
                brand=str(b),
                drafted_at=drafted,
                cluster=int(c),
                incident=None if inc is None else str(inc),
                action=str(action),
                text=str(text),
                edited=bool(edited),
                by=str(by),
                at=when,
            )
        )
    return out
