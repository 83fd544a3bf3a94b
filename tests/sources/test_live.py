"""Live streams against real WebSocket and HTTP servers on loopback that speak each protocol."""

from __future__ import annotations

import asyncio
import copy as copy_module
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve

from uproar.config import Brand
from uproar.sources import Ingestor
from uproar.sources.live import Batcher, StreamLimits, listen_jetstream, listen_mastodon
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


def deep(levels: int) -> str:
    """JSON nested ``levels`` deep: orjson reads 1,024 levels; past about 990 a record cannot
    be kept as JSON and is quarantined."""
    return "[" * levels + '"x"' + "]" * levels


def quarantined(store: Store) -> list[tuple[Any, ...]]:
    return store.connection.execute(
        "SELECT source_file, line, kind, reason, content FROM quarantine ORDER BY 1, 2"
    ).fetchall()


def test_jetstream_poison_event_is_quarantined_and_passed(
    store: Store, brands: dict[str, Brand]
) -> None:
    """Before, one such event crashed the listener, lost the posts batched with it and left
    the cursor behind it, so every restart crashed on it again."""
    base_us = 1_725_000_000_000_000
    poison = (
        orjson.dumps(jetstream_event(2)).decode().replace('"text"', f'"langs":{deep(1010)},"text"')
    )
    events = [orjson.dumps(jetstream_event(n)).decode() for n in range(5)]
    events[2] = poison
    cursors: list[list[str] | None] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlparse(ws.request.path).query)
        cursors.append(query.get("cursor"))
        after = int(query["cursor"][0]) - base_us + 1 if "cursor" in query else 0
        for event in events[after:]:
            await ws.send(event)
        await ws.wait_closed()

    async def scenario() -> list[dict[str, Any]]:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            runs = []
            for messages in (5, 1):
                events.append(orjson.dumps(jetstream_event(len(events))).decode())
                totals = await listen_jetstream(
                    f"ws://127.0.0.1:{port}/subscribe",
                    Ingestor(store, brands),
                    limits=StreamLimits(max_messages=messages),
                )
                runs.append(totals.as_dict())
            return runs

    first, second = asyncio.run(scenario())
    assert (first["stored"], first["quarantined"]) == (4, 1)
    assert (second["stored"], second["quarantined"]) == (1, 0)  # resumed past the poison
    assert cursors == [None, [str(base_us + 4)]]
    ((_, line, _, reason, content),) = quarantined(store)
    assert line == 3 and content == poison.encode() and reason
    assert store.count_posts() == 5


def test_mastodon_poison_status_is_quarantined(store: Store, brands: dict[str, Brand]) -> None:
    bad = status(2, "@KiwiNet")
    bad["account"] = {"id": "2", "acct": 123, "display_name": {}, "username": "u2"}
    bad["language"] = ["en"]
    messages = [
        {"event": "update", "payload": orjson.dumps(status(1, "@KiwiNet down")).decode()},
        {"event": "update", "payload": orjson.dumps(bad).decode()},
        {"event": "update", "payload": orjson.dumps(status(3, "#kiwinet slow")).decode()},
    ]

    async def handler(ws: ServerConnection) -> None:
        for message in messages:
            await ws.send(orjson.dumps(message).decode())
        await ws.wait_closed()

    async def scenario() -> dict[str, Any]:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            totals = await listen_mastodon(
                f"http://127.0.0.1:{port}",
                Ingestor(store, brands),
                limits=StreamLimits(max_messages=3),
            )
            return totals.as_dict()

    totals = asyncio.run(scenario())
    stored = {p.id for p in store.posts()}
    # the wrong types are either read as unknown (stored) or quarantined: never a crash,
    # and the good statuses around it are stored either way
    assert {"101", "103"} <= stored
    assert totals["stored"] + totals["quarantined"] == 3
    assert len(quarantined(store)) == totals["quarantined"]


BIG = 9 << 20  # over the 8 MiB message limit


def big_event(n: int) -> str:
    """A Jetstream event of over 9 MB (its text), ``time_us`` first as Jetstream writes it."""
    event = jetstream_event(n)
    event["commit"]["record"]["text"] = "@KiwiNet " + "x" * BIG
    return orjson.dumps(event).decode()


@pytest.mark.parametrize("big_at", [2, 4], ids=["between good ones", "last before a stop"])
def test_an_oversized_jetstream_message_is_quarantined_once_and_passed(
    store: Store, brands: dict[str, Brand], big_at: int
) -> None:
    """Before, a message over 8 MB closed the connection (1009) and the listener reconnected
    from its cursor onto the same message, forever. Jetstream replays from the cursor,
    inclusive (as this server does)."""
    base_us = 1_725_000_000_000_000
    events = [orjson.dumps(jetstream_event(n)).decode() for n in range(6)]
    events[big_at] = big_event(big_at)
    cursors: list[list[str] | None] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlparse(ws.request.path).query)
        cursors.append(query.get("cursor"))
        start = int(query["cursor"][0]) - base_us if "cursor" in query else 0
        for event in events[start:]:
            await ws.send(event)
        await ws.wait_closed()

    async def scenario() -> list[dict[str, Any]]:
        async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
            port = server.sockets[0].getsockname()[1]
            runs = []
            for messages in (big_at + 1, len(events) - big_at - 1):
                totals = await listen_jetstream(
                    f"ws://127.0.0.1:{port}/subscribe",
                    Ingestor(store, brands),
                    limits=StreamLimits(max_messages=messages, max_seconds=30),
                )
                runs.append(totals.as_dict())
            return runs

    first, second = asyncio.run(scenario())
    assert first["reconnects"] == second["reconnects"] == 0
    assert (first["stored"], first["quarantined"]) == (big_at, 1)
    assert cursors == [None, [str(base_us + big_at + 1)]]  # resumed just past it
    assert second["quarantined"] == 0  # never met again
    ((_, line, kind, reason, content),) = store.connection.execute(
        "SELECT source_file, line, kind, reason, content FROM quarantine"
    ).fetchall()
    assert line == big_at + 1 and kind == "bad value"
    assert reason == (
        f"a message of {len(events[big_at]):,} bytes is over the 8 MiB message limit "
        "(its first 4 KiB are kept)"
    )
    assert content == events[big_at].encode()[:4096]
    assert store.count_posts() == 5


def test_an_oversized_fragmented_mastodon_message_and_bad_utf8(
    store: Store, brands: dict[str, Brand]
) -> None:
    """A message sent in fragments is cut once past the limit; a text frame that is not
    UTF-8 (which used to raise out of the listener) is quarantined as such. The connection
    stays open throughout."""
    connections = 0
    big = orjson.dumps(
        {"event": "update", "payload": orjson.dumps(status(2, "@KiwiNet " + "y" * BIG)).decode()}
    )

    def update(i: int) -> bytes:
        return orjson.dumps(
            {"event": "update", "payload": orjson.dumps(status(i, "@KiwiNet down")).decode()}
        )

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.send(update(1), text=True)
        await ws.send((big[i : i + (1 << 20)] for i in range(0, len(big), 1 << 20)), text=True)
        await ws.send(update(3), text=True)
        await ws.send(b'{"event": "update", "payload": "\xff\xfe"}', text=True)
        await ws.send(update(4), text=True)
        await ws.wait_closed()

    async def scenario() -> dict[str, Any]:
        async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
            port = server.sockets[0].getsockname()[1]
            totals = await listen_mastodon(
                f"http://127.0.0.1:{port}",
                Ingestor(store, brands),
                limits=StreamLimits(max_messages=5, max_seconds=30),
            )
            return totals.as_dict()

    totals = asyncio.run(scenario())
    assert connections == 1 and totals["reconnects"] == 0
    assert (totals["stored"], totals["quarantined"]) == (3, 2)
    rows = quarantined(store)
    assert [(line, kind) for _, line, kind, _, _ in rows] == [
        (2, "bad value"),
        (4, "invalid UTF-8"),
    ]
    assert rows[0][3].startswith(f"a message of {len(big):,} bytes is over the 8 MiB")
    assert rows[0][4] == big[:4096]
    assert {p.id for p in store.posts()} == {"101", "103", "104"}


def test_quarantine_keys_differ_between_runs(store: Store, brands: dict[str, Brand]) -> None:
    for _ in range(2):
        batcher = Batcher(Ingestor(store, brands), format="bluesky", source="wss://j/subscribe")
        batcher.add(b"{not json")
        batcher.flush()
        assert batcher.totals.ingested.quarantined == 1
    assert len(quarantined(store)) == 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def set_path(value: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    copy = copy_module.deepcopy(value)
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


JETSTREAM_PATHS = [
    ("did",), ("time_us",), ("kind",), ("commit",), ("commit", "operation"),
    ("commit", "collection"), ("commit", "rkey"), ("commit", "record"),
    ("commit", "record", "text"), ("commit", "record", "createdAt"),
    ("commit", "record", "facets"), ("commit", "record", "langs"), ("commit", "record", "reply"),
    ("commit", "record", "embed"),
]  # fmt: skip
STATUS_PATHS = [
    ("id",), ("created_at",), ("content",), ("account",), ("account", "id"),
    ("account", "acct"), ("account", "display_name"), ("account", "followers_count"),
    ("language",), ("reblog",), ("card",), ("in_reply_to_id",), ("favourites_count",),
]  # fmt: skip
TIMES = st.sampled_from(
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2014-09-06T09:00:00+99:00",
     "1970-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "", "yesterday"]
)  # fmt: skip


def dump(value: Any) -> bytes:
    """JSON of any generated value (integers past 64 bits included, which orjson refuses)."""
    return json.dumps(value).encode()


def jetstream_messages() -> st.SearchStrategy[bytes]:
    good = st.integers(0, 10**6).map(jetstream_event)
    mutated = st.builds(
        lambda n, path, new: set_path(jetstream_event(n), path, new),
        st.integers(0, 10**6),
        st.sampled_from(JETSTREAM_PATHS),
        JSON | TIMES | st.integers(min_value=2**63, max_value=2**70),
    )
    as_json = (good | mutated | JSON).map(dump)
    nested = st.integers(250, 1000).map(lambda n: deep(n).encode())
    return as_json | nested | st.binary(max_size=40)


def mastodon_messages() -> st.SearchStrategy[bytes]:
    mutated = st.builds(
        lambda n, path, new: set_path(status(n % 50, "@KiwiNet"), path, new),
        st.integers(0, 10**6),
        st.sampled_from(STATUS_PATHS),
        JSON | TIMES,
    )
    as_event = (mutated | JSON).map(
        lambda v: dump({"event": "update", "payload": dump(v).decode()})
    )
    odd_events = st.builds(
        lambda event, payload: dump({"event": event, "payload": payload}), JSON, JSON
    )
    return as_event | odd_events | JSON.map(dump) | st.binary(max_size=40)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("format", "messages"), [("bluesky", jetstream_messages()), ("mastodon", mastodon_messages())]
)
def test_no_message_stops_a_listener(
    format: str, messages: st.SearchStrategy[bytes], brands: dict[str, Brand]
) -> None:
    """Whatever a stream sends, the listener's write path takes it: each message is stored
    (or a duplicate), skipped or quarantined with a reason, and nothing raises."""

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(messages, min_size=1, max_size=12))
    def check(batch: list[bytes]) -> None:
        with Store(":memory:") as store:
            batcher = Batcher(Ingestor(store, brands), format=format, source="wss://fuzz")
            for message in batch:
                batcher.add(message)
            batcher.flush()
            got = batcher.totals.ingested
            assert batcher.totals.messages == len(batch)
            assert got.stored + got.duplicates + got.quarantined + got.skipped == got.read
            assert got.read >= len(batch)  # every message became at least one record
            reasons = store.connection.execute("SELECT count(*) FROM quarantine").fetchone()
            assert reasons is not None and reasons[0] == got.quarantined

    check()
