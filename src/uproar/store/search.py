"""Full-text search over stored posts, with filters (the dashboard's Search page).

Every word (or "quoted phrase") must occur in the text, case-insensitively (``ILIKE`` with
the user's ``%`` and ``_`` escaped), newest posts first. Every value is bound, so post text
and queries never become SQL (the statement is put together from this module's constant
conditions, by which filters are given).

Which posts are read depends on how rare the rarest word of the query is:

- In few posts (at most ``INDEX_TIMES`` post times, by the word index of
  ``store/search_index.py``, which DuckDB's ``fts`` extension would have been, were it in
  the wheel): only the posts made at the times the index gives for that word are read,
  newest first, a slice of times at a time, until the page is full. A word in no post
  reads nothing.
- Common, or no word at all (a filter only, or punctuation), or an index not caught up
  (a store opened read-only): a scan over time windows going back from the newest post
  (an hour, then the 4 hours before, then 16, ...) that stops once the page is full, so a
  common word reads the last hour or so of posts (DuckDB skips the row groups outside a
  window by their min/max times, and the join with ``labels`` stays that small too).

Either way every post read is checked with the same ``ILIKE`` conditions and filters, so
both give the same posts in the same order (a test compares them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from uproar.store import search_index
from uproar.store.store import Store, naive_utc, utc

MAX_TERMS = 8  # the statement has this many term slots
# Above this many post times for its rarest word, a query scans windows instead: a common
# word fills a page from the newest hour faster than its times are read from the index.
INDEX_TIMES = 20_000
FIRST_WINDOW = timedelta(hours=1)
WINDOW_GROWTH = 4

# The conditions a search may use: constant SQL chosen by which filters are given (leaving
# out an unused one, rather than binding it NULL, keeps DuckDB's plan as small as the search).
_POST_FILTERS = {
    "brand": "(list_contains(brands, $brand) OR own_brand = $brand)",
    "platform": "platform = $platform",
    "intent": (
        "platform || ':' || id IN "
        "(SELECT unnest(post_ids) FROM reply_drafts WHERE intent = $intent)"
    ),
}
_LABEL_FILTERS = {
    "sentiment": "l.sentiment IS NOT DISTINCT FROM $sentiment",
    "topic": "coalesce(list_contains(l.topics, $topic), FALSE)",
}
_TERMS = tuple(f"text ILIKE $t{i} ESCAPE '\\'" for i in range(MAX_TERMS))
# The newest posts of a window first (a Top-N DuckDB answers from the window's row groups),
# then their labels: joining only those rows keeps the hash join's build side that small
# (joined first, DuckDB plans for the whole labels table).
_SEARCH = """
WITH p AS (
    SELECT platform, id, created_at, text, author_handle, author_name, urls, brands,
           own_brand, region
    FROM posts
    WHERE created_at >= $lo AND created_at < $hi{post_conditions}
    ORDER BY created_at DESC, platform, id
    LIMIT $limit OFFSET $skip
)
SELECT p.*, l.sentiment, l.topics, l.complaint, {keep} AS keep
FROM p LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
ORDER BY p.created_at DESC, p.platform, p.id
"""


# The posts made at a slice of the index's times (all of them: a page ends between times).
_AT_TIMES = """
WITH p AS (
    SELECT platform, id, created_at, text, author_handle, author_name, urls, brands,
           own_brand, region
    FROM posts
    WHERE created_at >= $lo AND created_at <= $hi
      AND created_at IN (SELECT unnest($times)){post_conditions}
)
SELECT p.*, l.sentiment, l.topics, l.complaint, {keep} AS keep
FROM p LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
ORDER BY p.created_at DESC, p.platform, p.id
"""


def like_pattern(term: str) -> str:
    """An ILIKE pattern that finds ``term`` anywhere, its own wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_posts(
    store: Store,
    *,
    terms: tuple[str, ...] = (),
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    sentiment: str | None = None,
    topic: str | None = None,
    intent: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Posts matching every term and filter, newest first (``limit`` from ``offset``)."""
    if len(terms) > MAX_TERMS:
        raise ValueError(f"at most {MAX_TERMS} terms")
    span = store.connection.execute("SELECT min(created_at), max(created_at) FROM posts")
    first, last = span.fetchone() or (None, None)
    if first is None or last is None:
        return []
    lo_bound = max(first, naive_utc(since)) if since else first
    hi_bound = (
        min(last + timedelta(microseconds=1), naive_utc(until))
        if until
        else (last + timedelta(microseconds=1))
    )
    given = {"brand": brand, "platform": platform, "intent": intent,
             "sentiment": sentiment, "topic": topic}  # fmt: skip
    params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    post_conditions = [_POST_FILTERS[k] for k in params if k in _POST_FILTERS]
    keep = [_LABEL_FILTERS[k] for k in params if k in _LABEL_FILTERS]
    for i, term in enumerate(terms):
        params[f"t{i}"] = like_pattern(term)
        post_conditions.append(_TERMS[i])
    format_args = {
        "post_conditions": "".join(f"\n      AND {c}" for c in post_conditions),
        "keep": " AND ".join(keep) or "TRUE",
    }
    wanted = offset + limit
    use_index = bool(terms) and search_index.indexed(store)
    rarest = search_index.rarest_word(store, terms) if use_index else None
    if rarest is not None and rarest[1] <= INDEX_TIMES:
        times = search_index.times_with(store, rarest[0], since=lo_bound, until=hi_bound)
        found = _at_times(store, _AT_TIMES.format(**format_args), params, times, wanted)
        return found[offset:wanted]
    sql = _SEARCH.format(**format_args)
    rows: list[dict[str, Any]] = []
    hi, window = hi_bound, FIRST_WINDOW
    while hi > lo_bound and len(rows) < wanted:
        lo = max(lo_bound, hi - window)
        skip = 0
        # A label filter drops some of the posts read: read more than the page needs.
        chunk = wanted - len(rows) if not keep else max(4 * (wanted - len(rows)), 200)
        while len(rows) < wanted:
            cursor = store.connection.execute(
                sql, {**params, "lo": lo, "hi": hi, "limit": chunk, "skip": skip}
            )
            names = [d[0] for d in cursor.description or ()]
            read = cursor.fetchall()
            for values in read:
                row = dict(zip(names, values, strict=True))
                if row.pop("keep") and len(rows) < wanted:
                    row["created_at"] = utc(row["created_at"])
                    rows.append(row)
            if len(read) < chunk:
                break  # the window has no more
            skip, chunk = skip + chunk, chunk * 2
        hi, window = lo, window * WINDOW_GROWTH
    return rows[offset:wanted]


def _at_times(
    store: Store, sql: str, params: dict[str, Any], times: list[datetime], wanted: int
) -> list[dict[str, Any]]:
    """The matching posts made at ``times`` (newest first), until ``wanted`` are found."""
    rows: list[dict[str, Any]] = []
    start, size = 0, wanted
    while start < len(times) and len(rows) < wanted:
        part = times[start : start + size]
        cursor = store.connection.execute(
            sql, {**params, "times": part, "lo": part[-1], "hi": part[0]}
        )
        names = [d[0] for d in cursor.description or ()]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if row.pop("keep") and len(rows) < wanted:
                row["created_at"] = utc(row["created_at"])
                rows.append(row)
        start, size = start + size, size * 2
    return rows


def stored_values(store: Store, what: str) -> list[str]:
    """The values stored for a filter (platform, topic, intent), for an error that lists
    them. Scans: called only when a value was not found."""
    sql = {
        "platform": "SELECT DISTINCT platform FROM posts",
        "topic": "SELECT DISTINCT unnest(topics) FROM labels",
        "intent": "SELECT DISTINCT intent FROM reply_drafts",
    }[what]
    return sorted(str(r[0]) for r in store.connection.execute(sql).fetchall() if r[0] is not None)


def has_value(store: Store, what: str, value: str) -> bool:
    """Whether any stored row has ``value`` for the filter ``what`` (stops at the first)."""
    sql = {
        "platform": "SELECT 1 FROM posts WHERE platform = $v LIMIT 1",
        "topic": "SELECT 1 FROM labels WHERE list_contains(topics, $v) LIMIT 1",
        "intent": "SELECT 1 FROM reply_drafts WHERE intent = $v LIMIT 1",
    }[what]
    return bool(store.connection.execute(sql, {"v": value}).fetchall())
