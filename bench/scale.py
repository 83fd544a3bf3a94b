"""Scale-out benchmark: the same simulated archive through the embedded path and through
Spark in local mode, stage by stage (ingest with labels, then detect), with ratios.

    python bench/scale.py                         # the issue's size: 10,000,000 posts
    python bench/scale.py --posts 200000          # what a shared laptop runs in minutes
    python bench/scale.py --posts 200000 --masters local[1],local[2],local[4]

The archive comes from the simulator (isp-2014, scaled to --posts), about 860 bytes a
post as JSON Lines: check the free disk (10 M posts: about 9 GB of input, plus two stores of
about half that). Each run ingests into a fresh DuckDB store (the embedded path with its two
parse workers, Spark through the same write path) and then detects over it; Spark's session
start (the JVM, once per command) is printed apart from the stages. Lines read, e.g.::

    scale: 200000 posts; ingest: embedded 41.0 s; spark local[2] 52.3 s (0.78x), ...
    scale: detect: embedded 9.1 s; spark local[2] 30.2 s (0.30x) ...; session start 6.1 s

Ratios are embedded seconds over Spark seconds (above 1: Spark is faster); the embedded
path runs again after Spark, and that second time is printed too, as a measure of how
much the machine's load moved meanwhile. The first session starts the JVM; later ones in
the same process reuse it (a new SparkContext only). The stream backbone's throughput per
group member comes from bench/bus.py when that file is present.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 1, 1)


def simulate(posts: int, folder: Path, seed: int) -> tuple[Path, Path, int]:
    """An isp-2014 archive of about ``posts`` posts (as bench/ingest.py aims it)."""
    from uproar.simulate import load_scenario, simulate

    scenario = load_scenario("isp-2014")
    probe = simulate(scenario, folder / "probe.jsonl", seed=seed)
    fixed = probe.truth.get("own_posts", 0) + sum(f["posts"] for f in probe.truth["floods"])
    scale = max(posts - fixed, 1) / max(probe.posts - fixed, 1)
    result = simulate(scenario, folder / "posts.jsonl", seed=seed, scale=scale)
    return result.out, result.brands_path, result.posts


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def embedded(archive: Path, brands: dict[str, Any], db: Path) -> dict[str, float]:
    from uproar.detect.batch import detect_store
    from uproar.pipeline import ingest_enrichers
    from uproar.sources import Ingestor
    from uproar.store import Store

    with Store(db) as store:
        ingestor = Ingestor(store, brands, enrichers=ingest_enrichers(), now=NOW)
        ingest_s, result = timed(lambda: ingestor.ingest([archive]))
        detect_s, found = timed(lambda: detect_store(store, brands=brands))
    return {"ingest": ingest_s, "detect": detect_s, "stored": result.stored,
            "incidents": len(found.incidents)}  # fmt: skip


def on_spark(archive: Path, brands: dict[str, Any], db: Path, master: str) -> dict[str, float]:
    from uproar.pipeline import ingest_enrichers
    from uproar.sources import Ingestor
    from uproar.spark import spark_session
    from uproar.spark.detect import spark_detect
    from uproar.spark.ingest import spark_ingest
    from uproar.store import Store

    started = time.perf_counter()
    with spark_session(master) as spark, Store(db) as store:
        start_s = time.perf_counter() - started
        cores = int(spark.sparkContext.defaultParallelism)
        if spark.sparkContext.master != master:  # a session left over, not the one asked for
            raise SystemExit(f"asked for {master}, got {spark.sparkContext.master}")
        ingestor = Ingestor(store, brands, enrichers=ingest_enrichers(), now=NOW)
        staging = db.parent
        ingest_s, result = timed(lambda: spark_ingest(spark, ingestor, [archive], staging=staging))
        detect_s, found = timed(lambda: spark_detect(spark, store, brands=brands, staging=staging))
    return {"start": start_s, "ingest": ingest_s, "detect": detect_s, "stored": result.stored,
            "incidents": len(found.incidents), "cores": cores}  # fmt: skip


def bus_line(scale: float) -> str:
    """The stream backbone's figures, from bench/bus.py's ``measure`` when it is there: its
    own eight-brand stream at ``scale`` (a member's rate does not depend on the archive's
    size, and the whole archive through the bus would take hours on 2 cores)."""
    path = HERE / "bus.py"
    if not path.exists():
        return "bus: not available (no bench/bus.py in this checkout)"
    spec = importlib.util.spec_from_file_location("bench_bus", path)
    if spec is None or spec.loader is None:
        return "bus: not available (bench/bus.py cannot be loaded)"
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:  # its broker client is not installed here
        return f"bus: not available ({exc})"
    measure = getattr(module, "measure", None)
    if measure is None:
        return "bus: not available (bench/bus.py has no measure())"
    figures = measure(scale=scale)
    runs = "; ".join(
        f"{run['members']} member(s): group {run['group_posts_per_s']:,} posts/s, "
        f"per member {run['member_posts_per_s']}"
        for run in figures["runs"]
    )
    embedded = figures["embedded"]["posts_per_s"]
    return (f"bus ({figures['backbone']}, {figures['posts']:,} posts, {figures['partitions']} "
            f"partitions): publish {figures['publish_posts_per_s']:,} posts/s; {runs}; "
            f"embedded ingest of the same stream {embedded:,} posts/s")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--masters", default="local[1],local[2],local[4]")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--folder", type=Path, default=None, help="Work here (default: tmp).")
    parser.add_argument("--no-bus", action="store_true", help="Skip bench/bus.py.")
    parser.add_argument("--bus-scale", type=float, default=0.5, help="bench/bus.py's --scale.")
    parser.add_argument(
        "--no-again", action="store_true", help="Skip the embedded re-run after Spark."
    )
    args = parser.parse_args(argv)

    from uproar.config import load_brands
    from uproar.spark import spark_missing

    folder = Path(tempfile.mkdtemp(prefix="uproar-scale-", dir=args.folder))
    try:
        sim_s, (archive, brands_path, posts) = timed(
            lambda: simulate(args.posts, folder, args.seed)
        )
        size = archive.stat().st_size
        print(f"scale: simulated {posts} posts ({size / 1e9:.2f} GB) in {sim_s:.0f} s", flush=True)
        brands = load_brands(brands_path)
        base = embedded(archive, brands, folder / "embedded.duckdb")
        print(f"scale: embedded ingest {base['ingest']:.1f} s, detect {base['detect']:.1f} s, "
              f"{base['incidents']} incidents", flush=True)  # fmt: skip
        runs: dict[str, dict[str, float]] = {}
        why = spark_missing()
        for master in args.masters.split(",") if why is None else []:
            db = folder / f"spark-{len(runs)}.duckdb"
            runs[master] = on_spark(archive, brands, db, master)
            db.unlink()
            r = runs[master]
            assert r["stored"] == base["stored"] and r["incidents"] == base["incidents"], r
            print(
                f"scale: spark {master} ({r['cores']} cores): start {r['start']:.1f} s, "
                f"ingest {r['ingest']:.1f} s, detect {r['detect']:.1f} s",
                flush=True,
            )
        (folder / "embedded.duckdb").unlink()
        rerun = runs and not args.no_again
        again = embedded(archive, brands, folder / "embedded-again.duckdb") if rerun else base
        for stage in ("ingest", "detect"):
            cells = [f"embedded {base[stage]:.1f} s"] + [
                f"spark {m} {r[stage]:.1f} s ({base[stage] / r[stage]:.2f}x)"
                for m, r in runs.items()
            ]
            if again is not base:
                cells.append(f"embedded again {again[stage]:.1f} s")
            print(f"scale: {posts} posts; {stage}: " + ", ".join(cells))
        if why is not None:
            print(f"scale: spark not available ({why})")
        else:
            starts = ", ".join(f"{m} {r['start']:.1f} s" for m, r in runs.items())
            print(f"scale: spark session start (not in the stage times): {starts}")
        if not args.no_bus:
            print(bus_line(args.bus_scale), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
