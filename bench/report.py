"""Report benchmark: the post-incident report of a simulated incident over a large store.

    python bench/report.py                          # 1,000,000 posts (the issue's size)
    python bench/report.py --posts 200000 --keep /tmp/report-bench   # keep the store

Simulates the 2014 ISP scenario at the asked size, ingests it with labels and runs detection
(not timed), then times ``build_report`` + ``write_report`` for the largest incident, as
HTML and as PDF (wall-clock and CPU seconds: on a shared machine CPU time is the
steadier), beside DuckDB's own scan of the same brand's posts (the floor of any report
that reads them). Prints one summary line.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from ingest import simulate  # bench/ingest.py: the same seeded archive at any size


def prepare(folder: Path, posts: int, seed: int) -> tuple[Path, int]:
    from uproar.config import load_brands
    from uproar.detect.batch import detect_store
    from uproar.pipeline import ingest_enrichers
    from uproar.sources import ingest
    from uproar.store import Store

    db = folder / "uproar.duckdb"
    if db.exists():
        with Store(db, read_only=True) as store:
            return db, store.count_posts()
    archive, brands_path, _ = simulate(posts, folder, seed)
    brands = load_brands(brands_path)
    with Store(db) as store:
        store.save_brands(brands)
        ingest([archive], store, brands, enrichers=ingest_enrichers())
        detect_store(store, brands=brands)
        stored = store.count_posts()
    archive.unlink()
    return db, stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--keep", type=Path, help="Folder for the store, reused when it exists.")
    args = ap.parse_args()

    from uproar.report import build_report, write_report
    from uproar.store import Store
    from uproar.store.detect import load_incidents
    from uproar.times import zone

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        db, stored = prepare(folder, args.posts, args.seed)
        prepared = time.perf_counter() - t0
        with Store(db, read_only=True) as store:
            incident = max(load_incidents(store), key=lambda i: i.posts)
            t0 = time.perf_counter()
            scanned = store.connection.execute(
                """SELECT count(*), count(DISTINCT author_id), min(created_at), max(created_at)
                   FROM posts WHERE list_contains(brands, ?)""",
                [incident.brand],
            ).fetchall()
            floor = time.perf_counter() - t0
            timings, cpu = {}, {}
            for suffix in ("html", "pdf"):
                t0, c0 = time.perf_counter(), time.process_time()
                report = build_report(
                    store, incident=incident.id, tz=zone("Pacific/Auckland")
                )
                write_report(report, folder / f"report.{suffix}")
                timings[suffix] = time.perf_counter() - t0
                cpu[suffix] = time.process_time() - c0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"report: {stored} posts stored, incident {incident.id} ({incident.posts} posts), "
        f"html {timings['html']:.1f} s, pdf {timings['pdf']:.1f} s "
        f"(CPU {cpu['html']:.1f} s, {cpu['pdf']:.1f} s; load average {os.getloadavg()[0]:.0f}), "
        f"{timings['html'] / floor:.0f}x duckdb's scan of the brand's posts "
        f"({floor:.2f} s, {scanned[0][0]} posts), peak RSS {rss:.0f} MB "
        f"(store prepared in {prepared:.0f} s)"
    )


if __name__ == "__main__":
    main()
