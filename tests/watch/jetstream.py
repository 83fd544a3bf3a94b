"""A Jetstream-style server for watch tests and the watch benchmark: a deterministic,
numbered sequence of Bluesky post events, sent at a steady rate, with cursor support.

Event ``n`` (1-based) has ``time_us = BASE_US + n`` and rkey ``e<n>``: a test can say which
events exist and check each is stored exactly once. A connection with ``?cursor=C``
starts at the first event with ``time_us >= C`` (Jetstream replays from the cursor, so the
event at it comes again and the store must take it once).

The posts tell a story the detector can see: ``minutes`` of simulated time (from
``START``), ``per_minute`` mentions of @KiwiNet from new authors, a few of them complaints,
and from ``spike_at`` for ``spike_for`` minutes ``spike`` extra complaints a minute.

    python tests/watch/jetstream.py --port 8765 --rate 500 --minutes 300   # a server
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import orjson
from websockets.asyncio.server import ServerConnection, serve

BASE_US = 1_750_000_000_000_000
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
QUIET = ["thanks @KiwiNet, all good", "@KiwiNet what are your hours", "@KiwiNet new plan looks ok"]
ANGRY = ["@KiwiNet internet down again, so frustrated", "@KiwiNet outage, nothing works"]


@dataclass(frozen=True, slots=True)
class Story:
    minutes: int = 300
    per_minute: int = 10
    complaints: int = 1  # of per_minute, each minute
    spike_at: int = 240
    spike_for: int = 8
    spike: int = 40

    def counts(self) -> Iterator[tuple[int, int, int]]:
        """(minute, posts, complaints among them) for each simulated minute."""
        for minute in range(self.minutes):
            extra = self.spike if self.spike_at <= minute < self.spike_at + self.spike_for else 0
            yield minute, self.per_minute + extra, self.complaints + extra

    @property
    def total(self) -> int:
        return sum(posts for _, posts, _ in self.counts())


def events(story: Story) -> Iterator[bytes]:
    """Every event of the story, numbered from 1, as the bytes Jetstream sends."""
    n = 0
    for minute, posts, angry in story.counts():
        for k in range(posts):
            n += 1
            at = START + timedelta(minutes=minute, seconds=k * 60 / posts)
            text = ANGRY[n % len(ANGRY)] if k < angry else QUIET[n % len(QUIET)]
            yield orjson.dumps(
                {
                    "did": f"did:plc:author{n}",
                    "time_us": BASE_US + n,
                    "kind": "commit",
                    "commit": {
                        "rev": f"r{n}",
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": f"e{n}",
                        "cid": f"c{n}",
                        "record": {
                            "$type": "app.bsky.feed.post",
                            "text": f"{text} #{n}",
                            "createdAt": at.isoformat().replace("+00:00", "Z"),
                            "langs": ["en"],
                        },
                    },
                }
            )


def post_id(n: int) -> str:
    return f"at://did:plc:author{n}/app.bsky.feed.post/e{n}"


async def run_server(
    port: int, story: Story, rate: float, *, ready: asyncio.Event | None = None
) -> None:
    """Serve ``story`` at ``rate`` events a second on each connection, then stay open."""
    sequence = list(events(story))

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlparse(ws.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else BASE_US + 1
        first = max(1, cursor - BASE_US)
        started = time.monotonic()
        for sent, n in enumerate(range(first, len(sequence) + 1), 1):
            await ws.send(sequence[n - 1].decode())
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", port, max_queue=None):
        if ready is not None:
            ready.set()
        await asyncio.Future()  # until cancelled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--minutes", type=int, default=300)
    parser.add_argument("--per-minute", type=int, default=10)
    args = parser.parse_args()
    story = Story(minutes=args.minutes, per_minute=args.per_minute)
    print(f"serving {story.total} events", flush=True)
    asyncio.run(run_server(args.port, story, args.rate))


if __name__ == "__main__":
    main()
