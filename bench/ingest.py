"""Ingest benchmark: simulated X API v2 posts into DuckDB, against DuckDB's own read_json.

    python bench/ingest.py                 # 200,000 posts (about a minute)
    python bench/ingest.py --posts 1000000 # the issue's size

Prints one summary line, e.g. ``ingest: 1000583 posts, 68k posts/s, 1.26x duckdb read_json
(54k posts/s), peak RSS 653 MB + 2 x 174 MB workers (duckdb 1603 MB), cpu 22 us/post (duckdb
20 us/post)``. Each side runs in its own process so that peak memory is measured apart; CPU
time per post is printed too, since wall-clock rates on a shared machine swing with the load.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def simulate(posts: int, folder: Path, seed: int) -> tuple[Path, Path, int]:
    from uproar.simulate import load_scenario, simulate

    scenario = load_scenario("isp-2014")
    # Own posts and floods do not scale, so aim by the customers' share of a full-size run.
    probe = simulate(scenario, folder / "probe.jsonl", seed=seed)
    fixed = probe.truth.get("own_posts", 0) + sum(f["posts"] for f in probe.truth["floods"])
    scale = max(posts - fixed, 1) / max(probe.posts - fixed, 1)
    result = simulate(scenario, folder / "posts.jsonl", seed=seed, scale=scale)
    return result.out, result.brands_path, result.posts


def run_uproar(
    archive: Path, brands: Path, db: Path, workers: int, classify: bool
) -> dict[str, float]:
    from uproar.config import load_brands, setting
    from uproar.pipeline import ingest_enrichers
    from uproar.sources import ingest
    from uproar.store import Store

    started = time.perf_counter()
    with Store(db, memory_limit=setting("memory_limit")) as store:
        result = ingest(
            [archive],
            store,
            load_brands(brands),
            workers=workers,
            enrichers=ingest_enrichers() if classify else (),
        )
    seconds = time.perf_counter() - started  # through close: the last checkpoint counts
    return {
        "seconds": seconds,
        "stored": result.stored,
        "rss_mb": peak_rss_mb(),
        "worker_rss_mb": worker_rss_mb(),
        "cpu_seconds": cpu_seconds(),
    }


def run_duckdb(archive: Path, db: Path) -> dict[str, float]:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE pages AS SELECT * FROM read_json(?)", [str(archive)])
    con.close()
    seconds = time.perf_counter() - started  # through close, as for Uproar
    cpu = cpu_seconds()
    with duckdb.connect(str(db), read_only=True) as con:
        tweets = con.execute("SELECT sum(len(data)) FROM pages").fetchone()
    return {
        "seconds": seconds,
        "stored": float(tweets[0] if tweets else 0),
        "rss_mb": peak_rss_mb(),
        "cpu_seconds": cpu,
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (the writer; parser workers are reported apart)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the parse workers), all threads.

    On a shared machine the wall-clock rates swing with the neighbours' load; CPU time per
    post says how much work each side does whatever the load.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def worker_rss_mb() -> float:
    """The largest parser worker's peak (RUSAGE_CHILDREN keeps the biggest child's)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def phase(args: argparse.Namespace) -> None:
    if args.phase == "uproar":
        figures = run_uproar(args.archive, args.brands, args.db, args.workers, args.classify)
    else:
        figures = run_duckdb(args.archive, args.db)
    print(json.dumps(figures))


def child(*argv: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--classify", action="store_true", help="also label posts on ingest")
    parser.add_argument("--phase", choices=("uproar", "duckdb"))
    parser.add_argument("--archive", type=Path)
    parser.add_argument("--brands", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.phase:
        phase(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        archive, brands, posts = simulate(args.posts, folder, args.seed)
        sim_seconds = time.perf_counter() - started
        size_mb = archive.stat().st_size / 1e6
        ours = child("--phase", "uproar", "--archive", str(archive), "--brands", str(brands),
                     "--db", str(folder / "uproar.duckdb"), "--workers", str(args.workers),
                     *(["--classify"] if args.classify else []))  # fmt: skip
        theirs = child("--phase", "duckdb", "--archive", str(archive),
                       "--db", str(folder / "duckdb.duckdb"))  # fmt: skip
    ours_rate = ours["stored"] / ours["seconds"]
    theirs_rate = theirs["stored"] / theirs["seconds"]
    print(
        f"simulate: {posts} posts ({size_mb:.0f} MB) in {sim_seconds:.1f}s, "
        f"{posts / sim_seconds / 1e3:.0f}k posts/s"
    )
    print(
        f"ingest{'+classify' if args.classify else ''}: {int(ours['stored'])} posts, "
        f"{ours_rate / 1e3:.0f}k posts/s, {ours_rate / theirs_rate:.2f}x duckdb read_json "
        f"({theirs_rate / 1e3:.0f}k posts/s), peak RSS {ours['rss_mb']:.0f} MB "
        f"+ {args.workers} x {ours['worker_rss_mb']:.0f} MB workers "
        f"(duckdb {theirs['rss_mb']:.0f} MB), "
        f"cpu {ours['cpu_seconds'] / ours['stored'] * 1e6:.0f} us/post "
        f"(duckdb {theirs['cpu_seconds'] / theirs['stored'] * 1e6:.0f} us/post)"
    )


if __name__ == "__main__":
    main()
