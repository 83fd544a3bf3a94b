"""Dashboard benchmark: p50/p95 latency of the Now, Incident and Search pages over a large
store, under concurrent clients.

    python bench/serve.py                                   # 1,000,000 posts, 20 clients
    python bench/serve.py --keep /tmp/serve-bench --requests 200   # reuse a prepared store

Prepares the store as bench/report.py does (the 2014 ISP scenario simulated at the asked
size, ingested with labels, incidents detected; not timed), then runs ``uproar serve`` on it
in its own process and sends ``--requests`` requests per endpoint from ``--clients``
concurrent keep-alive connections (a minimal HTTP/1.1 client, an API token), after a
warm-up. Endpoints are taken
from the server's OpenAPI spec: ``/now`` and ``/incidents/{id}`` are measured when the app
has them (they come with the pages branch) and noted as missing otherwise. Search mixes
common queries (words, a brand, a sentiment, a topic, a later page); a word found nowhere,
which reads every post, is timed apart. The reference is the same searches called directly
on the store in one process with no HTTP (the floor any server adds to). Prints a table and
one summary line; the target is p95 under 100 ms. Beside wall times it gives the server's
CPU time per request (the server process's user + system time over the run, divided by the
requests), which the machine's other load does not inflate much.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from report import prepare  # bench/report.py: the same seeded, labelled, detected store

SEARCHES: tuple[dict[str, str], ...] = (
    {"q": "outage"},
    {"q": "internet", "brand": "kiwinet"},
    {"sentiment": "negative"},
    {"q": "down again"},
    {"q": "outage", "sentiment": "negative", "topic": "no_connection"},
    {"q": "outage", "page": "3"},
)
RARE = {"q": "zqxjv"}  # in no post: every post is read


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(
    port: int, token: str, paths: list[str], *, clients: int
) -> tuple[list[float], float]:
    """Every path once, ``clients`` keep-alive connections at a time; the latencies (ms) and
    the wall time (s). A minimal HTTP/1.1 client on raw streams: httpx spent 2.7 ms of CPU
    a request, more than the server, and on 2 cores its own saturated loop was the tail."""
    queue = list(reversed(paths))
    latencies: list[float] = []
    head_of = (
        "GET {} HTTP/1.1\r\nHost: bench\r\nAccept: text/html\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    )

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                writer.write(head_of.format(path).encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = None
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length is None:
                    raise SystemExit(f"{path}: no Content-Length in {head[:300]!r}")
                body = await reader.readexactly(length)
                latencies.append((time.perf_counter() - started) * 1000)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"{path}: {head[:60]!r} {body[:300]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(clients)))
    return latencies, time.perf_counter() - started


def direct_search(db: Path, rounds: int) -> list[float]:
    """The same searches on the store in this process, no HTTP and no cache: the floor.
    The word index is brought up to date first (untimed: once per store)."""
    from uproar.serve.search import check_query, run_search
    from uproar.store import Store, search_index

    times = []
    with Store(db) as store:
        search_index.index_posts(store)
        for i in range(rounds):
            params = SEARCHES[i % len(SEARCHES)]
            started = time.perf_counter()
            fields = {k: v for k, v in params.items() if k != "page"}
            query = check_query(store, **fields, page=int(params.get("page", "1")))
            run_search(store, query)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=400, help="Per endpoint.")
    ap.add_argument("--keep", type=Path, help="Folder for the store, reused when it exists.")
    args = ap.parse_args()

    from datetime import UTC, datetime

    from uproar.serve import accounts
    from uproar.store import Store
    from uproar.store.detect import load_incidents

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        db, stored = prepare(folder, args.posts, args.seed)
        prepared = time.perf_counter() - t0
        with Store(db) as store:
            if accounts.user(store, "bench") is None:
                accounts.add_user(store, "bench", "bench-password", role="admin",
                                  now=datetime.now(UTC))  # fmt: skip
            token = accounts.new_token(store, "bench", label="bench", now=datetime.now(UTC))
            incidents = sorted(load_incidents(store), key=lambda i: -i.posts)
        direct = direct_search(db, max(30, args.requests // 10))

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
        server = subprocess.Popen(
            [sys.executable, "-m", "uproar.cli", "serve", "--db", str(db), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(f"{url}/health")
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"uproar serve did not start: {server.stderr}") from None
                    time.sleep(0.2)
            spec = httpx.get(
                f"{url}/openapi.json", headers={"authorization": f"Bearer {token}"}, timeout=120
            )
            paths = set(spec.json()["paths"])
            endpoints: dict[str, list[str]] = {}
            notes = []
            if "/now" in paths:
                endpoints["now"] = ["/now"] * args.requests
            else:
                notes.append("/now not in this build")
            incident_path = next((p for p in sorted(paths) if p.startswith("/incidents/{")), None)
            if incident_path and incidents:
                ids = [i.id for i in incidents[:3]]
                endpoints["incident"] = [
                    incident_path.split("{")[0] + ids[i % len(ids)] for i in range(args.requests)
                ]
            else:
                notes.append("/incidents/{id} not in this build" if not incident_path
                             else "no incidents stored")  # fmt: skip
            endpoints["search"] = [
                "/search?" + urlencode(SEARCHES[i % len(SEARCHES)]) for i in range(args.requests)
            ]
            endpoints["search, word in no post"] = ["/search?" + urlencode(RARE)] * max(
                args.clients, args.requests // 10
            )
            results = {}
            for name, targets in endpoints.items():
                asyncio.run(load(port, token, targets[: args.clients], clients=args.clients))
                cpu = cpu_seconds(server.pid)
                latencies, wall = asyncio.run(load(port, token, targets, clients=args.clients))
                cpu = cpu_seconds(server.pid) - cpu
                results[name] = (latencies, wall, cpu * 1000 / len(targets))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=300)  # a loaded machine takes a while to exit Python
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=60)

    print(
        f"{'endpoint':<26}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>8}{'CPU ms/req':>12}"
    )
    for name, (latencies, wall, cpu_ms) in results.items():
        print(
            f"{name:<26}{len(latencies):>9}{statistics.median(latencies):>9.0f}"
            f"{percentile(latencies, 0.95):>9.0f}{len(latencies) / wall:>8.1f}{cpu_ms:>12.1f}"
        )
    search = results["search"][0]
    print(
        f"serve: {stored} posts, {args.clients} clients; "
        + ", ".join(
            f"{name} p50 {statistics.median(lat):.0f} ms p95 {percentile(lat, 0.95):.0f} ms"
            for name, (lat, _, _) in results.items()
        )
        + f"; search direct (1 client, no HTTP) p50 {statistics.median(direct):.0f} ms, "
        f"{statistics.median(search) / statistics.median(direct):.1f}x under load; "
        f"target p95 < 100 ms; load {os.getloadavg()[0]:.1f}"
        + (f"; skipped: {', '.join(notes)}" if notes else "")
        + f" (store prepared in {prepared:.0f} s)"
    )


if __name__ == "__main__":
    main()
