"""Watch benchmark: sustained posts/s through listener -> label -> store -> detect.

    python bench/watch.py                     # 10,000 posts/s offered for 300 s
    python bench/watch.py --seconds 30 --rate 5000

A Jetstream-style server (its own process) streams live Bluesky post events (dated now, a
fifth of them mentioning the brands, some complaining) at ``--rate`` events a second for
``--seconds``; ``uproar watch`` (its own process, as a user runs it) follows it into a file
store, labels every new post with the fast classifier, and runs the streaming detector
every 5 s. After the stream ends the watch gets up to 60 s to catch up, then SIGTERM.

Printed: events sent and stored (each once), the sustained rate (stored / time from the
first event to the last stored), event-to-stored and event-to-detected lag p50/p99 (the
watch's own histograms), the watch's peak RSS, the load average, and CPU time per stored
post: the whole watch (its parse workers included; from ``/proc``, from its connection to
the stream until it caught up, so its start-up is left out), its event loop and writer
threads, each stage (the watch's own ``cpu_s`` figures: decode, parse and brand matching,
and labelling in the parse workers; collecting, inserting and committing, and detecting on
the writer) and the stream server's. From those, the rate the CPU would allow on 2 free
cores. Then the same events through each stage alone, in this process, as CPU per post.
Wall-clock rates swing with the machine's load; CPU per post much less.

    python bench/watch.py --seconds 60 --parse-workers 0   # parse on the writer, as before
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
BRANDS = ROOT / "tests" / "fixtures" / "brands.toml"
BASE_US = 1_760_000_000_000_000
MENTIONS = ["@KiwiNet", "@TuiNet", "#weka", "kiwinet broadband", "@KiwiNetHelp"]
ANGRY = ["down again", "no internet since 6am", "outage?? nothing works", "so slow tonight"]
CALM = ["thanks for the help", "new plan looks good", "what are your hours", "fibre is in"]
OTHER = [
    "lovely morning in Wellington",
    "anyone watching the match tonight",
    "new blog post up",
    "coffee first, then emails",
    "the cat has opinions about this keyboard",
]


def event(n: int) -> bytes:
    """Event ``n``: a post dated now, by one of 200,000 authors (the same ``n``, the same
    post: a reconnection from a cursor gets the events it missed again)."""
    if n % 5 == 0:  # a fifth mention a brand, a quarter of those complain
        tail = ANGRY[n % 4] if n % 20 == 0 else CALM[n % 4]
        text = f"{MENTIONS[n // 5 % len(MENTIONS)]} {tail} {n}"
    else:
        text = f"{OTHER[n % len(OTHER)]} {n}"
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return orjson.dumps(
        {
            "did": f"did:plc:b{n % 200_000}",
            "time_us": BASE_US + n,
            "kind": "commit",
            "commit": {
                "rev": f"r{n}",
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": f"b{n}",
                "cid": f"c{n}",
                "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": at},
            },
        }
    )


async def serve(port: int, rate: float, seconds: float, report: Path) -> None:
    """Offer events at ``rate`` for ``seconds`` (from the first connection on); a
    connection with ``?cursor=`` first gets the events from there again, as Jetstream
    replays. Then write how many were offered to ``report``."""
    from urllib.parse import parse_qs, urlparse

    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve
    from websockets.exceptions import ConnectionClosed

    state = {"offered": 0, "first": 0.0, "reconnections": 0}
    start = 0.0

    async def handler(ws: ServerConnection) -> None:
        nonlocal start
        assert ws.request is not None
        query = parse_qs(urlparse(ws.request.path).query)
        n = int(query["cursor"][0]) - BASE_US if "cursor" in query else 1
        if not start:
            start, state["first"] = time.monotonic(), time.time()
            asyncio.get_running_loop().call_later(seconds, finish)
            print("connected", flush=True)
        else:
            state["reconnections"] += 1
        try:
            while True:
                elapsed = time.monotonic() - start
                state["offered"] = int(min(elapsed, seconds) * rate)
                while n <= state["offered"]:
                    await ws.send(event(n).decode())
                    n += 1
                await asyncio.sleep(0.01)
        except ConnectionClosed:
            return  # a consumer that fell behind (its keepalive timed out): it comes back

    def finish() -> None:
        cpu = time.process_time()
        report.write_text(json.dumps({"sent": int(seconds * rate), **state, "cpu_s": cpu}))

    # no server pings: a consumer that stops reading (back-pressure) is dropped only by
    # its own keepalive, as the watch configures it
    async with ws_serve(handler, "127.0.0.1", port, max_queue=None, ping_interval=None):
        print("ready", flush=True)
        await asyncio.sleep(seconds + 3600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stages(count: int) -> dict[str, float]:
    """The same kind of events through each stage alone, in this process: CPU seconds per
    post (``process_time``: DuckDB's own threads count too)."""
    from uproar.config import load_brands
    from uproar.detect.stream import Monitor
    from uproar.pipeline import ingest_enrichers
    from uproar.sources.commit import Unparsed, decode, parse_group
    from uproar.sources.ingestor import Ingestor
    from uproar.store import Store
    from uproar.store import watch as watch_sql
    from uproar.watch.enrich import MentionsOnly

    brands = load_brands(BRANDS)
    raws = [event(n) for n in range(1, count + 1)]
    out: dict[str, float] = {}
    clock = time.process_time
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "s.duckdb") as store:
        ingestor = Ingestor(store, brands, enrichers=ingest_enrichers(model="fast"))
        t = clock()
        items = [decode(n, raw) for n, raw in enumerate(raws, 1)]
        out["decode"] = (clock() - t) / count
        t = clock()
        pieces = parse_group(ingestor.live_parser, [Unparsed("bench", "bluesky", items)])
        out["parse+brands"] = (clock() - t) / count
        posts = pieces[0].chunk.posts
        enrich = posts.select(
            [c for c in posts.column_names if c in ("platform", "id", "created_at", "text",
             "author_id", "author_followers", "lang", "like_count", "repost_count",
             "reply_count", "brands", "own_brand", "urls")]
        )  # fmt: skip
        labeller = MentionsOnly(ingestor.labellers[0])  # as the watch labels
        t = clock()
        labels = labeller.label(enrich)
        out["label mentions"] = (clock() - t) / count
        t = clock()
        with store.transaction():
            store.insert_fresh_posts(posts)
            labeller.save(store, labels)
        out["insert"] = (clock() - t) / count
        monitor = Monitor.for_brands(brands)
        t = clock()
        table = watch_sql.new_posts(
            store, after=datetime(1970, 1, 1, tzinfo=UTC), through=datetime(2200, 1, 1)
        )
        monitor.process(table)
        out["detect"] = (clock() - t) / count
    return out


def start_watch(config: Path, db: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``uproar watch`` as a user runs it."""
    command = [sys.executable, "-m", "uproar.cli", "watch", "--db", str(db), "--config",
               str(config), "--json"]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes, float]:
    """SIGTERM, then its output and the CPU seconds it and its reaped children (the parse
    workers) used, from the kernel (``wait4``)."""
    process.send_signal(signal.SIGTERM)
    out: dict[str, bytes] = {}
    assert process.stdout is not None and process.stderr is not None
    readers = [
        threading.Thread(target=lambda n=n, f=f: out.__setitem__(n, f.read()))
        for n, f in (("out", process.stdout), ("err", process.stderr))
    ]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    return out["out"], out["err"], usage.ru_utime + usage.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` and its children so far (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself, or a child
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def tree_peak_mb(pid: int) -> dict[int, float]:
    """Peak resident memory (``VmHWM``, MB) of process ``pid`` and each of its children."""
    peaks: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if stat.parent.name != str(pid) and fields[1] != str(pid):
                continue
            status = (stat.parent / "status").read_text()
        except OSError:
            continue
        for row in status.splitlines():
            if row.startswith("VmHWM:"):
                peaks[int(stat.parent.name)] = int(row.split()[1]) / 1024
    return peaks


def line(stream: Any, seconds: float) -> bytes:
    """The next line of ``stream``, or b"" after ``seconds``."""
    ready, _, _ = select.select([stream], [], [], seconds)
    return bytes(stream.readline()) if ready else b""


def us(seconds: float, posts: int) -> str:
    return f"{seconds / max(posts, 1) * 1e6:,.0f}"


def cpu_lines(cpu: dict[str, Any], total: float, server: float, stored: int) -> list[str]:
    """CPU per stored post, by thread and stage, and what 2 free cores would allow."""
    lines = [
        f"CPU per post (µs): whole watch {us(total, stored)} (parse workers included), "
        f"stream server {us(server, stored)}"
    ]
    if not cpu:
        lines.append("(this watch reports no per-stage CPU: it predates cpu_s)")
        per_post = total / max(stored, 1)
        server_pp = server / max(stored, 1)
        lines.append(
            f"on 2 free cores the CPU would allow about {2 / (per_post + server_pp):,.0f} "
            f"posts/s with the server, {2 / per_post:,.0f} without; one Python thread at a "
            "time in the watch (the GIL) may hold it lower"
        )
        return lines
    writer, loop = cpu.get("writer", 0.0), cpu.get("loop", 0.0)
    stages_w = cpu.get("writer_stages", {})
    workers = cpu.get("workers", {})
    rest = writer - sum(stages_w.values())
    split = {
        **{f"workers: {k}": v for k, v in workers.items()},
        **{f"writer: {k}": v for k, v in stages_w.items()},
        "writer: insert+commit": rest,
        "event loop (receive, decode)": loop,
    }
    lines.append(
        f"threads (µs/post): event loop {us(loop, stored)}, writer {us(writer, stored)}, "
        f"parse workers {us(sum(workers.values()), stored)}"
    )
    whole = sum(split.values())
    lines.append(
        "stage split (µs/post, share of the measured): "
        + ", ".join(f"{k} {us(v, stored)} ({v / whole:.0%})" for k, v in split.items() if whole)
    )
    per_post = total / max(stored, 1)
    server_pp = server / max(stored, 1)
    # The watch's two Python threads share one interpreter lock: together at most a core.
    gil = (loop + writer) / max(stored, 1)
    bounds = {
        "all CPU, with the server": 2 / (per_post + server_pp),
        "all CPU, watch only": 2 / per_post,
        "event loop + writer on one core": 1 / gil if gil else float("inf"),
    }
    best = min(bounds["all CPU, with the server"], bounds["event loop + writer on one core"])
    lines.append(
        "on 2 free cores: "
        + ", ".join(f"{k} {v:,.0f}/s" for k, v in bounds.items())
        + f"; so about {best:,.0f} posts/s"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--rate", type=float, default=10_000.0)
    parser.add_argument("--stage-posts", type=int, default=50_000)
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="[limits] parse_workers (default: its)"
    )
    parser.add_argument("--serve", nargs=4, metavar=("PORT", "RATE", "SECONDS", "REPORT"))
    args = parser.parse_args()
    if args.serve:
        port, rate, seconds, report = args.serve
        asyncio.run(serve(int(port), float(rate), float(seconds), Path(report)))
        return
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        port = free_port()
        report = work / "sent.json"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), str(args.rate), str(args.seconds),
             str(report)],
            env=env, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        config = work / "watch.toml"
        workers = "" if args.parse_workers is None else f"parse_workers = {args.parse_workers}\n"
        config.write_text(
            f'brands = "{BRANDS}"\n[detect]\nevery = 5.0\n[limits]\nstatus_every = 5.0\n'
            f'{workers}[[bluesky]]\nurl = "ws://127.0.0.1:{port}/subscribe"\n'
        )
        db = work / "watch.duckdb"
        watch = start_watch(config, db, env)
        status_file = Path(f"{db}.watch.json")
        try:
            # the watch connects once it is ready (its parse workers started): from then
            # on its CPU is the stream's
            if line(server.stdout, 300).strip() != b"connected":
                raise SystemExit("the watch never connected to the stream")
            cpu_at_start = tree_cpu(watch.pid)
            deadline = time.monotonic() + args.seconds + 120
            while not report.exists() and time.monotonic() < deadline:
                time.sleep(1)
            sent = json.loads(report.read_text())
            load_during = os.getloadavg()
            caught_up = None
            wait_until = time.monotonic() + 60
            status: dict[str, Any] = {}
            while time.monotonic() < wait_until:
                if status_file.exists():
                    status = json.loads(status_file.read_text())
                    if status.get("stored", 0) >= sent["sent"] and status.get("pending") == 0:
                        caught_up = time.time()
                        break
                time.sleep(1)
            steady_cpu = tree_cpu(watch.pid) - cpu_at_start
            peaks = tree_peak_mb(watch.pid)
            out, err, watch_cpu = stop(watch)
            if watch.returncode != 0:
                raise SystemExit(f"watch failed: {err.decode()[-2000:]}")
            final = json.loads(out.decode().strip().splitlines()[-1] if out.strip() else "{}")
            if not final:
                raise SystemExit(f"watch printed no status: {out!r} {err.decode()[-2000:]}")
        finally:
            for p in (watch, server):
                if p.returncode is None and p.poll() is None:
                    p.kill()
                    p.wait()
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        rows = con.execute("SELECT count(*), count(DISTINCT id) FROM posts").fetchall()[0]
        con.close()
    end = caught_up or time.time()
    span = end - sent["first"]
    stored = final["stored"]
    lag_s, lag_d = final["lag_stored_s"], final["lag_detected_s"]
    print(
        f"offered {sent['sent']:,} events at {args.rate:,.0f}/s for {args.seconds:g} s; "
        f"stored {rows[0]:,} ({rows[1]:,} distinct)"
        + ("" if caught_up else "; NOT caught up 60 s after the stream ended")
        + f"; the watch reconnected {sent['reconnections']} times (its keepalive timed out"
        " while it held back; each resumed from its cursor)"
    )
    print(
        f"watch: {stored / span:,.0f} posts/s sustained ({stored / span / 10_000:.2f}x the "
        f"10,000/s target); lag to stored p50 {lag_s['p50']} s p99 {lag_s['p99']} s; "
        f"to detected p50 {lag_d['p50']} s p99 {lag_d['p99']} s; "
        f"peak RSS {final['peak_rss_mb']:.0f} MB (the watch's main process; with its "
        f"{len(peaks) - 1} children {sum(peaks.values()):.0f} MB at most); "
        f"{final['groups']:,} transactions, {final['passes']} detection passes"
    )
    start_load, end_load, after_load = load_before[0], load_during[0], os.getloadavg()[0]
    print(
        f"load average (1 min) at the start {start_load:.1f}, at the stream's end "
        f"{end_load:.1f}, after {after_load:.1f}; {os.cpu_count()} cores"
    )
    print(
        f"watch CPU: {watch_cpu:,.1f} s in all (start-up and the parse workers included), "
        f"{steady_cpu:,.1f} s from its connection to the end of the stream"
    )
    for text in cpu_lines(final.get("cpu_s", {}), steady_cpu, sent.get("cpu_s", 0.0), stored):
        print(text)
    alone = stages(args.stage_posts)
    total = sum(alone.values())
    print(
        "stages alone (CPU µs/post): "
        + ", ".join(f"{k} {v * 1e6:,.1f} ({v / total:.0%})" for k, v in alone.items())
        + f"; all in series {total * 1e6:,.1f} = {1 / total:,.0f} posts/s on one core"
    )


if __name__ == "__main__":
    main()
