"""Listen benchmark: posts pushed to the HTTP endpoint by concurrent clients, counted.

    python bench/listen.py                       # 50,000 one-post requests, 200,000 posts in 500s
    python bench/listen.py --small 50000 --large 1000000

The endpoint runs in its own process, as ``uproar listen http`` does (the library's
``IngestApp`` under uvicorn with its limits, over a file store), and each client is its own
process: a minimal HTTP/1.1 keep-alive client holding ``--in-flight`` requests open at once.
Every request is acknowledged only after its transaction has committed, so the rate is
bounded by in-flight requests / commit time; the endpoint groups what is queued into one
transaction (group commit). Three runs:

- 1 post per request, ``--clients`` clients x ``--in-flight`` requests (target 5,000 posts/s);
- 1 post per request, one client, one request at a time: the latency-bound rate, what a
  naive client gets, and what every client got before group commit (one transaction each);
- 500 posts per request, ``--clients`` clients x 1 request each (target 25,000 posts/s),
  against ``uproar ingest`` of the same posts as one file (the archive path's rate).

After each run the endpoint is stopped with SIGTERM and the store is opened and counted:
stored == sent == sum of acknowledged, each post once. Prints figures, ratios and the
endpoint's peak RSS. Wall-clock rates on a shared machine swing with its load; the ratios
measured in one run are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BRANDS = """
[brands.kiwinet]
name = "KiwiNet"
handles = ["@KiwiNet"]
keywords = ["kiwinet broadband"]
hashtags = ["#kiwinet"]
regions = ["NZ"]

[brands.tuinet]
name = "TuiNet"
handles = ["@TuiNet"]
regions = ["NZ"]
"""
WORDS = [
    "down",
    "slow",
    "again",
    "outage",
    "modem",
    "wifi",
    "broken",
    "fine",
    "thanks",
    "why",
    "still",
    "no",
    "internet",
]


def post(i: int, rng: random.Random) -> bytes:
    text = " ".join(rng.choices(WORDS, k=rng.randint(4, 14)))
    brand = rng.choice(["@KiwiNet", "@TuiNet", "#kiwinet"])
    minute = i % (24 * 60)
    return json.dumps(
        {
            "data": {
                "id": str(10**15 + i),
                "text": f"{brand} {text}",
                "author_id": str(rng.randint(1, 50_000)),
                "created_at": f"2014-09-06T{minute // 60:02d}:{minute % 60:02d}:00.000Z",
                "lang": "en",
                "public_metrics": {"like_count": rng.randint(0, 9), "retweet_count": 0},
            }
        }
    ).encode()


def bodies(start: int, count: int, per_request: int, seed: int) -> list[bytes]:
    rng = random.Random(seed * 1_000_003 + start)
    lines = [post(i, rng) for i in range(start, start + count)]
    return [b"\n".join(lines[i : i + per_request]) for i in range(0, count, per_request)]


# -- the endpoint, in its own process ----------------------------------------------------
def serve(db: str, brands: str, port: int, report: str) -> None:
    import uvicorn

    from uproar.config import load_brands
    from uproar.sources import Ingestor
    from uproar.sources.http_endpoint import IngestApp, server_config
    from uproar.store import Store

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    class Server(uvicorn.Server):
        """Notes the CPU spent starting (imports, opening the store), which is not the
        requests'."""

        started_cpu = started_loop_cpu = 0.0

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            self.started_cpu = cpu()
            self.started_loop_cpu = time.thread_time()  # the event loop's thread

    store = Store(db)
    app = IngestApp(Ingestor(store, load_brands(brands)))
    config = server_config(app, host="127.0.0.1", port=port)
    config.log_level = "error"
    server = Server(config)
    signal.signal(signal.SIGTERM, lambda *_: None)  # uvicorn re-raises it after shutdown
    server.run()
    loop_cpu = time.thread_time() - server.started_loop_cpu
    app.close()
    store.close()
    figures = {
        "groups": app.committer.groups,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_seconds": cpu() - server.started_cpu,
        "start_cpu_seconds": server.started_cpu,
        "loop_cpu_seconds": loop_cpu,
    }
    Path(report).write_text(json.dumps(figures))


# -- a client ------------------------------------------------------------------------------
async def _client(port: int, work: list[bytes], in_flight: int) -> tuple[int, int]:
    queue = list(reversed(work))
    stored = errors = 0

    async def connection() -> None:
        nonlocal stored, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                body = queue.pop()
                writer.write(
                    b"POST /v1/posts?format=x-v2 HTTP/1.1\r\nHost: bench\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body) + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                reply = json.loads(await reader.readexactly(length))
                if head.startswith(b"HTTP/1.1 200"):
                    stored += reply["stored"]
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(in_flight)))
    return stored, errors


def client(args: tuple[int, list[bytes], int]) -> tuple[int, int]:
    return asyncio.run(_client(*args))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    folder: Path,
    name: str,
    *,
    posts: int,
    per_request: int,
    clients: int,
    in_flight: int,
    seed: int,
) -> dict[str, Any]:
    """One run against a fresh endpoint and store; returns rate, counts and memory."""
    db, report, port = folder / f"{name}.duckdb", folder / f"{name}.json", free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--phase", "serve", "--db", str(db),
         "--brands", str(folder / "brands.toml"), "--port", str(port), "--report", str(report)]
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the endpoint did not start") from None
                time.sleep(0.1)
        share = -(-posts // clients)
        work = [
            (port, bodies(c * share, min(share, posts - c * share), per_request, seed), in_flight)
            for c in range(clients)
        ]
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            started = time.perf_counter()
            results = pool.map(client, work)
            seconds = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    figures = json.loads(report.read_text())
    from uproar.store import Store

    with Store(db, read_only=True) as store:
        row = store.connection.execute("SELECT count(*), count(DISTINCT id) FROM posts").fetchone()
    assert row is not None
    acked = sum(stored for stored, _ in results)
    errors = sum(e for _, e in results)
    return {
        "posts": posts,
        "seconds": seconds,
        "rate": posts / seconds,
        "acked": acked,
        "stored": int(row[0]),
        "distinct": int(row[1]),
        "errors": errors,
        "requests": -(-posts // per_request),
        **figures,
    }


def ingest_rate(folder: Path, posts: int, seed: int) -> float:
    """``uproar ingest`` (the library call) of the same posts as one JSON Lines file."""
    from uproar.config import load_brands
    from uproar.sources import ingest
    from uproar.store import Store

    archive = folder / "posts.jsonl"
    archive.write_bytes(b"\n".join(bodies(0, posts, posts, seed)) + b"\n")
    started = time.perf_counter()
    with Store(folder / "ingest.duckdb") as store:
        result = ingest([archive], store, load_brands(folder / "brands.toml"), workers=1)
    return result.stored / (time.perf_counter() - started)


def check(name: str, r: dict[str, Any]) -> str:
    ok = r["stored"] == r["distinct"] == r["acked"] == r["posts"] and r["errors"] == 0
    if not ok:
        print(f"{name}: COUNTS DISAGREE {r}", file=sys.stderr)
    return "none lost or duplicated" if ok else "COUNTS DISAGREE"


def small_line(small: dict[str, Any], args: argparse.Namespace) -> str:
    per_request = small["cpu_seconds"] / small["requests"] * 1e6
    with_start = (small["cpu_seconds"] + small["start_cpu_seconds"]) / small["requests"] * 1e6
    loop = small["loop_cpu_seconds"] / small["requests"] * 1e6
    return (
        f"{small['posts']} posts from {args.clients} clients x "
        f"{args.in_flight} in flight, {small['rate']:,.0f} posts/s (target 5,000), "
        f"{small['posts'] / small['groups']:.0f} requests per transaction, endpoint cpu "
        f"{per_request:.0f} us/request ({loop:.0f} in the event loop, the rest writing; "
        f"{with_start:.0f} with its start-up), "
        f"peak RSS {small['rss_mb']:.0f} MB, {check('small', small)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # 50,000: at 20,000 the first seconds (connections opening, the workers warming) weighed
    # on the rate: 4,800 posts/s against 6,300-6,600 over 50,000 on the same machine
    parser.add_argument("--small", type=int, default=50_000, help="posts sent one per request")
    parser.add_argument("--large", type=int, default=200_000, help="posts sent 500 per request")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--in-flight", type=int, default=64, help="requests open per client")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only-small", action="store_true", help="only the 1-post run (for profiling)"
    )
    parser.add_argument("--phase", default="main", choices=["main", "serve"])
    parser.add_argument("--db")
    parser.add_argument("--brands")
    parser.add_argument("--port", type=int)
    parser.add_argument("--report")
    args = parser.parse_args()
    if args.phase == "serve":
        serve(args.db, args.brands, args.port, args.report)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "brands.toml").write_text(BRANDS)
        common = {"clients": args.clients, "seed": args.seed}
        small = run(folder, "small", posts=args.small, per_request=1,
                    in_flight=args.in_flight, **common)  # fmt: skip
        if args.only_small:
            print(f"listen 1 post/request: {small_line(small, args)}")
            return
        serial = run(folder, "serial", posts=min(args.small, 300), per_request=1, clients=1,
                     in_flight=1, seed=args.seed)  # fmt: skip
        large = run(folder, "large", posts=args.large, per_request=500, in_flight=1, **common)
        archive = ingest_rate(folder, args.large, args.seed)
    cores = os.cpu_count()
    print(
        f"listen 1 post/request: {small_line(small, args)}, "
        f"{small['rate'] / serial['rate']:.0f}x one client one request at a time "
        f"({serial['rate']:,.0f} posts/s)"
    )
    print(
        f"listen 500 posts/request: {large['posts']} posts from {args.clients} clients, "
        f"{large['rate']:,.0f} posts/s (target 25,000), "
        f"{large['requests'] / large['groups']:.1f} requests per transaction, "
        f"{large['rate'] / archive:.2f}x uproar ingest of the same posts as a file "
        f"({archive:,.0f} posts/s), endpoint cpu "
        f"{large['cpu_seconds'] / large['posts'] * 1e6:.0f} us/post, "
        f"peak RSS {large['rss_mb']:.0f} MB, "
        f"{check('large', large)}"
    )
    print(
        f"({cores} cores, load average {os.getloadavg()[0]:.1f}: clients and endpoint share them)"
    )


if __name__ == "__main__":
    main()
