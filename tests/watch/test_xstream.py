"""The X filtered stream against a local server that answers as X documents: 429 with
``x-rate-limit-reset``, 5xx, keep-alive newlines, in-stream error notices, drops."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest

from uproar.config import Brand
from uproar.errors import InputError
from uproar.store import Store
from uproar.watch.config import parse_watch
from uproar.watch.runner import WatchRun, run_watch
from uproar.watch.xstream import Backoff, XStreamSource

from .servers import Answer, XServer, serve_x


def tweet(n: int, text: str = "@KiwiNet down again") -> bytes:
    return orjson.dumps(
        {
            "data": {
                "id": str(1000 + n),
                "text": f"{text} {n}",
                "author_id": f"u{n}",
                "created_at": f"2026-01-05T10:0{n}:00.000Z",
                "edit_history_tweet_ids": [str(1000 + n)],
                "lang": "en",
            },
            "includes": {"users": [{"id": f"u{n}", "username": f"user{n}", "name": f"User {n}"}]},
            "matching_rules": [{"id": "1", "tag": "kiwinet"}],
        }
    )


NOTICE = orjson.dumps(
    {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }
)


def run(
    store: Store, brands: dict[str, Brand], answers: list[Answer], source_options: dict[str, Any]
) -> tuple[XServer, XStreamSource, WatchRun]:
    server = XServer(answers)
    config = parse_watch(
        {"http": {}, "detect": {"every": 0.5}}, source="watch.toml", base=Path("."), env={}
    )

    async def scenario() -> tuple[XStreamSource, WatchRun]:
        ready = asyncio.Event()
        serving = asyncio.create_task(serve_x(server, ready))
        await ready.wait()
        source = XStreamSource(
            f"http://127.0.0.1:{server.port}/2/tweets/search/stream",
            token="s3cret-token",
            **source_options,
        )
        try:
            result = await run_watch(config, store, brands, sources=[source], max_seconds=5.0)
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        return source, result

    source, result = asyncio.run(scenario())
    return server, source, result


def test_reconnects_by_xs_rules_and_stores_each_post_once(brands: dict[str, Brand]) -> None:
    reset = int(time.time()) + 2  # X gives whole epoch seconds
    answers = [
        Answer(
            429,
            headers=(
                ("x-rate-limit-limit", "50"),
                ("x-rate-limit-remaining", "0"),
                ("x-rate-limit-reset", str(reset)),
            ),
            body=b'{"title":"Too Many Requests","detail":"Too Many Requests","status":429}',
        ),
        Answer(503, body=b'{"title":"Service Unavailable","status":503}'),
        Answer(lines=(tweet(1), b"", NOTICE, tweet(2), b"not json {", b"")),  # then a drop
        Answer(lines=(tweet(3), tweet(2)), hold=True),
    ]
    backoff = Backoff(rate_first=0.1, http_first=0.1, network_step=0.05)
    with Store(":memory:") as store:
        server, source, result = run(store, brands, answers, {"backoff": backoff})
        ids = [
            r[0] for r in store.connection.execute("SELECT id FROM posts ORDER BY id").fetchall()
        ]
        assert ids == ["1001", "1002", "1003"]
        quarantined = store.connection.execute("SELECT reason, content FROM quarantine").fetchall()
        assert [(bytes(c), r.startswith("invalid JSON")) for r, c in quarantined] == [
            (b"not json {", True)
        ]
        handle = store.connection.execute("SELECT author_handle FROM posts WHERE id = '1001'")
        assert handle.fetchall() == [("user1",)]
    assert result.status["stored"] == 3 and result.status["duplicates"] == 1
    assert len(server.requests) == 4
    for target, headers, _ in server.requests:
        assert headers["authorization"] == "Bearer s3cret-token"
        query = parse_qs(urlparse(target).query)
        assert urlparse(target).path == "/2/tweets/search/stream"
        assert "author_id" in query["expansions"][0] and "created_at" in query["tweet.fields"][0]
    whys = [why for why, _ in source.waits]
    assert whys[0].startswith("HTTP 429") and whys[1] == "HTTP 503"
    assert whys[2].startswith("network error") and "incomplete chunked read" in whys[2]
    assert source.waits[2][1] == 0.0  # an established connection dropped: at once
    # the 429 wait lasted until x-rate-limit-reset, not just the 0.1 s back-off
    first, second = server.requests[0][2], server.requests[1][2]
    assert source.waits[0][1] > 0.5  # up to 2 s: the reset, not the 0.1 s back-off
    assert second - first >= source.waits[0][1] - 0.05
    assert 0.1 <= source.waits[1][1] <= 0.11


def test_a_refused_token_stops_the_watch_with_xs_reason(brands: dict[str, Brand]) -> None:
    body = b'{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}'
    with Store(":memory:") as store, pytest.raises(InputError) as caught:
        run(store, brands, [Answer(401, body=body)], {})
    assert "HTTP 401" in caught.value.message and "Unauthorized" in caught.value.message
    assert "bearer token" in caught.value.message


def test_xs_documented_back_off_schedule() -> None:
    b = Backoff()
    assert [b.network(n) for n in (1, 2, 4, 64, 65)] == [0.25, 0.5, 1.0, 16.0, 16.0]
    assert [b.http(n) for n in (1, 2, 3, 7, 8)] == [5.0, 10.0, 20.0, 320.0, 320.0]
    assert b.rate_limited(1, None, now=0.0) == 60.0
    assert b.rate_limited(2, None, now=0.0) == 120.0
    assert b.rate_limited(1, reset=1000.0, now=100.0) == 900.0  # the window's end, if later
