"""SQL for running detection in pieces (one brand family per Spark group): the few facts
about the whole archive that ``detect_store`` reads beside a brand's own mentions.

``detect_store`` walks the minutes from the archive's first mention to its last, breaks the
walk where the whole archive has a gap of over a day (``post_spans``), and judges rumours'
novelty from the archive's first post. A family's share of the posts would move all three.
``context_times`` gives, per hour, the first and last post (which keep every gap of the
whole archive, and only those) and the first and last mention of any brand (which keep the
walk's ends and every run that has mentions): a family store holding context rows at those
times walks exactly the minutes the whole store walks.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from uproar.store.store import Store, naive_utc

_CONTEXT = """
    WITH h AS (
        SELECT min(created_at) AS a, max(created_at) AS b FROM posts
        WHERE created_at >= $floor AND created_at < $ceiling
        GROUP BY date_trunc('hour', created_at)
    ), m AS (
        SELECT min(created_at) AS a, max(created_at) AS b FROM posts
        WHERE len(list_filter(brands, lambda x: own_brand IS NULL OR x <> own_brand)) > 0
        GROUP BY date_trunc('hour', created_at)
    )
    SELECT DISTINCT t, FALSE AS mention FROM (
        SELECT a AS t FROM h UNION ALL SELECT b FROM h
        UNION ALL SELECT min(created_at) FROM posts
    ) WHERE t IS NOT NULL
    UNION ALL
    SELECT DISTINCT t, TRUE FROM (SELECT a AS t FROM m UNION ALL SELECT b FROM m)
    ORDER BY 2, 1
"""


def context_times(store: Store, *, floor: datetime, ceiling: datetime) -> pa.Table:
    """Columns ``t`` (naive UTC) and ``mention``: the times context rows must stand at
    (``mention``: a row that mentions a brand of no family; else one that mentions none)."""
    params = {"floor": naive_utc(floor), "ceiling": naive_utc(ceiling)}
    rows = store.connection.execute(_CONTEXT, params).fetchall()
    return pa.table(
        {"t": pa.array([r[0] for r in rows], pa.timestamp("us")),
         "mention": pa.array([r[1] for r in rows], pa.bool_())}
    )  # fmt: skip
