"""Alerts benchmark: what ``Alerter.observe`` costs the watch per pass, how fast alerts go
out, and what neutralising does to real post text.

    python bench/alerts.py                    # 500 incidents, 3 channels
    python bench/alerts.py --incidents 2000

1. A pass with nothing new (the common case: the watch calls ``observe`` after every
   detection pass) over ``--incidents`` open incidents, against the bare ``load_incidents``
   query over the same incidents: the ratio is what alerting adds to a pass.
2. Every incident opening at once to ``--channels`` webhook channels on loopback (a real
   HTTP server): alerts recorded and delivered per second, end to end through Apprise.
3. ``neutralise`` over the real customer messages of TWCS (``../shared/data/twcs``): how
   many held a live mention or link, how many still do after (must be 0), and µs per text.

Prints one summary line per part. Wall-clock figures on the shared machine swing with its
load; the ratio measured in one run is what counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from uproar.alerts import Alerter, neutralise, parse_alerts
from uproar.records import Incident
from uproar.store import Store
from uproar.store.detect import load_incidents, save_incidents

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
TWCS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "twcs" / "twcs_head.csv"


def incidents(n: int, severity: str = "medium") -> list[Incident]:
    return [
        Incident(
            id=f"inc-{i}",
            brand=f"brand{i % 40}",
            start=T0 + timedelta(minutes=i),
            detected_at=T0 + timedelta(minutes=i),
            peak=T0 + timedelta(minutes=i),
            end=None,
            severity=severity,
            scope="brand",
            posts=50,
            authors=40,
            topics=("outage",),
        )
        for i in range(n)
    ]


def receiver() -> tuple[ThreadingHTTPServer, list[int]]:
    got: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append(len(json.loads(body)["message"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, got


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--channels", type=int, default=3)
    args = parser.parse_args()
    server, got = receiver()
    port = server.server_address[1]
    config = parse_alerts(
        {
            "alerts": {
                "min_interval_minutes": 0,
                "channels": [
                    {"name": f"hook{c}", "url": f"json://127.0.0.1:{port}/c{c}"}
                    for c in range(args.channels)
                ],
            }
        },
        source="bench",
    )
    many = incidents(args.incidents)
    with Store(":memory:") as store:
        save_incidents(store, many)
        alerter = Alerter(config, store)
        start = time.perf_counter()
        alerter.observe(many, T0)  # every incident opens: one alert per channel each
        while alerter.flush(T0, timeout=120):
            pass
        spent = time.perf_counter() - start
        counts = alerter.counts()
        alerts = sum(counts.values())
        # the rows went as summaries of up to 20 alerts (one message in flight per channel)
        print(
            f"alerts: {alerts} alerts ({args.incidents} incidents x {args.channels} channels) "
            f"recorded and delivered in {spent:.2f} s, {alerts / spent:,.0f} alerts/s, "
            f"{len(got)} webhook messages, statuses {counts}"
        )
        quiet = best_of(5, lambda: alerter.observe(many, T0 + timedelta(minutes=1)))
        bare = best_of(5, lambda: load_incidents(store, open_only=True))
        print(
            f"alerts: a pass with nothing new over {args.incidents} open incidents "
            f"{quiet * 1000:.1f} ms, {quiet / bare:.2f}x the bare load_incidents query "
            f"({bare * 1000:.1f} ms)"
        )
        alerter.close(T0 + timedelta(minutes=1))
    server.shutdown()
    server.server_close()
    if not TWCS.exists():
        print(f"alerts: {TWCS} not found; neutralise figures skipped")
        return
    with TWCS.open(newline="", encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f) if r["inbound"] == "True"]
    live_mention = re.compile(r"@\w")
    live_link = re.compile(r"(?i)https?://")
    before = sum(bool(live_mention.search(t) or live_link.search(t)) for t in texts)
    start = time.perf_counter()
    cleaned = [neutralise(t) for t in texts]
    per_text = (time.perf_counter() - start) / len(texts) * 1e6
    after = sum(bool(live_mention.search(t) or live_link.search(t) or "<" in t) for t in cleaned)
    unchanged = sum(a == " ".join(b.split()) for a, b in zip(cleaned, texts, strict=True))
    print(
        f"alerts: neutralise on {len(texts)} real TWCS customer messages: {before} held a "
        f"live mention or link, {after} after; {unchanged} read unchanged; "
        f"{per_text:.1f} µs/text"
    )


if __name__ == "__main__":
    main()
