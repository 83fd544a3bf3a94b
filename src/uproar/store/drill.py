"""The drill's queries: the posts it replays, its clock, and what the team posted.

A drill store holds one drill (``drill_state``). The posts to replay wait in ``drill_feed``
(and their labels in ``drill_feed_labels``) and move into ``posts`` and ``labels`` as the
drill's clock reaches the time they were posted at, so every other stage (the dashboard,
the inbox, detection, the report) reads a drill store as it reads any store. Every value
is a bound parameter; table names are fixed strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from uproar.errors import InputError
from uproar.store.store import POST_COLUMNS, Store, mapped_errors, naive_utc, utc

# The source record verbatim is not replayed: a drill needs what the stages read.
_REPLAYED = tuple(c for c in POST_COLUMNS if c != "raw")

_SOURCE_POSTS = f"""
SELECT {", ".join(_REPLAYED)} FROM posts
WHERE list_has_any(brands, $brands)
  AND (own_brand IS NULL OR own_brand <> $brand OR created_at < $onset)
  AND created_at >= $since AND created_at < $until
ORDER BY created_at, platform, id
"""
_SOURCE_LABELS = """
SELECT l.* FROM labels l SEMI JOIN (
    SELECT platform, id FROM posts
    WHERE list_has_any(brands, $brands)
      AND (own_brand IS NULL OR own_brand <> $brand OR created_at < $onset)
      AND created_at >= $since AND created_at < $until
) p ON l.platform = p.platform AND l.id = p.id
"""


def replay_posts(
    store: Store,
    *,
    brand: str,
    brands: Sequence[str],
    since: datetime,
    until: datetime,
    onset: datetime,
) -> tuple[pa.Table, pa.Table]:
    """Posts (and their labels) a drill replays from a source store: those that mention any
    of ``brands`` in ``[since, until)``, except ``brand``'s own from ``onset`` on (the team
    plays the brand then; what it posted before, a gaffe say, is the situation inherited)."""
    params = {
        "onset": naive_utc(onset),
        "brand": brand,
        "brands": list(brands),
        "since": naive_utc(since),
        "until": naive_utc(until),
    }
    posts = store.connection.sql(_SOURCE_POSTS, params=params).to_arrow_table()
    labels = store.connection.sql(_SOURCE_LABELS, params=params).to_arrow_table()
    return posts, labels


def brand_own_posts(
    store: Store, *, brand: str, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """The brand's own posts in ``[since, until)`` of a source store (the play it made in
    real life), oldest first: ``created_at``, ``text``, ``reply_to_id``, ``platform``."""
    cursor = store.connection.execute(
        """SELECT created_at, text, reply_to_id, platform FROM posts
           WHERE own_brand = $brand AND created_at >= $since AND created_at < $until
           ORDER BY created_at, platform, id""",
        {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
    )
    return [
        {"created_at": utc(at), "text": text, "reply_to_id": reply, "platform": platform}
        for at, text, reply, platform in cursor.fetchall()
    ]


def create_drill(
    store: Store,
    state: Mapping[str, Any],
    *,
    released: tuple[pa.Table, pa.Table],
    feed: tuple[pa.Table, pa.Table],
) -> None:
    """Write a new drill into an empty drill store: its state, the posts already released
    (the history before it) and the feed still to come, in one transaction."""
    row = {k: naive_utc(v) if isinstance(v, datetime) else v for k, v in state.items()}
    for key in ("rumours", "recorded"):
        row[key] = json.dumps(list(state.get(key) or ()), default=str)
    with mapped_errors(store.path), store.transaction() as con:
        existing = con.execute("SELECT count(*) FROM drill_state").fetchone()
        if existing and existing[0]:
            raise InputError(
                f"{store.path} already holds a drill; give a new --db for a fresh one",
                file=str(store.path),
            )
        con.execute(
            """INSERT INTO drill_state VALUES ($id, $source, $brand, $incident, $onset,
                 $incident_end, $scope, $rumours::JSON, $recorded::JSON, $replay_from,
                 $replay_until, $speed, $started_wall, NULL, 0.0, $released_until,
                 $team_size, $tz)""",
            row,
        )
        for (posts, labels), (post_table, label_table) in (
            (released, ("posts", "labels")),
            (feed, ("drill_feed", "drill_feed_labels")),
        ):
            _append(con, post_table, posts)
            _append(con, label_table, labels)


def _append(con: Any, table: str, batch: pa.Table) -> None:
    if batch.num_rows == 0:
        return
    con.register("drill_batch", batch)
    try:
        # BY NAME: the feed tables copy the columns of posts and labels, whatever their order.
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM drill_batch")
    finally:
        con.unregister("drill_batch")


def load_drill_state(store: Store) -> dict[str, Any] | None:
    """The store's drill, times as aware UTC datetimes, or None when it holds none."""
    cursor = store.connection.execute("SELECT * FROM drill_state LIMIT 1")
    row = cursor.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cursor.description or ()]
    state = dict(zip(names, row, strict=True))
    for key, value in state.items():
        if isinstance(value, datetime):
            state[key] = utc(value)
    for key in ("rumours", "recorded"):
        state[key] = json.loads(state[key]) if state[key] else []
    return state


def set_clock(
    store: Store, drill_id: str, *, paused_wall: datetime | None, paused_s: float
) -> None:
    """Pause (``paused_wall`` set) or resume (``paused_wall`` None) the drill's clock."""
    with store.transaction() as con:
        con.execute(
            "UPDATE drill_state SET paused_wall = $wall, paused_s = $paused WHERE id = $id",
            {"wall": naive_utc(paused_wall), "paused": paused_s, "id": drill_id},
        )


def release(store: Store, drill_id: str, until: datetime) -> int:
    """Move the feed's posts (and labels) posted at or before ``until`` into ``posts``;
    returns how many posts were released."""
    params = {"until": naive_utc(until)}
    with mapped_errors(store.path), store.transaction() as con:
        row = con.execute(
            """INSERT OR IGNORE INTO posts BY NAME
               SELECT * FROM drill_feed WHERE created_at <= $until""",
            params,
        ).fetchone()
        con.execute(
            """INSERT OR IGNORE INTO labels BY NAME
               SELECT l.* FROM drill_feed_labels l SEMI JOIN
                 (SELECT platform, id FROM drill_feed WHERE created_at <= $until) f
                 ON l.platform = f.platform AND l.id = f.id""",
            params,
        )
        con.execute(
            """DELETE FROM drill_feed_labels l USING drill_feed f
               WHERE l.platform = f.platform AND l.id = f.id AND f.created_at <= $until""",
            params,
        )
        con.execute("DELETE FROM drill_feed WHERE created_at <= $until", params)
        con.execute(
            """UPDATE drill_state SET released_until = greatest(released_until, $until)
               WHERE id = $id""",
            {**params, "id": drill_id},
        )
    return int(row[0]) if row else 0


def pending_posts(store: Store) -> int:
    row = store.connection.execute("SELECT count(*) FROM drill_feed").fetchone()
    return int(row[0]) if row else 0


def released_posts(
    store: Store, *, since: datetime, until: datetime, limit: int
) -> list[dict[str, Any]]:
    """Posts that are not the team's own, posted in ``(since, until]``, oldest first: what
    a drill shows the team as it appears."""
    cursor = store.connection.execute(
        """SELECT platform, id, created_at, author_handle, author_id, text, brands, reposted_id
           FROM posts
           WHERE created_at > $since AND created_at <= $until
             AND NOT starts_with(id, 'drill-')
           ORDER BY created_at, platform, id LIMIT $limit""",
        {"since": naive_utc(since), "until": naive_utc(until), "limit": limit},
    )
    names = [d[0] for d in cursor.description or ()]
    out = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["created_at"] = utc(item["created_at"])
        out.append(item)
    return out


def find_post(store: Store, ref: str) -> tuple[str, str] | None:
    """``(platform, id)`` of a stored post named ``platform:id`` or by its bare id."""
    platform, _, ident = ref.rpartition(":")
    rows = store.connection.execute(
        """SELECT platform, id FROM posts
           WHERE id = $id AND ($platform = '' OR platform = $platform)
           ORDER BY platform LIMIT 1""",
        {"id": ident, "platform": platform},
    ).fetchall()
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def record_response(store: Store, response: Mapping[str, Any], post: Mapping[str, Any]) -> None:
    """Keep one team response, and post it into ``posts`` as the brand's own post (so the
    inbox counts a reply as answering its mention), in one transaction."""
    row = {k: naive_utc(v) if isinstance(v, datetime) else v for k, v in response.items()}
    own = {k: naive_utc(v) if isinstance(v, datetime) else v for k, v in post.items()}
    with mapped_errors(store.path), store.transaction() as con:
        con.execute(
            """INSERT INTO drill_responses VALUES ($drill_id, $n, $kind, $drill_at, $wall_at,
                 $author, $text, $reply_to, $platform, $post_id, $findings::JSON)""",
            row,
        )
        con.execute(
            """INSERT INTO posts (platform, id, created_at, text, author_id, author_handle,
                 author_name, reply_to_id, conversation_id, brands, own_brand, source_file,
                 ingested_at)
               VALUES ($platform, $id, $created_at, $text, $author_id, $author_handle,
                 $author_name, $reply_to_id, $conversation_id, $brands, $own_brand,
                 'drill', $ingested_at)""",
            own,
        )


def next_response_number(store: Store, drill_id: str) -> int:
    row = store.connection.execute(
        "SELECT coalesce(max(n), 0) + 1 FROM drill_responses WHERE drill_id = $id",
        {"id": drill_id},
    ).fetchone()
    return int(row[0]) if row else 1


def load_responses(store: Store, drill_id: str) -> list[dict[str, Any]]:
    cursor = store.connection.execute(
        "SELECT * FROM drill_responses WHERE drill_id = $id ORDER BY n", {"id": drill_id}
    )
    names = [d[0] for d in cursor.description or ()]
    out = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["drill_at"] = utc(item["drill_at"])
        item["wall_at"] = utc(item["wall_at"])
        item["findings"] = json.loads(item["findings"]) if item["findings"] else []
        out.append(item)
    return out


def peak_minute(store: Store, *, brand: str, since: datetime, until: datetime) -> datetime | None:
    """The minute with the most customer mentions of ``brand`` in ``[since, until)``."""
    row = store.connection.execute(
        """SELECT time_bucket(INTERVAL 1 MINUTE, created_at) AS m FROM posts
           WHERE list_contains(brands, $brand) AND (own_brand IS NULL OR own_brand <> $brand)
             AND created_at >= $since AND created_at < $until
           GROUP BY m ORDER BY count(*) DESC, m LIMIT 1""",
        {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
    ).fetchone()
    return utc(row[0]) if row else None


def incident_counts(
    store: Store, *, brand: str, since: datetime, until: datetime
) -> tuple[int, int]:
    """Customer mentions of ``brand`` in ``[since, until)`` and their distinct authors."""
    row = store.connection.execute(
        """SELECT count(*), count(DISTINCT author_id) FROM posts
           WHERE list_contains(brands, $brand) AND (own_brand IS NULL OR own_brand <> $brand)
             AND created_at >= $since AND created_at < $until""",
        {"brand": brand, "since": naive_utc(since), "until": naive_utc(until)},
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def latest_mention(store: Store, *, until: datetime) -> str | None:
    """``platform:id`` of the newest customer mention of the drill's brand posted by
    ``until`` (what a scripted team's ``"reply_to": "latest"`` answers)."""
    row = store.connection.execute(
        """SELECT p.platform, p.id FROM posts p, drill_state s
           WHERE list_contains(p.brands, s.brand)
             AND (p.own_brand IS NULL OR p.own_brand <> s.brand)
             AND p.reposted_id IS NULL AND p.created_at <= $until
           ORDER BY p.created_at DESC, p.platform, p.id LIMIT 1""",
        {"until": naive_utc(until)},
    ).fetchone()
    return f"{row[0]}:{row[1]}" if row else None
