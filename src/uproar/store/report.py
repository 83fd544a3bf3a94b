"""Queries the report draws on: labels over time for one brand and window."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from uproar.store.store import Store, naive_utc


def sentiment_over_time(
    store: Store, brand: str, since: datetime, until: datetime, *, bucket_minutes: int = 30
) -> pa.Table:
    """(bucket, sentiment, posts) for the brand's customer mentions in [since, until)."""
    sql = """
        SELECT time_bucket(to_minutes($minutes), p.created_at) AS bucket, l.sentiment,
               count(*) AS posts
        FROM posts p JOIN labels l USING (platform, id)
        WHERE list_contains(p.brands, $brand) AND p.own_brand IS NULL
          AND p.created_at >= $since AND p.created_at < $until
        GROUP BY ALL ORDER BY bucket, l.sentiment
    """
    params = {
        "minutes": bucket_minutes,
        "brand": brand,
        "since": naive_utc(since),
        "until": naive_utc(until),
    }
    return store.connection.sql(sql, params=params).to_arrow_table()


def topics_over_time(
    store: Store,
    brand: str,
    since: datetime,
    until: datetime,
    *,
    bucket_minutes: int = 30,
    top: int = 6,
) -> pa.Table:
    """(bucket, topic, posts) for the brand's ``top`` most frequent topics in the window."""
    sql = """
        WITH tagged AS (
            SELECT time_bucket(to_minutes($minutes), p.created_at) AS bucket,
                   unnest(l.topics) AS topic
            FROM posts p JOIN labels l USING (platform, id)
            WHERE list_contains(p.brands, $brand) AND p.own_brand IS NULL
              AND p.created_at >= $since AND p.created_at < $until
        ),
        top_topics AS (
            SELECT topic FROM tagged GROUP BY topic ORDER BY count(*) DESC, topic LIMIT $top
        )
        SELECT bucket, topic, count(*) AS posts
        FROM tagged JOIN top_topics USING (topic)
        GROUP BY ALL ORDER BY bucket, topic
    """
    params = {
        "minutes": bucket_minutes,
        "brand": brand,
        "since": naive_utc(since),
        "until": naive_utc(until),
        "top": top,
    }
    return store.connection.sql(sql, params=params).to_arrow_table()


def own_posts(
    store: Store,
    brand: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
) -> pa.Table:
    """The brand's own posts (platform, id, created_at, text, reply_to_id) in
    ``[since, until)``, in time order."""
    sql = """
        SELECT platform, id, created_at, text, reply_to_id FROM posts
        WHERE own_brand = $brand
          AND ($since IS NULL OR created_at >= $since)
          AND ($until IS NULL OR created_at < $until)
        ORDER BY created_at, id LIMIT $limit
    """
    params = {
        "brand": brand,
        "since": naive_utc(since),
        "until": naive_utc(until),
        "limit": limit,
    }
    return store.connection.sql(sql, params=params).to_arrow_table()


def region_counts(
    store: Store, brand: str, since: datetime, until: datetime, *, top: int = 12
) -> list[tuple[str, int]]:
    """The regions of the brand's customer mentions in ``[since, until)``, commonest first
    (posts with no known region count as ``unknown``)."""
    sql = """
        SELECT coalesce(region, 'unknown') AS region, count(*) AS posts FROM posts
        WHERE list_contains(brands, $brand) AND own_brand IS NULL
          AND created_at >= $since AND created_at < $until
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $top
    """
    params = {"brand": brand, "since": naive_utc(since), "until": naive_utc(until), "top": top}
    return [(str(r), int(n)) for r, n in store.connection.execute(sql, params).fetchall()]
