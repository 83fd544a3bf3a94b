"""Ingest benchmark: simulated X API v2 posts into DuckDB, against DuckDB's own read_json.

    python bench/ingest.py                 # 200,000 posts, twarc2-style and compact
    python bench/ingest.py --posts 1000000 # the issue's size

The headline is the command users run, ``uproar ingest FILE --brands B`` (which labels every
post as it stores it), timed through the CLI in a process of its own; beside it, the same
command with ``--no-classify``. Both run on two files of the same posts: one written as
twarc2 writes (``json.dumps`` defaults: spaces after separators, ``\\u`` escapes) and one
compact (the simulator's own). Each line reads, e.g.::

    ingest twarc2 (uproar ingest, labelled): 1007499 posts, 49.6k posts/s, 1.07x duckdb
    read_json (46.4k posts/s), peak PSS 960 MB with 2 workers (RSS: writer 839 MB, a worker
    247 MB, pages shared; duckdb PSS 1396 MB), cpu 36.6 us/post (duckdb 23.0 us/post);
    unlabelled 73.3k posts/s, 1.58x, cpu 24.9 us/post; load average 0.8-1.3

Each side runs in its own process so that peak memory is measured apart (the PSS of its
process tree, sampled every 2 s); CPU time per post is printed too, since wall-clock rates
on a shared machine swing with the load.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
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


def run_uproar(archive: Path, brands: Path, db: Path, classify: bool) -> dict[str, float]:
    """``uproar ingest`` as a user runs it, in this process (the CLI's own code path)."""
    from uproar.cli.app import get_app

    argv = ["ingest", str(archive), "--db", str(db), "--brands", str(brands), "--json"]
    argv += [] if classify else ["--no-classify"]
    app = get_app(argv)  # as `uproar` does; imports done: the rest is the command's own work
    out = io.StringIO()
    started, cpu = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(out):
        app(argv, standalone_mode=False)
    seconds = time.perf_counter() - started  # through close: the last checkpoint counts
    stored = json.loads(out.getvalue().strip().splitlines()[-1])["stored"]
    return {
        "seconds": seconds,
        "stored": stored,
        "rss_mb": peak_rss_mb(),
        "worker_rss_mb": worker_rss_mb(),
        "cpu_seconds": cpu_seconds() - cpu,
    }


def run_duckdb(archive: Path, db: Path) -> dict[str, float]:
    import duckdb

    started, before = time.perf_counter(), cpu_seconds()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE pages AS SELECT * FROM read_json(?)", [str(archive)])
    con.close()
    seconds = time.perf_counter() - started  # through close, as for Uproar
    cpu = cpu_seconds() - before
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
        figures = run_uproar(args.archive, args.brands, args.db, args.classify)
    else:
        figures = run_duckdb(args.archive, args.db)
    print(json.dumps(figures))


def child(*argv: str) -> dict[str, float]:
    """Run one side in a process of its own; add the peak memory of its process tree.

    The parse workers are forked from the ingesting process and share its pages, so their
    RSS counts those pages again: the tree's proportional set size (PSS, each shared page
    split between the processes that map it) is what it takes from the machine. Reading it
    stalls the process read, so it is sampled every ``PSS_EVERY_S`` seconds only.
    """
    with subprocess.Popen(
        [sys.executable, __file__, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_pss_kb(process.pid))
            time.sleep(PSS_EVERY_S)
        out, err = process.communicate()
    if process.returncode:
        raise SystemExit(err.decode())
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    figures["pss_mb"] = peak / 1024
    return figures


PSS_EVERY_S = 2.0


def tree_pss_kb(pid: int) -> int:
    """PSS in kB of a process and its descendants (Linux ``/proc``; 0 where unreadable)."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    except OSError:
        return total
    return total + sum(tree_pss_kb(int(kid)) for kid in children)


def twarc_style(compact: Path, out: Path) -> Path:
    """The same records as twarc2 writes them: ``json.dumps`` with its defaults."""
    with compact.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            dst.write(json.dumps(json.loads(line)) + "\n")
    return out


def measure(archive: Path, brands: Path, folder: Path) -> dict[str, dict[str, float]]:
    runs: dict[str, dict[str, float]] = {}
    for name, extra in (("labelled", ["--classify"]), ("unlabelled", [])):
        db = folder / f"uproar-{name}.duckdb"
        runs[name] = child("--phase", "uproar", "--archive", str(archive), "--brands",
                           str(brands), "--db", str(db), *extra)  # fmt: skip
        db.unlink()
    db = folder / "duckdb.duckdb"
    runs["duckdb"] = child("--phase", "duckdb", "--archive", str(archive), "--db", str(db))
    db.unlink()
    return runs


def line(style: str, runs: dict[str, dict[str, float]], workers: int) -> str:
    def rate(run: dict[str, float]) -> float:
        return run["stored"] / run["seconds"]

    def cpu(run: dict[str, float]) -> float:
        return run["cpu_seconds"] / run["stored"] * 1e6

    ours, bare, theirs = runs["labelled"], runs["unlabelled"], runs["duckdb"]
    return (
        f"ingest {style} (uproar ingest, labelled): {int(ours['stored'])} posts, "
        f"{rate(ours) / 1e3:.1f}k posts/s, {rate(ours) / rate(theirs):.2f}x duckdb read_json "
        f"({rate(theirs) / 1e3:.1f}k posts/s), peak PSS {ours['pss_mb']:.0f} MB with "
        f"{workers} workers (RSS: writer {ours['rss_mb']:.0f} MB, a worker "
        f"{ours['worker_rss_mb']:.0f} MB, pages shared; duckdb PSS {theirs['pss_mb']:.0f} MB), "
        f"cpu {cpu(ours):.1f} us/post (duckdb {cpu(theirs):.1f} us/post); unlabelled "
        f"{rate(bare) / 1e3:.1f}k posts/s, {rate(bare) / rate(theirs):.2f}x, "
        f"cpu {cpu(bare):.1f} us/post"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--style", choices=("twarc2", "compact", "both"), default="both")
    parser.add_argument("--classify", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=("uproar", "duckdb"))
    parser.add_argument("--archive", type=Path)
    parser.add_argument("--brands", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.phase:
        phase(args)
        return
    from uproar.sources.ingestor import Ingestor
    from uproar.store import Store

    with Store(":memory:") as store:
        workers = Ingestor(store, {}).workers  # what the command uses on this machine
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        compact, brands, posts = simulate(args.posts, folder, args.seed)
        sim_seconds = time.perf_counter() - started
        print(
            f"simulate: {posts} posts ({compact.stat().st_size / 1e6:.0f} MB) in "
            f"{sim_seconds:.1f}s, {posts / sim_seconds / 1e3:.0f}k posts/s",
            flush=True,
        )
        styles = ("twarc2", "compact") if args.style == "both" else (args.style,)
        for style in styles:
            archive = compact
            if style == "twarc2":
                archive = twarc_style(compact, folder / "twarc2.jsonl")
            load = os.getloadavg()[0]
            runs = measure(archive, brands, folder)
            # The machine may be shared: the load says how far to trust the wall-clock rates
            # (the ratios, measured in the same minutes, and CPU per post are steadier).
            print(
                f"{line(style, runs, workers)}; load average {load:.1f}-{os.getloadavg()[0]:.1f}",
                flush=True,
            )
            if archive != compact:
                archive.unlink()


if __name__ == "__main__":
    main()
