"""``run_watch`` in one process: several listeners into one writer, back-pressure when the
writer is behind, the HTTP endpoint and Mastodon beside Jetstream, detection, status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pytest
from websockets.asyncio.server import ServerConnection, serve

from uproar.config import Brand
from uproar.store import Store
from uproar.store import watch as watch_sql
from uproar.watch.config import parse_watch
from uproar.watch.runner import HttpSource, run_watch
from uproar.watch.streams import JetstreamSource, MastodonSource

from .jetstream import Story, run_server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def stopped(task: asyncio.Task[None]) -> None:
    """Cancel a server task and wait until it has closed its sockets."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def config(**limits: Any) -> Any:
    return parse_watch(
        {"http": {}, "detect": {"every": 0.3}, "limits": {"status_every": 0.05, **limits}},
        source="watch.toml",
        base=Path("."),
        env={},
    )


class SlowEnricher:
    """Stands for a slow model: every write takes at least ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, store: Store, posts: pa.Table) -> None:
        time.sleep(self.seconds)


@pytest.mark.slow
def test_a_slow_writer_stops_the_listeners_reading(
    tmp_path: Path, brands: dict[str, Brand]
) -> None:
    """With the writer far behind a fast stream, at most ``max_pending`` records wait in
    memory; the listener stops reading (the server's sends then wait) and nothing is lost."""
    story = Story(minutes=300, per_minute=20, spike_at=1000)
    port = free_port()
    statuses: list[dict[str, Any]] = []

    async def scenario() -> dict[str, Any]:
        ready = asyncio.Event()
        server = asyncio.create_task(run_server(port, story, rate=100_000, ready=ready))
        await ready.wait()
        source = JetstreamSource(f"ws://127.0.0.1:{port}/subscribe", batch=100, wait=0.05)
        try:
            with Store(tmp_path / "slow.duckdb") as store:
                result = await run_watch(
                    config(max_pending=300),
                    store,
                    brands,
                    enrichers=[SlowEnricher(0.3)],
                    sources=[source],
                    max_seconds=4.0,
                    on_status=statuses.append,
                )
                return result.status | {"posts": store.count_posts()}
        finally:
            await stopped(server)

    final = asyncio.run(scenario())
    pending = [s["pending"] for s in statuses]
    assert max(pending) <= 300  # never more than the bound
    assert max(pending) >= 200  # and the bound was reached: the writer was the brake
    assert 0 < final["posts"] < story.total  # the stream outran it
    assert final["posts"] == final["stored"]
    status_file = json.loads((tmp_path / "slow.duckdb.watch.json").read_text())
    assert status_file["stored"] == final["stored"]
    with Store(tmp_path / "slow.duckdb") as store:
        saved = watch_sql.load_status(store)
    assert saved is not None and saved["lag_stored_s"]["count"] == final["stored"]


@pytest.mark.slow
def test_listeners_share_one_writer_and_detection_sees_them_all(
    tmp_path: Path, brands: dict[str, Brand]
) -> None:
    story = Story()  # 300 minutes with an outage at minute 240
    jet_port, masto_port, http_port = free_port(), free_port(), free_port()
    auth: list[str | None] = []
    told = threading.Event()  # the whole story is stored (the writer's status says so)
    everything = threading.Event()  # and the Mastodon and HTTP posts too

    def heard(figures: dict[str, Any]) -> None:
        if figures["stored"] >= story.total:
            told.set()
        if figures["stored"] >= story.total + 2:
            everything.set()

    async def replayed() -> None:
        """Until the story is stored: the streaming detector counts posts in time order,
        and one dated before the minute it is counting is late (not scored)."""
        while not told.is_set():
            await asyncio.sleep(0.05)

    async def mastodon(ws: ServerConnection) -> None:
        assert ws.request is not None
        auth.append(ws.request.headers.get("Authorization"))
        await replayed()  # live posts come after the story's replay
        status = {
            "id": "m1",
            "created_at": "2026-01-05T05:10:00.000Z",
            "content": "<p>@KiwiNet down here too</p>",
            "account": {"id": "a1", "acct": "kiri@mastodon.nz", "display_name": "Kiri"},
        }
        await ws.send(orjson.dumps({"event": "update", "payload": orjson.dumps(status).decode()}))
        await ws.wait_closed()

    async def scenario() -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
        ready = asyncio.Event()
        jet = asyncio.create_task(run_server(jet_port, story, rate=5_000, ready=ready))
        await ready.wait()
        sources = [
            JetstreamSource(f"ws://127.0.0.1:{jet_port}/subscribe"),
            MastodonSource(f"http://127.0.0.1:{masto_port}", token="tok", tag="kiwinet"),
            HttpSource("127.0.0.1", http_port),
        ]

        async def push() -> dict[str, Any]:
            line = orjson.dumps(
                {
                    "data": {
                        "id": "x1",
                        "text": "@KiwiNet no internet",
                        "author_id": "9",
                        "created_at": "2026-01-05T05:11:00.000Z",
                    }
                }
            )
            await replayed()
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    try:
                        reply = await client.post(
                            f"http://127.0.0.1:{http_port}/v1/posts", content=line
                        )
                        return dict(reply.json())
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
            raise AssertionError("the endpoint never answered")

        try:
            async with serve(mastodon, "127.0.0.1", masto_port):
                with Store(tmp_path / "all.duckdb") as store:
                    # until everything is stored, however long a busy machine takes
                    stop = asyncio.Event()
                    watching = asyncio.create_task(
                        run_watch(
                            config(),
                            store,
                            brands,
                            sources=sources,
                            stop=stop,
                            max_seconds=300.0,
                            on_status=heard,
                        )
                    )
                    pushed = await push()
                    while not everything.is_set() and not watching.done():
                        await asyncio.sleep(0.05)
                    stop.set()  # the watch's last detection pass sees them all
                    result = await watching
                    assert pushed["stored"] == 1
                    incidents = store.connection.execute(
                        'SELECT id, brand, "end" IS NOT NULL FROM incidents'
                    ).fetchall()
                    platforms = store.connection.execute(
                        "SELECT platform, count(*) FROM posts GROUP BY ALL ORDER BY 1"
                    ).fetchall()
                    return result.status | {"platforms": platforms}, incidents
        finally:
            await stopped(jet)

    status, incidents = asyncio.run(scenario())
    assert status["platforms"] == [("bluesky", story.total), ("mastodon", 1), ("x", 1)]
    assert status["stored"] == story.total + 2
    assert auth == ["Bearer tok"]
    assert incidents == [("kiwinet-20260105T0400", "kiwinet", True)]
    assert status["lag_stored_s"]["count"] == story.total + 2
    assert status["lag_detected_s"]["count"] == story.total + 2
    # a sane figure, not a speed test (bench/watch.py is): seconds here, tens of seconds
    # on a starved machine while the parse workers start
    assert 0 < status["lag_stored_s"]["p99"] < 60.0
    names = [s["name"] for s in status["sources"]]
    assert names == [
        f"ws://127.0.0.1:{jet_port}/subscribe",
        f"ws://127.0.0.1:{masto_port}/api/v1/streaming",
    ]


@pytest.mark.slow
def test_an_oversized_jetstream_message_is_quarantined_and_the_connection_kept(
    tmp_path: Path, brands: dict[str, Brand]
) -> None:
    """A message over 8 MB used to close the connection (1009) and reconnect onto it
    (``sources/websocket.py``); in ``watch`` as in ``listen``, it is quarantined instead."""
    base_us = 1_725_000_000_000_000

    def event(n: int, text: str = "@KiwiNet down") -> bytes:
        return orjson.dumps(
            {
                "did": f"did:plc:u{n}",
                "time_us": base_us + n,
                "kind": "commit",
                "commit": {
                    "operation": "create",
                    "collection": "app.bsky.feed.post",
                    "rkey": f"k{n}",
                    "record": {"text": text, "createdAt": "2024-09-06T09:00:00.000Z"},
                },
            }
        )

    events = [event(n) for n in range(4)]
    events[2] = event(2, "x" * (9 << 20))
    connections = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        for raw in events:
            await ws.send(raw, text=True)
        await ws.wait_closed()

    async def scenario() -> str:
        async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
            port = server.sockets[0].getsockname()[1]
            url = f"ws://127.0.0.1:{port}/subscribe"
            source = JetstreamSource(url, batch=10, wait=0.05)
            with Store(tmp_path / "w.duckdb") as store:
                await run_watch(config(), store, brands, sources=[source], max_seconds=3.0)
            return url

    url = asyncio.run(scenario())
    assert connections == 1
    with Store(tmp_path / "w.duckdb") as store:
        assert store.count_posts() == 3
        rows = store.connection.execute(
            "SELECT source_file, line, kind, reason, content FROM quarantine"
        )
        ((piece, line, kind, reason, content),) = rows.fetchall()
        assert piece.startswith(f"{url}#") and line >= 1  # its place in its piece
        assert kind == "bad value" and "over the 8 MiB message limit" in reason
        assert content == events[2][:4096]
        assert store.load_cursor(url) == base_us + 3  # past it
