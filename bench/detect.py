"""Benchmark the detect stage: batch detection over a stored archive, and the streaming path.

Generates its own seeded store with SQL (no JSON): ``--posts`` mentions of ``--brands``
brands over ``--days`` days, with a few planted surges; runs ``detect_store`` and, as the
reference, DuckDB's own per-brand-minute ``GROUP BY`` over the same table; then feeds a
slice post by post through the streaming ``Monitor``.

    python bench/detect.py                       # 1,000,000 posts: well under a minute
    python bench/detect.py --posts 10000000      # the issue's size (10 M posts, 50 brands)
    python bench/detect.py --minutes-only        # without the hourly scale (on by default)
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime

from uproar.config import Brand
from uproar.detect.batch import detect_store
from uproar.detect.stream import MONITOR_COLUMNS, Monitor
from uproar.store import Store

START = datetime(2024, 3, 4, tzinfo=UTC)
TEXTS = [
    "love the new plan",
    "is the app down? cannot log in",
    "my wifi is slow again",
    "anyone else getting errors?",
    "thanks for the quick fix",
    "what time does the store close",
]


def build(store: Store, *, posts: int, brands: int, days: float, seed: int) -> None:
    """Fill ``posts`` with seeded rows: steady traffic plus surges for a few brands."""
    con = store.connection
    minutes = int(days * 1440)
    con.execute("SELECT setseed($s)", {"s": (seed % 1000) / 1000.0}).fetchall()
    surge = posts // 50  # 2% of posts land in planted 40-minute surges of 5 brands
    con.execute(
        """
        INSERT INTO posts (platform, id, created_at, text, author_id, urls, region, brands,
                           ingested_at)
        SELECT 'x', 'p' || i,
               $start::TIMESTAMP + to_microseconds(CAST(random() * $minutes * 60e6 AS BIGINT)),
               ($texts)[1 + (i % 6)],
               'u' || CAST(random() * 2000000 AS BIGINT),
               [], CASE WHEN i % 3 = 0 THEN 'AU' ELSE 'NZ' END,
               ['b' || (i % $brands)],
               $start::TIMESTAMP
        FROM range($normal) t(i)
        """,
        {
            "start": START.replace(tzinfo=None),
            "minutes": minutes,
            "texts": TEXTS,
            "brands": brands,
            "normal": posts - surge,
        },
    ).fetchall()
    con.execute(
        """
        INSERT INTO posts (platform, id, created_at, text, author_id, urls, region, brands,
                           ingested_at)
        SELECT 'x', 's' || i,
               $start::TIMESTAMP + INTERVAL 1 DAY * (1 + (i % 5) * 0.3)
                   + to_microseconds(CAST(random() * 40 * 60e6 AS BIGINT)),
               'is the app down? not working', 's' || i, [], 'NZ',
               ['b' || (i % 5)], $start::TIMESTAMP
        FROM range($surge) t(i)
        """,
        {"start": START.replace(tzinfo=None), "surge": surge},
    ).fetchall()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--brands", type=int, default=50)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--stream-posts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--minutes-only", action="store_true", help="leave the hourly scale out"
    )
    args = ap.parse_args()

    store = Store()
    t0 = time.perf_counter()
    build(store, posts=args.posts, brands=args.brands, days=args.days, seed=args.seed)
    built = time.perf_counter() - t0
    brands = {f"b{i}": Brand(id=f"b{i}", name=f"Brand {i}", keywords=(f"b{i}",),
                             peers=(f"b{(i + 1) % args.brands}",))
              for i in range(args.brands)}  # fmt: skip

    t0 = time.perf_counter()
    ref = store.connection.execute(
        """SELECT count(*) FROM (
               SELECT b, date_trunc('minute', created_at), count(*), count(DISTINCT author_id)
               FROM (SELECT unnest(brands) AS b, created_at, author_id FROM posts)
               GROUP BY ALL)"""
    ).fetchall()
    reference = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = detect_store(
        store, brands=brands, signal="fresh_complaint", save=False, hourly=not args.minutes_only
    )
    seconds = time.perf_counter() - t0

    first = store.posts_arrow(columns=MONITOR_COLUMNS, limit=args.stream_posts)
    monitor = Monitor.for_brands(brands, signal="fresh_complaint")
    t0 = time.perf_counter()
    monitor.process(first)
    stream_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"detect{' --minutes-only' if args.minutes_only else ''}: {args.posts} posts, "
        f"{args.brands} brands, {args.days:g} days, "
        f"{seconds:.1f} s, {args.posts / seconds / 1000:.0f}k posts/s, "
        f"{seconds / reference:.1f}x duckdb group-by ({reference:.2f} s, {ref[0][0]} cells), "
        f"streaming {stream_s / first.num_rows * 1e6:.0f} us/post over {first.num_rows} posts, "
        f"{len(result.incidents)} incidents, {len(result.rumours)} rumours, "
        f"build {built:.1f} s, peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
