"""The live feed: what counts as a change, one read per interval whatever the watchers,
bounded queues that keep the newest summary, and the server-sent event text."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from uproar.errors import StoreLockedError
from uproar.serve.live import LiveFeed, changes, event_stream
from uproar.store.pages import Pulse

T = datetime(2014, 9, 5, 8, tzinfo=UTC)


def pulse(posts: int, *incidents: tuple[str, str, str, datetime | None, int]) -> Pulse:
    return Pulse(posts=posts, last_post=T, incidents=tuple(incidents))


def test_changes_names_what_moved() -> None:
    quiet = pulse(10)
    assert changes(quiet, quiet) is None
    opened = pulse(15, ("inc-1", "high", "brand", None, 40))
    event = changes(quiet, opened)
    assert event is not None
    assert (event["new_posts"], event["opened"], event["open"]) == (5, ["inc-1"], ["inc-1"])
    wider = pulse(15, ("inc-1", "high", "industry", None, 40))
    assert changes(opened, wider) == {**event, "new_posts": 0, "opened": [], "changed": ["inc-1"]}
    closed = changes(wider, pulse(15, ("inc-1", "high", "industry", T, 40)))
    assert closed is not None and closed["closed"] == ["inc-1"] and closed["open"] == []


def test_one_read_per_interval_and_bounded_queues() -> None:
    reads: list[int] = []

    def read() -> Pulse:
        reads.append(1)
        return pulse(len(reads))  # every read is a change

    async def scenario() -> tuple[int, int, int]:
        feed = LiveFeed(read, interval=0.01, queue_size=3)
        fast, slow = feed.subscribe(), feed.subscribe()
        got = 0
        while len(reads) < 20:
            while not fast.empty():
                fast.get_nowait()
                got += 1
            await asyncio.sleep(0.005)
        feed.unsubscribe(fast)
        feed.unsubscribe(slow)
        await feed.close()
        newest = [slow.get_nowait()["posts"] for _ in range(slow.qsize())]
        return got, len(newest), newest[-1] - len(reads)

    got, kept, lag = asyncio.run(scenario())
    assert got >= 15  # the fast watcher saw (nearly) every change
    assert kept == 3  # the slow one holds only the newest three
    assert lag >= -2  # ... and they are the latest


def test_a_busy_store_is_a_problem_event_not_the_end() -> None:
    calls: list[int] = []

    def read() -> Pulse:
        calls.append(1)
        if len(calls) == 2:
            raise StoreLockedError("uproar.duckdb: the store is in use", file="uproar.duckdb")
        return pulse(len(calls))

    async def scenario() -> list[str]:
        feed = LiveFeed(read, interval=0.01)
        out: list[str] = []

        async def connected() -> bool:
            return len(out) >= 4

        async for chunk in event_stream(feed, connected, heartbeat=0.05):
            out.append(chunk)
            if len(out) >= 4:
                break
        await feed.close()
        return out

    chunks = asyncio.run(scenario())
    assert chunks[0].startswith("retry: 3000")
    kinds = [c.split("\n")[0] for c in chunks[1:]]
    assert "event: problem" in kinds and "event: change" in kinds
    change = next(c for c in chunks if c.startswith("event: change"))
    assert json.loads(change.split("data: ", 1)[1])["posts"] >= 3
