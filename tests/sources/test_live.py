"""Live streams against real WebSocket and HTTP servers on loopback that speak each protocol."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import orjson
import pytest
import uvicorn
from websockets.asyncio.server import ServerConnection, serve

from uproar.config import Brand
from uproar.sources import Ingestor
from uproar.sources.http_endpoint import make_ingest_app
from uproar.sources.live import StreamLimits, listen_jetstream, listen_mastodon
from uproar.store import Store


def status(i: int, text: str) -> dict[str, Any]:
    return {
        "id": str(100 + i),
        "created_at": f"2014-09-06T09:{i:02d}:00.000Z",
        "content": f"<p>{text}</p>",
        "account": {"id": str(i), "username": f"u{i}", "acct": f"u{i}"},
    }


def test_mastodon_stream_with_a_dropped_connection(store: Store, brands: dict[str, Brand]) -> None:
    seen: list[tuple[str, dict[str, list[str]], str | None]] = []
    connections = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        request = ws.request
        assert request is not None
        url = urlparse(request.path)
        seen.append((url.path, parse_qs(url.query), request.headers.get("Authorization")))
        if connections == 1:  # two posts, then the connection drops
            for i in (1, 2):
                await ws.send(
                    orjson.dumps(
                        {
                            "stream": ["hashtag"],
                            "event": "update",
                            "payload": orjson.dumps(status(i, "@KiwiNet down?")).decode(),
                        }
                    ).decode()
                )
            return
        await ws.send('{"stream": ["hashtag"], "event": "delete", "payload": "101"}')
        await ws.send('{"stream": ["hashtag"], "event": "update", "payload": "{broken"}')
        await ws.send(
            orjson.dumps(
                {"event": "update", "payload": orjson.dumps(status(3, "#kiwinet slow")).decode()}
            ).decode()
        )
        await ws.wait_closed()

    async def scenario() -> dict[str, Any]:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            totals = await listen_mastodon(
                f"http://127.0.0.1:{port}",
                Ingestor(store, brands),
                token="s3cret",
                tag="#kiwinet",
                limits=StreamLimits(max_messages=5, backoff=0.01),
            )
            return totals.as_dict()

    totals = asyncio.run(scenario())
    assert totals == {
        "messages": 5,
        "stored": 3,
        "duplicates": 0,
        "quarantined": 1,
        "skipped": 1,
        "reconnects": 1,
    }
    path, query, auth = seen[0]
    assert path == "/api/v1/streaming" and query == {"stream": ["hashtag"], "tag": ["kiwinet"]}
    assert auth == "Bearer s3cret"
    assert [p.text for p in store.posts()] == ["@KiwiNet down?", "@KiwiNet down?", "#kiwinet slow"]


def jetstream_event(n: int) -> dict[str, Any]:
    return {
        "did": f"did:plc:user{n}",
        "time_us": 1_725_000_000_000_000 + n,
        "kind": "commit",
        "commit": {
            "rev": "r",
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": f"k{n}",
            "cid": "c",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": f"#kiwinet post {n}",
                "createdAt": "2024-09-06T09:00:00.000Z",
            },
        },
    }


def test_jetstream_resumes_from_the_stored_cursor(store: Store, brands: dict[str, Brand]) -> None:
    cursors: list[list[str] | None] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlparse(ws.request.path).query)
        assert query["wantedCollections"] == ["app.bsky.feed.post"]
        cursors.append(query.get("cursor"))
        start = int(query["cursor"][0]) - 1_725_000_000_000_000 + 1 if "cursor" in query else 0
        for n in range(start, start + 3):
            await ws.send(orjson.dumps(jetstream_event(n)).decode())
        await ws.wait_closed()

    async def run_once(port: int) -> dict[str, Any]:
        totals = await listen_jetstream(
            f"ws://127.0.0.1:{port}/subscribe",
            Ingestor(store, brands),
            limits=StreamLimits(max_messages=3),
        )
        return totals.as_dict()

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            return await run_once(port), await run_once(port)

    first, second = asyncio.run(scenario())
    assert first["stored"] == second["stored"] == 3
    assert cursors == [None, [str(1_725_000_000_000_000 + 2)]]
    assert store.count_posts() == 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def endpoint(tmp_path: Any, brands: dict[str, Brand]) -> Iterator[tuple[str, Store]]:
    store = Store(tmp_path / "live.duckdb")
    port = free_port()
    app = make_ingest_app(Ingestor(store, brands), token="t0ken", max_body=4096)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


def test_http_endpoint(endpoint: tuple[str, Store]) -> None:
    base, store = endpoint
    auth = {"Authorization": "Bearer t0ken"}
    lines = b"\n".join(
        [
            orjson.dumps(
                {
                    "data": {
                        "id": "1",
                        "text": "@KiwiNet down",
                        "author_id": "9",
                        "created_at": "2014-09-06T10:00:00.000Z",
                    }
                }
            ),
            b"{not json",
            orjson.dumps(
                {
                    "data": {
                        "id": "2",
                        "text": "tuinet fine",
                        "author_id": "8",
                        "created_at": "2014-09-06T10:01:00.000Z",
                    }
                }
            ),
        ]
    )
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.post("/v1/posts", content=lines).status_code == 401
        reply = client.post("/v1/posts", content=lines, headers=auth)
        assert reply.status_code == 200
        body = reply.json()
        assert (body["stored"], body["quarantined"]) == (2, 1)
        again = client.post("/v1/posts", content=lines, headers=auth).json()
        assert (again["stored"], again["duplicates"]) == (0, 2)
        too_big = client.post("/v1/posts", content=b"[" + b" " * 5000 + b"]", headers=auth)
        assert too_big.status_code == 413 and too_big.json()["ok"] is False
        odd = client.post("/v1/posts?format=nope", content=b"{}", headers=auth)
        assert odd.json() == {"ok": False, "error": odd.json()["error"], "status": 400}
        assert client.get("/health").json()["stored"] == 2
    assert [p.brands for p in store.posts()] == [("kiwinet",), ("tuinet",)]
