"""Simulator benchmark: generate the isp-2014 scenario at a scale, against reading it back.

    python bench/simulate.py                   # about 200,000 posts (well under a minute)
    python bench/simulate.py --posts 1000000   # the ingest benchmark's size
    python bench/simulate.py --gzip            # write .jsonl.gz (compression on a thread)

Prints one summary line, e.g.
``simulate: 1000000 posts, 58k posts/s (61k per CPU-second), 49 MB/s, 1.90x the speed
of duckdb read_json reading it back (31k posts/s), peak RSS 240 MB``. CPU seconds are
the process's own (the compression thread included), so they stay meaningful on a busy
machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000, help="posts to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true", help="write gzip-compressed JSONL")
    args = parser.parse_args()

    import duckdb

    from uproar.simulate import load_scenario, simulate

    scenario = load_scenario("isp-2014")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Own posts and floods are not scaled, so probe at full size to find the factor.
        probe = simulate(scenario, folder / "probe.jsonl", seed=args.seed)
        fixed = probe.truth["own_posts"] + sum(f["posts"] for f in probe.truth["floods"])
        scale = max(args.posts - fixed, 1) / max(probe.posts - fixed, 1)
        out = folder / ("posts.jsonl.gz" if args.gzip else "posts.jsonl")
        wall, cpu = time.perf_counter(), time.process_time()
        result = simulate(scenario, out, seed=args.seed, scale=scale)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size_mb = out.stat().st_size / 1e6

        # Reference: DuckDB reading the same pages back (the work ingest starts with).
        con = duckdb.connect()
        ref = time.perf_counter()
        n_pages = con.execute(
            "SELECT count(*) FROM read_json(?, format='newline_delimited', "
            "maximum_object_size=67108864)",
            [str(out)],
        ).fetchone()
        ref = time.perf_counter() - ref
        assert n_pages is not None
    rate = result.posts / wall
    print(
        f"simulate: {result.posts} posts, {rate / 1000:.0f}k posts/s "
        f"({result.posts / cpu / 1000:.0f}k per CPU-second), {size_mb / wall:.0f} MB/s"
        f"{' (gzip)' if args.gzip else ''}, {ref / wall:.2f}x the speed of duckdb read_json "
        f"reading it back ({result.posts / ref / 1000:.0f}k posts/s), peak RSS {rss_mb:.0f} MB",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
