"""The detect stage's SQL: per-minute signal, incident details, rumours, incidents, state.

Every query binds its parameters. The complaint pattern is Uproar's own data (a word list
from ``detect/complaint_terms.toml``), bound as a parameter, never post text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from uproar.records import Incident
from uproar.store.store import Store, naive_utc, utc

# The mentions a brand gets: one row per (post, brand mentioned), the brand's own posts
# left out, each with its complaint flag (the classifier's label when there is one, else
# the fast word-list signal) and whether its author is "fresh" for the brand: no earlier
# mention of that brand by that author within ``$gap`` seconds. Fresh counts are the
# detector's signal, so one author posting fifty times is one voice, not fifty.
_MENTIONS = """
    WITH m AS (
        SELECT unnest(p.brands) AS brand, p.platform, p.id, p.created_at, p.author_id,
               p.own_brand, p.reposted_id IS NOT NULL AS repost,
               coalesce(l.complaint, regexp_matches(lower(p.text), $pattern)) AS complaint
        FROM posts p LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
        WHERE ($since IS NULL OR p.created_at >= $since)
          AND ($until IS NULL OR p.created_at < $until)
          AND ($brand IS NULL OR list_contains(p.brands, $brand))
    ), f AS (
        SELECT brand, platform, id, created_at, author_id, complaint, repost,
               lag(created_at) OVER w AS prev{complaint_lag}
        FROM m
        WHERE own_brand IS NULL OR own_brand <> brand
        WINDOW w AS (PARTITION BY brand, author_id, repost ORDER BY created_at)
    )
    SELECT brand, platform, id, created_at, author_id, complaint,
           CAST({weight} AS INTEGER) AS signal{second}
    FROM f
"""
_FRESH = "(NOT repost AND (prev IS NULL OR epoch(created_at - prev) >= $gap))"
_FRESH_COMPLAINT = (
    "(NOT repost AND complaint AND (prev_c IS NULL OR epoch(created_at - prev_c) >= $gap))"
)
_COMPLAINT_LAG = """,
               last_value(CASE WHEN complaint THEN created_at END IGNORE NULLS) OVER (
                   w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
               ) AS prev_c"""
# The signals, as fixed SQL fragments: each post's weight. "fresh": an original mention
# whose author has not mentioned the brand within the gap; "fresh_complaint": the same for
# complaints (the author's previous original complaint is at least the gap old);
# "weighted": both added (a fresh complaint weighs 2, a fresh other mention 1). Reposts
# never count: a repost amplifies one report, it is not a second one.
SIGNAL_SQL = {
    "fresh": {"complaint_lag": "", "weight": _FRESH},
    "fresh_complaint": {"complaint_lag": _COMPLAINT_LAG, "weight": _FRESH_COMPLAINT},
    "weighted": {
        "complaint_lag": _COMPLAINT_LAG,
        "weight": f"CAST({_FRESH} AS INTEGER) + CAST({_FRESH_COMPLAINT} AS INTEGER)",
    },
}


def _mentions(signal: str, second: str | None = None) -> str:
    """The mentions with ``signal``'s weight (and ``second``'s, as ``signal2``)."""
    for name in (signal, second or signal):
        if name not in SIGNAL_SQL:
            raise ValueError(f"signal must be one of {sorted(SIGNAL_SQL)}, not {name!r}")
    spec = {**SIGNAL_SQL[signal], "second": ""}
    if second is not None:
        other = SIGNAL_SQL[second]
        spec["complaint_lag"] = spec["complaint_lag"] or other["complaint_lag"]
        spec["second"] = f", CAST({other['weight']} AS INTEGER) AS signal2"
    return _MENTIONS.format(**spec)


def _params(
    *,
    pattern: str,
    gap_s: float,
    since: datetime | None,
    until: datetime | None,
    brand: str | None = None,
) -> dict[str, Any]:
    return {
        "pattern": pattern,
        "gap": float(gap_s),
        "since": naive_utc(since),
        "until": naive_utc(until),
        "brand": brand,
    }


def first_post_time(store: Store, *, since: datetime | None = None) -> datetime | None:
    """When the earliest stored post (at or after ``since``) was made; ``None`` if none."""
    rows = store.connection.execute(
        "SELECT min(created_at) FROM posts WHERE $since IS NULL OR created_at >= $since",
        {"since": naive_utc(since)},
    ).fetchall()
    return utc(rows[0][0]) if rows else None


def post_spans(
    store: Store,
    *,
    since: datetime | None,
    until: datetime | None,
    floor: datetime,
    ceiling: datetime,
    max_gap_s: float,
) -> list[tuple[datetime, datetime]]:
    """Where the posts in ``[since, until)`` really are: the first and last minute of each
    run of posts with no gap over ``max_gap_s``, in time order. Posts outside
    ``[floor, ceiling)`` (impossible times a store may hold from before ingest's gate) are
    left out. One row per run: bounded by the posts, whatever their times."""
    sql = """
        WITH m AS (
            SELECT DISTINCT date_trunc('minute', created_at) AS minute FROM posts
            WHERE created_at >= $floor AND created_at < $ceiling
              AND ($since IS NULL OR created_at >= $since)
              AND ($until IS NULL OR created_at < $until)
        ), g AS (
            SELECT minute,
                   coalesce(epoch(minute - lag(minute) OVER (ORDER BY minute)) > $gap, TRUE)
                   AS starts
            FROM m
        ), r AS (
            SELECT minute, sum(CAST(starts AS INTEGER)) OVER (ORDER BY minute) AS run FROM g
        )
        SELECT min(minute), max(minute) FROM r GROUP BY run ORDER BY 1
    """
    params = {
        "since": naive_utc(since),
        "until": naive_utc(until),
        "floor": naive_utc(floor),
        "ceiling": naive_utc(ceiling),
        "gap": float(max_gap_s),
    }
    rows = store.connection.execute(sql, params).fetchall()
    return [(_aware(a), _aware(b)) for a, b in rows]


# What each signal row counts, per group: every mention, the complaints, unique authors and
# the detector's signal (fresh complaints by default).
_SIGNAL_COUNTS = """count(*) AS mentions,
               count(*) FILTER (WHERE complaint) AS complaints,
               count(DISTINCT author_id) AS authors,
               CAST(sum(signal) AS BIGINT) AS signal"""


def minute_signal(
    store: Store,
    *,
    signal: str,
    pattern: str,
    gap_s: float,
    since: datetime | None = None,
    until: datetime | None = None,
    second: str | None = None,
) -> pa.Table:
    """Per brand and minute: mentions and the ``signal`` count (and the ``second`` signal's,
    as ``signal2``, in the same pass): all the detector reads. (Complaints and unique authors
    are ``signal_breakdown``'s; counting distinct authors here cost 1.5 s at 10M posts.)

    Only minutes with at least one mention appear; rows are ordered by minute, then brand.
    """
    extra = ", CAST(sum(signal2) AS BIGINT) AS signal2" if second is not None else ""
    sql = f"""
        SELECT brand, date_trunc('minute', created_at) AS minute,
               count(*) AS mentions, CAST(sum(signal) AS BIGINT) AS signal{extra}
        FROM ({_mentions(signal, second)})
        GROUP BY ALL
        ORDER BY minute, brand
    """
    params = _params(pattern=pattern, gap_s=gap_s, since=since, until=until)
    return store.connection.sql(sql, params=params).to_arrow_table()


# How ``signal_breakdown`` keys a post: a list, so a post on several topics counts for each.
BREAKDOWN_KEYS = {
    "region": "[coalesce(p.region, 'unknown')]",
    "topic": "CASE WHEN len(l.topics) > 0 THEN l.topics ELSE ['none'] END",
}


def signal_breakdown(
    store: Store,
    *,
    brand: str,
    by: str,
    signal: str,
    pattern: str,
    gap_s: float,
    step_s: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """One brand's signal per time bucket of ``step_s`` seconds and per region or topic
    (``by``): mentions, complaints, unique authors and the ``signal`` count. Posts without a
    region are ``unknown``; a post on several topics counts once for each, one on none as
    ``none``. Rows are ordered by bucket, then key."""
    if by not in BREAKDOWN_KEYS:
        raise ValueError(f"by must be one of {sorted(BREAKDOWN_KEYS)}, not {by!r}")
    sql = f"""
        WITH s AS ({_mentions(signal)}),
        keyed AS (
            SELECT s.*, unnest({BREAKDOWN_KEYS[by]}) AS key
            FROM s JOIN posts p USING (platform, id)
            LEFT JOIN labels l USING (platform, id)
            WHERE s.brand = $brand
        )
        SELECT time_bucket(to_seconds($step), created_at) AS time, key,
               {_SIGNAL_COUNTS}
        FROM keyed
        GROUP BY ALL
        ORDER BY time, key
    """
    params = _params(pattern=pattern, gap_s=gap_s, since=since, until=until, brand=brand)
    params["step"] = float(step_s)
    return store.connection.sql(sql, params=params).to_arrow_table()


def nth_signal_time(
    store: Store,
    *,
    brand: str,
    minute: datetime,
    n: int,
    signal: str,
    pattern: str,
    gap_s: float,
    since: datetime | None = None,
) -> datetime | None:
    """Time of the post at which ``brand``'s signal in the minute at ``minute`` reaches ``n``.

    Freshness only looks back ``gap_s`` seconds, so the query reads that much before the
    minute (never before ``since``, where the detector's run began).
    """
    start = minute - timedelta(seconds=gap_s)
    if since is not None and start < since:
        start = since
    sql = f"""
        SELECT created_at FROM (
            SELECT created_at, platform, id, signal,
                   sum(signal) OVER (ORDER BY created_at, platform, id) AS reached
            FROM ({_mentions(signal)})
            WHERE created_at >= $minute AND brand = $brand
        )
        WHERE signal > 0 AND reached >= $n
        ORDER BY created_at, platform, id
        LIMIT 1
    """
    params = _params(
        pattern=pattern,
        gap_s=gap_s,
        since=start,
        until=minute + timedelta(minutes=1),
        brand=brand,
    )
    params["minute"] = naive_utc(minute)
    params["n"] = n
    rows = store.connection.execute(sql, params).fetchall()
    return utc(rows[0][0]) if rows else None


def signal_times(
    store: Store,
    *,
    brand: str,
    since: datetime,
    until: datetime,
    signal: str,
    pattern: str,
    gap_s: float,
) -> list[tuple[datetime, int]]:
    """(time, weight) of each of ``brand``'s signal posts in ``[since, until)``, in order.

    Freshness looks back ``gap_s`` seconds, so the query reads that much before ``since``.
    """
    sql = f"""
        SELECT created_at, signal FROM ({_mentions(signal)})
        WHERE created_at >= $start AND brand = $brand AND signal > 0
        ORDER BY created_at, platform, id
    """
    params = _params(
        pattern=pattern,
        gap_s=gap_s,
        since=since - timedelta(seconds=gap_s),
        until=until,
        brand=brand,
    )
    params["start"] = naive_utc(since)
    rows = store.connection.execute(sql, params).fetchall()
    return [(_aware(t), int(w)) for t, w in rows]


def recent_authors(
    store: Store, *, since: datetime, until: datetime, pattern: str
) -> list[tuple[str, str, bool, datetime]]:
    """(brand, author, complaint, last time) of each author's latest original mention of each
    brand in ``[since, until)``, per complaint kind: the streaming path's freshness memory."""
    rows = store.connection.execute(
        """
        WITH m AS (
            SELECT unnest(p.brands) AS brand, p.author_id, p.created_at, p.own_brand,
                   coalesce(l.complaint, regexp_matches(lower(p.text), $pattern)) AS complaint
            FROM posts p LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
            WHERE p.created_at >= $since AND p.created_at < $until AND p.reposted_id IS NULL
        )
        SELECT brand, author_id, complaint, max(created_at) FROM m
        WHERE own_brand IS NULL OR own_brand <> brand
        GROUP BY ALL ORDER BY ALL
        """,
        {"since": naive_utc(since), "until": naive_utc(until), "pattern": pattern},
    ).fetchall()
    return [(b, a, bool(c), _aware(t)) for b, a, c, t in rows]


@dataclass(frozen=True, slots=True)
class DescribeWindow:
    """One incident's posts to describe, ``[since, until)``, and its brand's reference
    posts before it, ``[reference_since, since)``."""

    brand: str
    reference_since: datetime
    since: datetime
    until: datetime


@dataclass(slots=True)
class WindowDetails:
    """What describing one window reads of the brand's mentions (not its own posts).

    ``posts``/``authors`` count every mention in the window; ``originals``/``complaints``
    leave reposts out (the chatter test's shares), as do their ``reference_`` twins. Term
    counts are document frequencies of ``term_posts`` posts; the reference's are of a
    uniform sample of ``reference_term_posts`` posts (all of them when few enough)."""

    posts: int = 0
    authors: int = 0
    originals: int = 0
    complaints: int = 0
    reference_posts: int = 0
    reference_originals: int = 0
    reference_complaints: int = 0
    regions: Counter[str] = field(default_factory=Counter)
    reference_regions: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    reference_topics: Counter[str] = field(default_factory=Counter)
    terms: dict[str, int] = field(default_factory=dict)
    term_posts: int = 0
    reference_terms: dict[str, int] = field(default_factory=dict)
    reference_term_posts: int = 0


# Every window's posts (and reference posts) in one join, so describing any number of
# incidents reads the posts once per query, not once per incident and query. ``$windows``
# is a list of structs (k, brand, reference_since, since, until, keep).
_WINDOW_POSTS = """
    WITH w AS (SELECT unnest($windows, recursive := true)),
    p AS (
        SELECT w.k, p.created_at >= w.since AS inside, w.keep,
               p.platform, p.id, p.created_at, p.author_id, p.region, p.text,
               p.reposted_id IS NULL AS original, l.topics,
               coalesce(l.complaint, regexp_matches(lower(p.text), $pattern)) AS complaint,
               coalesce(p.like_count, 0) + coalesce(p.repost_count, 0) AS engagement
        FROM (SELECT unnest(brands) AS brand, * FROM posts
              WHERE created_at >= $lo AND created_at < $hi) p
        JOIN w ON w.brand = p.brand
              AND p.created_at >= w.reference_since AND p.created_at < w.until
        LEFT JOIN labels l ON l.platform = p.platform AND l.id = p.id
        WHERE p.own_brand IS NULL OR p.own_brand <> p.brand
    )
"""
# A token can never hold a space (it is a run of TOKEN_SPLIT's complement), so one space
# added to each post's terms counts the posts the term query read.
_POST_MARK = " "


def _window_params(
    windows: Sequence[DescribeWindow], pattern: str, keep: Sequence[float] | None = None
) -> dict[str, Any]:
    return {
        "windows": [
            {
                "k": k,
                "brand": w.brand,
                "reference_since": naive_utc(w.reference_since),
                "since": naive_utc(w.since),
                "until": naive_utc(w.until),
                "keep": 1.0 if keep is None else float(keep[k]),
            }
            for k, w in enumerate(windows)
        ],
        "lo": naive_utc(min(w.reference_since for w in windows)),
        "hi": naive_utc(max(w.until for w in windows)),
        "pattern": pattern,
    }


def window_shares(
    store: Store, windows: Sequence[DescribeWindow], *, pattern: str
) -> list[WindowDetails]:
    """Each window's original mentions and complaints, and its reference's (the chatter
    test's shares; ``WindowDetails`` with those four filled), in one light query."""
    out = [WindowDetails() for _ in windows]
    if not windows:
        return out
    sql = f"""{_WINDOW_POSTS}
        SELECT k, inside, count(*), count(*) FILTER (WHERE complaint)
        FROM p WHERE original GROUP BY ALL
    """
    for k, inside, n, complaints in store.connection.execute(
        sql, _window_params(windows, pattern)
    ).fetchall():
        if inside:
            out[k].originals, out[k].complaints = n, complaints
        else:
            out[k].reference_originals, out[k].reference_complaints = n, complaints
    return out


def window_counts(
    store: Store, windows: Sequence[DescribeWindow], *, pattern: str
) -> list[WindowDetails]:
    """Each window's counts and regions (``WindowDetails`` without topics and terms), in one
    query whatever the number of windows."""
    out = [WindowDetails() for _ in windows]
    if not windows:
        return out
    sql = f"""{_WINDOW_POSTS}
        SELECT k, inside, region, grouping(region) AS total, count(*),
               count(*) FILTER (WHERE original),
               count(*) FILTER (WHERE original AND complaint),
               count(DISTINCT author_id)
        FROM p GROUP BY GROUPING SETS ((k, inside, region), (k, inside))
    """
    rows = store.connection.execute(sql, _window_params(windows, pattern)).fetchall()
    for k, inside, region, total, n, originals, complaints, authors in rows:
        d = out[k]
        if total and inside:
            d.posts, d.authors, d.originals, d.complaints = n, authors, originals, complaints
        elif total:
            d.reference_posts, d.reference_originals = n, originals
            d.reference_complaints = complaints
        elif region:
            (d.regions if inside else d.reference_regions)[str(region)] = n
    return out


def window_details(
    store: Store,
    windows: Sequence[DescribeWindow],
    *,
    pattern: str,
    token_pattern: str,
    reference_sample: int,
    min_length: int = 3,
) -> list[WindowDetails]:
    """Counts, regions, topics and terms of each window's posts and reference posts, in
    three queries whatever the number of windows. Terms of a reference of more than
    ``reference_sample`` posts are counted on a uniform sample of about that many (chosen by
    a hash of the post's id, so the same store gives the same terms); terms shorter than
    ``min_length`` are left out. ``token_pattern`` splits text into terms (Uproar's own)."""
    out = window_counts(store, windows, pattern=pattern)
    if not windows:
        return out
    con = store.connection
    params = _window_params(windows, pattern)
    topics = f"""{_WINDOW_POSTS}
        SELECT k, inside, topic, count(*)
        FROM (SELECT k, inside, unnest(topics) AS topic FROM p WHERE len(topics) > 0)
        GROUP BY ALL
    """
    for k, inside, topic, n in con.execute(topics, params).fetchall():
        (out[k].topics if inside else out[k].reference_topics)[str(topic)] = n
    keep = [min(1.0, reference_sample / max(d.reference_posts, 1)) for d in out]
    terms = f"""{_WINDOW_POSTS}
        SELECT k, inside, t, count(*) FROM (
            SELECT k, inside,
                   unnest(list_prepend($mark,
                          list_distinct(string_split_regex(lower(text), $tok)))) AS t
            FROM p
            WHERE inside OR keep >= 1.0 OR hash(platform, id) % 1000000 < keep * 1000000
        )
        WHERE length(t) >= $minlen OR t = $mark
        GROUP BY ALL
    """
    term_params = {
        **_window_params(windows, pattern, keep),
        "tok": token_pattern,
        "minlen": min_length,
        "mark": _POST_MARK,
    }
    for k, inside, term, n in con.execute(terms, term_params).fetchall():
        d = out[k]
        if term == _POST_MARK:
            if inside:
                d.term_posts = n
            else:
                d.reference_term_posts = n
        else:
            (d.terms if inside else d.reference_terms)[str(term)] = n
    return out


def sample_candidates(
    store: Store, windows: Sequence[DescribeWindow], *, pattern: str, limit: int, picks: int
) -> list[list[tuple[str, str, str]]]:
    """Per window, its first ``limit`` posts as (id, author, text) in the order samples are
    picked (complaints first, most engaged, earliest, then by id), less posts that picking
    ``picks`` samples, one per author and per text, would skip whatever came before them:
    an author's later posts of the same text, and a text's posts by more than its first
    ``picks`` authors (a flood of one text is then a few rows, not thousands)."""
    out: list[list[tuple[str, str, str]]] = [[] for _ in windows]
    if not windows:
        return out
    order = "NOT complaint, engagement DESC, created_at, id"
    sql = f"""{_WINDOW_POSTS},
        firsts AS (
            SELECT k, id, author_id, text, complaint, engagement, created_at FROM p
            WHERE inside
            QUALIFY row_number() OVER (PARTITION BY k, author_id, text ORDER BY {order}) = 1
        ), few AS (
            SELECT * FROM firsts
            QUALIFY row_number() OVER (PARTITION BY k, text ORDER BY {order}) <= $picks
        )
        SELECT k, id, author_id, text FROM few
        QUALIFY row_number() OVER (PARTITION BY k ORDER BY {order}) <= $limit
        ORDER BY k, {order}
    """
    params = {**_window_params(windows, pattern), "limit": limit, "picks": picks}
    for k, post_id, author, text in store.connection.execute(sql, params).fetchall():
        out[k].append((str(post_id), str(author), str(text)))
    return out


# One key per post that can spread: each linked domain, and a fingerprint of the text with
# links, mentions, digits and punctuation removed (near-identical copies share it). Short
# texts ("is X down in Auckland?", "any update?") repeat by nature in any outage and are
# not fingerprinted: a copypasta worth flagging is a paragraph, not a question.
# Links come from the post's entities (``urls``, expanded where the archive carries the
# expansion) and, when a format gives none (CSV exports, text-only archives), from the text.
# A reaction is a reply or quote to one of the brand's own posts (by id), or an old-style
# quote of it in the text ("RT @Brand: ..." or a quoted "@Brand: ..."), keyed by that post.
_TEXT_LINKS = r"https?://[^\s\"<>]+|www\.[^\s\"<>]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)+/[^\s\"<>]*"
_QUOTE = r'(?i)(?:\brt |["“])@(\w+):\s*([^"”]+?)\s*(?:https?://|["”]|$)'
_SPREAD_KEYS = """
    WITH m AS (
        SELECT unnest(brands) AS brand, platform, id, created_at, author_id, own_brand, text,
               CASE WHEN len(urls) > 0 THEN urls
                    -- every link form holds a '/' or "www.": most texts skip the regex
                    WHEN contains(text, '/') OR contains(lower(text), 'www.')
                    THEN regexp_extract_all(lower(text), $links)
                    ELSE [] END AS urls,
               reposted_id, reply_to_id, quoted_id
        FROM posts
        WHERE ($since IS NULL OR created_at >= $since)
          AND ($until IS NULL OR created_at < $until)
    ), k AS (
        SELECT brand, platform, id, created_at, author_id, 'domain' AS kind,  -- posts with links
               regexp_replace(
                   regexp_extract(lower(unnest(urls)), '^(?:[a-z]+://)?([^/:?#]+)', 1),
                   '^www\\.', '') AS key,
               NULL::TIMESTAMP AS origin
        FROM m WHERE (own_brand IS NULL OR own_brand <> brand) AND len(urls) > 0
        UNION ALL
        -- Texts people wrote themselves: a retweet cascade is one post being shared, not
        -- many authors repeating a claim (a copypasta), so retweets do not count as copies.
        SELECT brand, platform, id, created_at, author_id, 'text' AS kind,
               trim(regexp_replace(lower(text),
                   'https?://\\S+|@\\w+|[^a-z ]+|\\s+', ' ', 'g'))
               AS key,
               NULL::TIMESTAMP AS origin
        FROM m WHERE (own_brand IS NULL OR own_brand <> brand) AND length(text) >= $minraw
          AND reposted_id IS NULL AND NOT starts_with(lower(text), 'rt @')
        UNION ALL
        -- two equi-joins, not one join on "reply or quote": an OR there is a nested loop
        -- over every mention times every own post (hours at 10M posts)
        SELECT m.brand, m.platform, m.id, m.created_at, m.author_id, 'reaction' AS kind,
               'post ' || o.id AS key, o.created_at AS origin
        FROM m JOIN posts o ON o.own_brand = m.brand AND o.id = m.reply_to_id
        WHERE m.own_brand IS NULL OR m.own_brand <> m.brand
        UNION ALL
        SELECT m.brand, m.platform, m.id, m.created_at, m.author_id, 'reaction' AS kind,
               'post ' || o.id AS key, o.created_at AS origin
        FROM m JOIN posts o ON o.own_brand = m.brand AND o.id = m.quoted_id
        WHERE (m.own_brand IS NULL OR m.own_brand <> m.brand)
          AND m.reply_to_id IS DISTINCT FROM m.quoted_id
        UNION ALL
        SELECT m.brand, m.platform, m.id, m.created_at, m.author_id, 'reaction' AS kind,
               'quote ' || left(trim(regexp_replace(lower(
                   regexp_extract(m.text, $quote, 2)),
                   'https?://\\S+|@\\w+|[^a-z ]+|\\s+', ' ', 'g')), 60) AS key,
               NULL::TIMESTAMP AS origin
        FROM m JOIN brands b ON b.id = m.brand
        WHERE (m.own_brand IS NULL OR m.own_brand <> m.brand)
          AND CASE WHEN contains(m.text, '@') AND contains(m.text, ':')  -- the regex's cheap part
                   THEN regexp_matches(m.text, $quote) ELSE false END
          AND contains(lower(b.config),
                       '"@' || lower(regexp_extract(m.text, $quote, 1)) || '"')
    )
    SELECT * FROM k WHERE key <> '' AND key <> 'quote '
      AND (kind <> 'text' OR length(key) >= $minlen)
"""


def spread_candidates(
    store: Store,
    *,
    since: datetime | None,
    until: datetime | None,
    min_authors: int,
    within_s: float,
    min_text_length: int = 60,
) -> pa.Table:
    """Keys (domain or text fingerprint) that reached ``min_authors`` distinct authors within
    ``within_s`` seconds of first appearing in a brand's mentions.

    Columns: brand, kind, key, first_seen, reached_at (when the ``min_authors``-th author
    posted it), posts, authors, last_seen, origin (when the brand's own post a reaction
    replies to or quotes was posted, where the archive holds it), sample_ids (earliest
    first).
    """
    sql = f"""
        WITH k AS ({_SPREAD_KEYS}),
        firsts AS (
            SELECT brand, kind, key, author_id, min(created_at) AS t
            FROM k GROUP BY brand, kind, key, author_id
        ),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY brand, kind, key ORDER BY t, author_id)
                   AS n,
                   min(t) OVER (PARTITION BY brand, kind, key) AS first_seen
            FROM firsts
        ),
        hits AS (
            SELECT brand, kind, key, first_seen, t AS reached_at FROM ranked
            WHERE n = $n AND epoch(t - first_seen) <= $within
        )
        SELECT h.brand, h.kind, h.key, h.first_seen, h.reached_at,
               count(*) AS posts, count(DISTINCT k.author_id) AS authors,
               max(k.created_at) AS last_seen, max(k.origin) AS origin,
               list(k.id ORDER BY k.created_at, k.platform, k.id)[1:5] AS sample_ids
        FROM hits h JOIN k USING (brand, kind, key)
        GROUP BY ALL
        ORDER BY h.reached_at, h.brand, h.kind, h.key
    """
    params = {
        "since": naive_utc(since),
        "until": naive_utc(until),
        "n": min_authors,
        "within": float(within_s),
        "minlen": min_text_length,
        "minraw": min_text_length,
        "links": _TEXT_LINKS,
        "quote": _QUOTE,
    }
    return store.connection.sql(sql, params=params).to_arrow_table()


# -- incidents ---------------------------------------------------------------------------
_INCIDENT_COLUMNS = (
    "id", "brand", "start", "detected_at", "peak", "end", "severity", "scope", "posts",
    "authors", "regions", "topics", "terms", "sample_post_ids", "rumours", "peers", "phases",
    "term_counts",
)  # fmt: skip
# the columns held as JSON arrays of objects, and the keys of a phase that are times
_JSON_COLUMNS = ("rumours", "peers", "phases", "term_counts")
_PHASE_TIMES = ("start", "detected_at", "end")


def save_incidents(
    store: Store,
    incidents: Iterable[Incident],
    *,
    replace_brands: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Upsert incidents by id. First deletes the ``replace_brands`` incidents that started in
    ``[since, until)``, so re-running detection over a window replaces its results."""
    rows = list(incidents)
    with store.transaction() as con:
        for brand in replace_brands:
            con.execute(
                """DELETE FROM incidents WHERE brand = $brand
                     AND ($since IS NULL OR start >= $since)
                     AND ($until IS NULL OR start < $until)""",
                {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
            )
        upsert_incidents(store, rows)
    return len(rows)


def upsert_incidents(store: Store, incidents: Iterable[Incident]) -> None:
    """Insert or replace incidents by id, inside the caller's transaction."""
    con = store.connection
    cols = ", ".join(f'"{c}"' for c in _INCIDENT_COLUMNS)
    values = ", ".join(f"${c}" for c in _INCIDENT_COLUMNS)
    for inc in incidents:
        con.execute(
            f"INSERT OR REPLACE INTO incidents ({cols}) VALUES ({values})",
            {
                "id": inc.id,
                "brand": inc.brand,
                "start": naive_utc(inc.start),
                "detected_at": naive_utc(inc.detected_at),
                "peak": naive_utc(inc.peak),
                "end": naive_utc(inc.end),
                "severity": inc.severity,
                "scope": inc.scope,
                "posts": inc.posts,
                "authors": inc.authors,
                "regions": list(inc.regions),
                "topics": list(inc.topics),
                "terms": list(inc.terms),
                "sample_post_ids": list(inc.sample_post_ids),
                "rumours": json.dumps(list(inc.rumours), default=str),
                "peers": json.dumps(list(inc.peers), default=str),
                "phases": json.dumps(
                    [{k: _iso(v) for k, v in p.items()} for p in inc.phases], default=str
                ),
                "term_counts": json.dumps(list(inc.term_counts), default=str),
            },
        )


def load_incidents(
    store: Store,
    *,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    open_only: bool = False,
) -> list[Incident]:
    """Stored incidents overlapping ``[since, until)``, oldest first. A store written
    before a column existed, opened read-only, reads it as empty."""
    present = set(store.columns("incidents"))
    cols = ", ".join(f'"{c}"' if c in present else f'NULL AS "{c}"' for c in _INCIDENT_COLUMNS)
    rows = store.connection.execute(
        f"""SELECT {cols} FROM incidents
            WHERE ($brand IS NULL OR brand = $brand)
              AND ($until IS NULL OR start < $until)
              AND ($since IS NULL OR "end" IS NULL OR "end" >= $since)
              AND (NOT $open_only OR "end" IS NULL)
            ORDER BY start, brand, id""",
        {
            "brand": brand,
            "since": naive_utc(since),
            "until": naive_utc(until),
            "open_only": open_only,
        },
    ).fetchall()
    out = []
    for r in rows:
        rec = dict(zip(_INCIDENT_COLUMNS, r, strict=True))
        out.append(
            Incident(
                id=rec["id"],
                brand=rec["brand"],
                start=_aware(rec["start"]),
                detected_at=_aware(rec["detected_at"]),
                peak=_aware(rec["peak"]),
                end=utc(rec["end"]),
                severity=rec["severity"],
                scope="industry" if rec["scope"] == "industry" else "brand",
                posts=int(rec["posts"]),
                authors=int(rec["authors"]),
                regions=tuple(rec["regions"] or ()),
                topics=tuple(rec["topics"] or ()),
                terms=tuple(rec["terms"] or ()),
                sample_post_ids=tuple(rec["sample_post_ids"] or ()),
                rumours=_json_list(rec["rumours"]),
                peers=_json_list(rec["peers"]),
                phases=tuple(
                    {k: _time(v) if k in _PHASE_TIMES else v for k, v in p.items()}
                    for p in _json_list(rec["phases"])
                ),
                term_counts=_json_list(rec["term_counts"]),
            )
        )
    return out


def _json_list(text: str | None) -> tuple[dict[str, Any], ...]:
    """A JSON array column (NULL in rows stored before the column existed: empty)."""
    return tuple(json.loads(text)) if text else ()


def _iso(value: Any) -> Any:
    return utc(value).isoformat() if isinstance(value, datetime) else value  # type: ignore[union-attr]


def _time(value: Any) -> datetime | None:
    return utc(datetime.fromisoformat(value)) if isinstance(value, str) else None


def _aware(value: datetime) -> datetime:
    out = utc(value)
    assert out is not None
    return out


# -- coverage changes --------------------------------------------------------------------
def save_coverage(
    store: Store,
    changes: Iterable[tuple[str, str, datetime, datetime | None]],
    *,
    replace_brands: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Keep coverage changes ``(brand, kind, since, until)``; first deletes the
    ``replace_brands`` changes in ``[since, until)``, so a re-run over a window replaces
    its results (as ``save_incidents`` does)."""
    rows = list(changes)
    with store.transaction() as con:
        for brand in replace_brands:
            con.execute(
                """DELETE FROM coverage WHERE brand = $brand
                     AND ($since IS NULL OR since >= $since)
                     AND ($until IS NULL OR since < $until)""",
                {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
            )
        for brand, kind, at, to in rows:
            con.execute(
                "INSERT OR REPLACE INTO coverage VALUES ($brand, $kind, $since, $until)",
                {"brand": brand, "kind": kind, "since": naive_utc(at), "until": naive_utc(to)},
            )
    return len(rows)


def load_coverage(
    store: Store,
    *,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Stored coverage changes (brand, kind, since, until) touching ``[since, until)``,
    oldest first (none in a store no detection has written, opened read-only)."""
    if not store.has_table("coverage"):
        return []
    rows = store.connection.execute(
        """SELECT brand, kind, since, "until" FROM coverage
           WHERE ($brand IS NULL OR brand = $brand)
             AND ($until IS NULL OR since < $until)
             AND ($since IS NULL OR coalesce("until", since) >= $since)
           ORDER BY since, brand, kind""",
        {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
    ).fetchall()
    return [
        {"brand": b, "kind": k, "since": _aware(a), "until": utc(z)} for b, k, a, z in rows
    ]


# -- detector state ----------------------------------------------------------------------
def save_state(store: Store, name: str, state: bytes, *, clock: datetime | None) -> None:
    """Keep the detector's pickled state under ``name`` (replacing what was there)."""
    store.connection.execute(
        """INSERT OR REPLACE INTO detector_state
           VALUES ($name, $state, $clock, now() AT TIME ZONE 'UTC')""",
        {"name": name, "state": state, "clock": naive_utc(clock)},
    )


def load_state(store: Store, name: str) -> bytes | None:
    """The pickled state saved under ``name``, or ``None`` when there is none yet."""
    rows = store.connection.execute(
        "SELECT state FROM detector_state WHERE name = $name", {"name": name}
    ).fetchall()
    return bytes(rows[0][0]) if rows else None
