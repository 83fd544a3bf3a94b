"""The HTTP ingest endpoint against real clients on loopback: uvicorn serving the app in a
thread (or ``uproar listen http`` in its own process), httpx and raw sockets as clients."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.config import Brand
from uproar.errors import ConfigError
from uproar.sources import Ingestor, http_endpoint
from uproar.sources.commit import Unparsed, commit, parse_group, parse_together
from uproar.sources.http_endpoint import (
    EndpointLimits,
    IngestApp,
    bearer_ok,
    request_source,
    require_token_off_loopback,
    server_config,
    split_body,
)
from uproar.sources.ingestor import JSON_FORMATS, IngestResult
from uproar.store import Store

from .listener import free_port, listener, post_line
from .test_live import JSON, TIMES, dump, jetstream_messages, mastodon_messages

AUTH = {"Authorization": "Bearer t0ken"}


class Served:
    def __init__(self, base: str, store: Store, app: IngestApp) -> None:
        self.base, self.store, self.app = base, store, app


@pytest.fixture
def serve(tmp_path: Path, brands: dict[str, Brand]) -> Iterator[Callable[..., Served]]:
    """Start the endpoint in a thread over a file store; stopped after the test."""
    running: list[tuple[uvicorn.Server, threading.Thread, Store]] = []

    def start(
        *, limits: EndpointLimits | None = None, enrichers: tuple[Any, ...] = (), **kw: Any
    ) -> Served:
        store = Store(tmp_path / f"live{len(running)}.duckdb")
        app = IngestApp(
            Ingestor(store, brands, enrichers=enrichers), token="t0ken", limits=limits, **kw
        )
        port = free_port()
        server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
        server.config.log_level = "error"
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        running.append((server, thread, store))
        return Served(f"http://127.0.0.1:{port}", store, app)

    yield start
    for server, thread, store in running:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def x_line(i: int, text: str = "@KiwiNet down") -> bytes:
    return orjson.dumps(
        {
            "data": {
                "id": str(i),
                "text": text,
                "author_id": "9",
                "created_at": "2014-09-06T10:00:00.000Z",
            }
        }
    )


def quarantine(store: Store) -> list[tuple[Any, ...]]:
    return store.connection.execute(
        "SELECT source_file, line, kind, reason, content FROM quarantine ORDER BY 1, 2"
    ).fetchall()


def test_posts_counts_quarantine_and_errors(serve: Callable[..., Served]) -> None:
    served = serve(limits=EndpointLimits(max_body=4096))
    lines = b"\n".join([x_line(1), b"{not json", x_line(2, "tuinet fine")])
    with httpx.Client(base_url=served.base, timeout=10) as client:
        refused = client.post("/v1/posts", content=lines)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert refused.json() == {"ok": False, "error": refused.json()["error"], "status": 401}
        body = client.post("/v1/posts", content=lines, headers=AUTH).json()
        assert (body["stored"], body["quarantined"], body["read"]) == (2, 1, 3)
        again = client.post("/v1/posts", content=lines, headers=AUTH).json()
        assert (again["stored"], again["duplicates"], again["quarantined"]) == (0, 2, 1)
        too_big = client.post("/v1/posts", content=b"[" + b" " * 5000 + b"]", headers=AUTH)
        assert too_big.status_code == 413
        assert too_big.json() == {"ok": False, "error": too_big.json()["error"], "status": 413}
        odd = client.post("/v1/posts?format=nope", content=b"{}", headers=AUTH)
        assert odd.json() == {"ok": False, "error": odd.json()["error"], "status": 400}
        missing = client.get("/v1/nothing")
        assert missing.json()["status"] == 404
        assert client.get("/v1/posts").json()["status"] == 405
        # health and the API description need no token and show no data
        assert client.get("/health").json() == {"ok": True, "status": 200}
        spec = client.get("/openapi.json").json()
        assert set(spec["paths"]) == {"/v1/posts", "/health", "/openapi.json"}
    assert [p.brands for p in served.store.posts()] == [("kiwinet",), ("tuinet",)]
    # the same body again is a retry: its bad line is kept once (test_a_retry_is_idempotent)
    rows = quarantine(served.store)
    assert [(r[1], r[2], r[4]) for r in rows] == [(2, "invalid JSON", b"{not json")]


def test_a_retry_is_idempotent_for_the_quarantine_too(serve: Callable[..., Served]) -> None:
    """Before, each request had a source of its own, so a client resending a body after a
    timeout or a 5xx had its bad lines quarantined again (its posts, keyed by id, were not)."""
    served = serve()
    body = b"\n".join([x_line(1), b"{not json", x_line(2), b"[1,"])
    other = b"\n".join([x_line(3), b"{other bad line"])

    async def send(content: bytes, n: int, key: str | None = None) -> list[dict[str, Any]]:
        headers = AUTH if key is None else {**AUTH, "Idempotency-Key": key}
        async with httpx.AsyncClient(base_url=served.base, timeout=30) as client:
            replies = await asyncio.gather(
                *(client.post("/v1/posts", content=content, headers=headers) for _ in range(n))
            )
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
        return [r.json() for r in replies]

    # sent eight times at once (a client retrying before its first try was answered): one
    # stores the posts, the others find them stored, and every answer adds up
    replies = asyncio.run(send(body, 8))
    assert sorted(r["stored"] for r in replies) == [0] * 7 + [2]
    for reply in replies:
        assert (reply["stored"] + reply["duplicates"], reply["quarantined"]) == (2, 2)
        assert reply["errors"] == replies[0]["errors"]
    # and resent later: the same
    again = asyncio.run(send(body, 1))[0]
    assert (again["stored"], again["duplicates"], again["quarantined"]) == (0, 2, 2)
    rows = quarantine(served.store)
    assert [(r[1], r[4]) for r in rows] == [(2, b"{not json"), (4, b"[1,")]
    # another body's bad line 2 is a row of its own: keys never collide across requests
    assert asyncio.run(send(other, 1))[0]["quarantined"] == 1
    # the same body under two Idempotency-Keys is two requests; a key resent is one
    for key in ("k-1", '"k-2"', "k-1"):
        assert asyncio.run(send(body, 1, key))[0]["quarantined"] == 2
    rows = quarantine(served.store)
    assert len(rows) == 2 + 1 + 4
    assert sum(r[0].startswith("http:127.0.0.1/key:k-1/body:") for r in rows) == 2
    assert sum(r[0].startswith("http:127.0.0.1/key:k-2/body:") for r in rows) == 2
    assert served.store.count_posts() == 3
    with httpx.Client(base_url=served.base, timeout=10) as client:
        bad = client.post("/v1/posts", content=body, headers={**AUTH, "Idempotency-Key": "a b"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["error"]


def test_a_retry_in_the_same_transaction_as_its_first_try(
    store: Store, brands: dict[str, Brand]
) -> None:
    """Requests of one source (one body resent) written in one group commit: the first
    stores the posts and the others are told they were stored already, as if they came
    after it (before, each was told it had stored them all)."""
    body = b"\n".join([x_line(1), b"{not json", x_line(2)])
    source = request_source("127.0.0.1", "auto", body, None)
    assert source == request_source("127.0.0.1", "auto", body, None)
    assert source != request_source("127.0.0.1", "auto", body + b" ", None)
    assert source != request_source("127.0.0.1", "auto", body, "k")
    ingestor = Ingestor(store, brands)
    group = [Unparsed(source, "x-v2", split_body(body)) for _ in range(3)]
    results = commit(ingestor, parse_group(ingestor.live_parser, group))
    counts = [(r.stored, r.duplicates, r.quarantined) for r in results]  # type: ignore[union-attr]
    assert counts == [(2, 0, 1), (0, 2, 1), (0, 2, 1)]
    assert store.count_posts() == 2 and len(quarantine(store)) == 1


def test_each_request_of_a_group_counts_its_own_skipped_records(
    store: Store, brands: dict[str, Brand]
) -> None:
    """Before, only the first request of a group commit had its skipped records counted."""
    delete = b'{"event": "delete", "payload": "101"}'
    status = orjson.dumps(
        {
            "id": "7",
            "created_at": "2014-09-06T10:00:00.000Z",
            "content": "<p>@KiwiNet down</p>",
            "account": {"id": "1", "username": "u", "acct": "u"},
        }
    )
    group = [
        Unparsed("a", "mastodon", split_body(delete)),
        Unparsed("b", "mastodon", split_body(status + b"\n" + delete)),
        Unparsed("c", "mastodon", split_body(delete + b"\n" + delete)),
    ]
    ingestor = Ingestor(store, brands)
    results = commit(ingestor, parse_together(ingestor.live_parser, group))
    got = [(r.read, r.stored, r.skipped) for r in results]  # type: ignore[union-attr]
    assert got == [(1, 0, 1), (2, 1, 1), (2, 0, 2)]


def x_lines() -> st.SearchStrategy[bytes]:
    """X v2 lines, good and with a field set to anything."""
    good = st.builds(x_line, st.integers(0, 40))
    paths = st.sampled_from(["id", "text", "author_id", "created_at", "lang", "entities"])
    mutated = st.builds(
        lambda i, key, new: dump({"data": {**orjson.loads(x_line(i))["data"], key: new}}),
        st.integers(0, 40),
        paths,
        JSON | TIMES,
    )
    return good | mutated


def request_bodies() -> st.SearchStrategy[bytes]:
    lines = x_lines() | jetstream_messages() | mastodon_messages() | st.binary(max_size=30)
    json_lines = st.lists(lines, min_size=1, max_size=6).map(b"\n".join)
    # json, not orjson: a mutated line may hold Infinity or an integer past 64 bits
    arrays = st.lists(x_lines().map(json.loads) | JSON, max_size=6).map(dump)
    return json_lines | arrays | JSON.map(dump)


@pytest.mark.slow
def test_no_body_stops_the_endpoint(brands: dict[str, Brand]) -> None:
    """Whatever the requests of one group commit hold (any format, asked for or detected;
    broken lines; the same body twice, as a retry), each is refused with a 400 before it is
    queued, or answered with counts that add up and agree with the store."""
    formats = st.sampled_from(["auto", "auto", *JSON_FORMATS])

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(request_bodies(), formats), min_size=1, max_size=5), st.data())
    def check(requests: list[tuple[bytes, str]], data: st.DataObject) -> None:
        if data.draw(st.booleans()):
            requests = [*requests, requests[0]]  # a retry in the same group
        with Store(":memory:") as store:
            ingestor = Ingestor(store, brands)
            app = IngestApp(ingestor)
            group = []
            for body, name in requests:
                source = request_source("127.0.0.1", name, body, None)
                try:
                    group.append(app._parse(body, name, source))
                except http_endpoint._Refused as refused:
                    assert refused.status == 400
            if not group:
                return
            results = commit(ingestor, parse_together(ingestor.live_parser, group))
            stored = quarantined = 0
            sources = set()
            for u, r in zip(group, results, strict=True):
                assert isinstance(r, IngestResult), r
                assert r.stored + r.duplicates + r.quarantined + r.skipped == r.read
                assert r.read >= len(u.items)  # each line is at least one record
                stored += r.stored
                if u.source not in sources:
                    quarantined += r.quarantined
                sources.add(u.source)
            assert store.count_posts() == stored
            assert len(quarantine(store)) == quarantined

    check()


def test_bearer_parsing() -> None:
    assert bearer_ok("Bearer s3cret", "s3cret")
    assert bearer_ok("bearer s3cret", "s3cret")  # RFC 7235: the scheme is case-insensitive
    assert bearer_ok("BEARER   s3cret ", "s3cret")
    for header in ("s3cret", "Bearer", "Bearer ", "Basic s3cret", "Bearer s3cre", "", None):
        assert not bearer_ok(header, "s3cret"), header


def test_bearer_over_http(serve: Callable[..., Served]) -> None:
    served = serve()
    with httpx.Client(base_url=served.base, timeout=10) as client:
        bare = client.post("/v1/posts", content=x_line(1), headers={"Authorization": "t0ken"})
        assert bare.status_code == 401
        lower = client.post(
            "/v1/posts", content=x_line(1), headers={"Authorization": "bearer t0ken"}
        )
        assert lower.status_code == 200 and lower.json()["stored"] == 1


def test_no_token_off_loopback(runner: CliRunner, tmp_path: Path) -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        require_token_off_loopback(host, None)
    require_token_off_loopback("0.0.0.0", "s3cret")
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(ConfigError, match="--token"):
            require_token_off_loopback(host, None)
    result = runner.invoke(
        get_app(), ["listen", "http", "--host", "0.0.0.0", "--db", str(tmp_path / "x.duckdb")]
    )
    assert result.exit_code == 2 and "--token" in result.output  # one line, no traceback
    assert not (tmp_path / "x.duckdb").exists()  # refused before anything was opened


def test_invalid_utf8_is_quarantined_as_such(serve: Callable[..., Served]) -> None:
    served = serve()
    bad = b'{"data": {"id": "7", "text": "caf\xe9", "author_id": "1"}}'
    with httpx.Client(base_url=served.base, timeout=10) as client:
        reply = client.post("/v1/posts?format=x-v2", content=x_line(1) + b"\n" + bad, headers=AUTH)
    assert reply.json()["stored"] == 1 and reply.json()["quarantined"] == 1
    ((_, line, kind, reason, content),) = quarantine(served.store)
    assert (line, kind, content) == (2, "invalid UTF-8", bad)  # the bytes as sent
    assert "utf-8" in reason.lower()


def deep(levels: int) -> bytes:
    """JSON nested ``levels`` deep: orjson reads 1,024 levels; past about 990 a record cannot
    be kept as JSON and is quarantined."""
    return b"[" * levels + b'"x"' + b"]" * levels


def test_poison_record_is_quarantined_and_the_rest_stored(serve: Callable[..., Served]) -> None:
    """Records that broke the whole request (a 500) before: nested past what orjson writes
    back, and wrong types the format's parser did not expect."""
    served = serve()
    poison = (
        b'{"data": {"id": "666", "text": "@KiwiNet", "author_id": "1", '
        b'"created_at": "2014-09-06T10:00:00Z", "entities": {"hashtags": ' + deep(1010) + b"}}}"
    )
    with httpx.Client(base_url=served.base, timeout=10) as client:
        reply = client.post(
            "/v1/posts?format=x-v2",
            content=b"\n".join([x_line(1), poison, x_line(2)]),
            headers=AUTH,
        )
    assert reply.status_code == 200
    counts = reply.json()
    assert (counts["stored"], counts["quarantined"]) == (2, 1)
    ((_, line, _, reason, content),) = quarantine(served.store)
    assert line == 2 and content == poison and reason
    assert served.store.count_posts() == 2


class PoisonEnricher:
    """A real enricher (the classifier's interface) that fails on posts saying 'poison',
    as a store or model failing on one record would."""

    def __call__(self, store: Store, posts: pa.Table) -> None:
        if any("poison" in text for text in posts.column("text").to_pylist()):
            raise ValueError("cannot enrich this post")


@pytest.mark.slow
def test_a_big_request_is_all_or_nothing_and_its_answer_exact(
    serve: Callable[..., Served],
) -> None:
    """A request bigger than one enrichment slice with one record the write refuses at the
    end: before, the first 122,880 posts were committed and the client told it failed."""
    served = serve(enrichers=(PoisonEnricher(),), limits=EndpointLimits(group_rows=1000))
    count = 25_000
    lines = [x_line(i, f"@KiwiNet slow {i}") for i in range(count)]
    lines.append(x_line(count, "@KiwiNet poison"))
    with httpx.Client(base_url=served.base, timeout=120) as client:
        reply = client.post("/v1/posts?format=x-v2", content=b"\n".join(lines), headers=AUTH)
    body = reply.json()
    assert reply.status_code == 200, body
    assert (body["stored"], body["quarantined"]) == (count, 1)
    assert served.store.count_posts() == count
    ((_, line, kind, reason, _),) = quarantine(served.store)
    assert (line, kind) == (count + 1, "bad value") and "cannot enrich" in reason


def test_a_broken_store_gives_a_json_500(tmp_path: Path, brands: dict[str, Brand]) -> None:
    store = Store(":memory:")
    app = IngestApp(Ingestor(store, brands))
    store.close()  # the store has gone away under the endpoint
    transport = httpx.ASGITransport(app=app)

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/v1/posts", content=x_line(1))

    try:
        reply = asyncio.run(post())
    finally:
        app.close()
    assert reply.status_code == 500
    body = reply.json()
    assert body == {"ok": False, "error": body["error"], "status": 500}
    assert body["error"].startswith("nothing from this request was stored")


@pytest.mark.slow
def test_group_commit_counts_every_post_once(serve: Callable[..., Served]) -> None:
    served = serve(limits=EndpointLimits(keep_alive=120))  # no keep-alive race on a busy box
    count = 200

    async def push() -> list[dict[str, Any]]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=served.base, limits=limits, timeout=30) as client:
            replies = await asyncio.gather(
                *(client.post("/v1/posts", content=x_line(i), headers=AUTH) for i in range(count))
            )
        return [r.json() for r in replies]

    replies = asyncio.run(push())
    assert sum(r["stored"] for r in replies) == count
    assert served.store.count_posts() == count
    assert served.app.committer.groups < count  # requests shared transactions


def raw_request(port: int, head: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head)
    return sock


def read_reply(sock: socket.socket, wait: float = 10) -> bytes:
    sock.settimeout(wait)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_a_chunked_body_is_refused_at_the_limit(serve: Callable[..., Served]) -> None:
    """A 1.5 GB chunked body: reading stops at the limit, so memory stays bounded (before,
    the listener read it whole and grew to 3.1 GB)."""
    served = serve()
    port = int(served.base.rsplit(":", 1)[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sock = raw_request(
        port,
        b"POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
    )
    piece = b"[" * (1 << 20)
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent = 0
    reply = b""
    sock.settimeout(10)
    try:
        while sent < 1536 << 20:
            sock.sendall(frame)
            sent += len(piece)
            if select.select([sock], [], [], 0)[0]:
                reply = sock.recv(65536)
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply += read_reply(sock, 2)
    sock.close()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert sent < 64 << 20, f"the server read {sent >> 20} MB before refusing"
    if reply:  # the refusal may be lost to the connection reset on a fast close
        assert reply.startswith(b"HTTP/1.1 413") and b'"status":413' in reply
    assert grown_mb < 300
    assert served.store.count_posts() == 0


def test_header_and_body_timeouts(serve: Callable[..., Served]) -> None:
    served = serve(limits=EndpointLimits(header_timeout=0.5, body_timeout=0.5))
    port = int(served.base.rsplit(":", 1)[1])
    with (
        raw_request(port, b"POST /v1/posts HTTP/1.1\r\nHost: x\r\n") as slow_headers,
        raw_request(
            port,
            b"POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n"
            b"Content-Length: 100\r\n\r\n{",
        ) as slow_body,
        raw_request(port, b"NOT HTTP AT ALL\r\n\r\n") as garbage,
    ):
        started = time.monotonic()
        assert read_reply(slow_headers, 5) == b""  # closed without a word
        reply = read_reply(slow_body, 5)
        assert time.monotonic() - started < 4
        assert reply.startswith(b"HTTP/1.1 408") and b'"status":408' in reply
        refused = read_reply(garbage, 5)
        assert refused.startswith(b"HTTP/1.1 400") and b'"status":400' in refused


@pytest.mark.parametrize("protocol", ["httptools", "h11"])
def test_oversized_headers_are_refused_with_the_json_error(
    serve: Callable[..., Served], protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both HTTP parsers hold the request line and headers to ``max_header``: llhttp sets
    no limit of its own, so without the count a client could send megabytes of headers."""
    if protocol == "h11":
        monkeypatch.setattr(http_endpoint, "HttpToolsProtocol", None)
    served = serve(limits=EndpointLimits(max_header=4096))
    port = int(served.base.rsplit(":", 1)[1])
    padding = b"X-Pad: " + b"a" * 8000 + b"\r\n"
    with raw_request(port, b"POST /v1/posts HTTP/1.1\r\nHost: x\r\n" + padding) as big:
        refused = read_reply(big, 5)
    assert refused.startswith(b"HTTP/1.1 400") and b'"status":400' in refused
    within = httpx.post(
        served.base + "/v1/posts", content=x_line(1), headers={**AUTH, "X-Pad": "a" * 1000}
    )
    assert within.json()["stored"] == 1


@pytest.mark.slow
def test_a_thousand_idle_connections_do_not_block_a_client(tmp_path: Path) -> None:
    """``uproar listen http`` in its own process, allowed 1,000 open files: 1,000 clients
    connect and send nothing; a real client is still served, at once (before, the idle
    ones took every file and nobody else got in)."""
    with listener(tmp_path / "idle.duckdb", nofile=1000) as (base, process):
        port = int(base.rsplit(":", 1)[1])
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(1000)]
        try:
            started = time.monotonic()
            reply = post_line(base, x_line(1))
            assert reply["stored"] == 1
            assert time.monotonic() - started < 5
            held = len(os.listdir(f"/proc/{process.pid}/fd"))
            assert held < EndpointLimits().max_connections + 100  # the cap, not 1,000
        finally:
            for sock in idle:
                sock.close()
