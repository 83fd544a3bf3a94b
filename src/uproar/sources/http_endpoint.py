"""An HTTP ingest endpoint, for tools that push posts rather than being read.

``POST /v1/posts`` takes a JSON object, a JSON array or JSON Lines in any archive format
(``?format=`` or detected from the first record) and answers with the ingest counts.

- A request is all or nothing: its posts and quarantined lines are written in one
  transaction, whatever its size, and the answer comes only once that has committed.
- Requests are grouped: what arrives while one transaction is being written goes into the
  next (``GroupCommitter``), so many one-post requests cost one commit, not one each.
- A bad line is quarantined with its reason (invalid JSON, invalid UTF-8, a field the
  format's parser cannot take); the request's other lines are stored.
- A retry is idempotent, for the quarantine as for posts (which are keyed by their id): a
  request's source, the quarantine's key with the line, is the client's address and a hash
  of the format and body, with the client's ``Idempotency-Key`` header where it sends one
  (draft-ietf-httpapi-idempotency-key-header). The same body again (from the same address,
  under the same key) finds its posts stored and its bad lines quarantined already; any
  other body has a source of its own, so requests never collide. A retry that shares a
  transaction with its first try is answered as if it came after it (``commit._write``).
- Limits, all enforced while reading (``EndpointLimits``): the body size (chunked bodies
  too: reading stops at the limit), the time to send the headers and the body, the number
  of open connections (past it, the longest-idle connection is closed to make room), and
  the request bodies held in memory at once.
- Errors share one shape: ``{"ok": false, "error": "...", "status": N}``, 500s included.
- ``/health`` and ``/openapi.json`` answer without a token and without any stored data.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import h11
import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is a C extension; h11 serves where it cannot be built
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

from uproar.errors import ConfigError, UproarError
from uproar.sources.commit import GroupCommitter, Item, Unparsed, decode
from uproar.sources.fields import RecordError
from uproar.sources.ingestor import JSON_FORMATS, Ingestor, IngestResult, sniff_format

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class EndpointLimits:
    """What one client may take of the endpoint, and what happens past it (README,
    "Reliability")."""

    max_body: int = MAX_BODY_BYTES  # bytes per request body: 413 past it, reading stops
    header_timeout: float = 10.0  # seconds to send a request's headers: then closed
    body_timeout: float = 30.0  # seconds to send the whole body: 408, then closed
    keep_alive: float = 5.0  # seconds an idle keep-alive connection stays open
    max_connections: int = 512  # open connections; past it the longest-idle one is closed
    max_held: int = 128 << 20  # request body bytes held in memory at once; others wait
    group_rows: int = 50_000  # records per group commit (one request is never split)
    max_header: int = 16 << 10  # bytes of request line and headers: 400 past it

    def __post_init__(self) -> None:
        for name in ("max_body", "max_connections", "max_held", "group_rows", "max_header"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_held < self.max_body:
            raise ConfigError(f"max_held ({self.max_held}) must be at least max_body")


def require_token_off_loopback(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token."""
    if token:
        return
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ConfigError(
            f"--host {host} would let anyone who can reach it write to the store; "
            "set --token (or UPROAR_INGEST_TOKEN), or listen on 127.0.0.1"
        )


def bearer_ok(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``; the scheme is case-insensitive (RFC 7235 §2.1)
    and the bare token, without a scheme, is refused."""
    scheme, _, given = (header or "").strip().partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


class _Budget:
    """Bytes of request bodies held at once; a request waits for room before reading.
    Used from the event loop only, so the fast path needs no lock."""

    def __init__(self, total: int) -> None:
        self.free = total
        self.waiting = 0
        self._changed = asyncio.Condition()

    async def take(self, size: int) -> None:
        if self.free >= size and not self.waiting:
            self.free -= size
            return
        self.waiting += 1
        try:
            async with self._changed:
                await self._changed.wait_for(lambda: self.free >= size)
                self.free -= size
        finally:
            self.waiting -= 1

    async def give(self, size: int) -> None:
        self.free += size
        if self.waiting:
            async with self._changed:
                self._changed.notify_all()


class _Refused(Exception):
    """A request answered with an error before (or while) its body was read."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.close = status, message, close


class IngestApp:
    """The endpoint as an ASGI app over one ingestor (and so one store).

    The writer thread starts with the server (ASGI lifespan) or the first request, and stops
    at the server's shutdown or ``close()``, after writing what was queued. A ``committer``
    given (``uproar watch``: one writer for every listener) is its owner's to start and stop.
    """

    def __init__(
        self,
        ingestor: Ingestor,
        *,
        token: str | None = None,
        limits: EndpointLimits | None = None,
        committer: GroupCommitter | None = None,
    ) -> None:
        self.ingestor, self.token = ingestor, token
        self.limits = limits or EndpointLimits()
        self._owns = committer is None
        self.committer = committer or GroupCommitter(ingestor, max_rows=self.limits.group_rows)
        self.totals = IngestResult()
        self.requests = 0
        self._budget: _Budget | None = None

    def close(self) -> None:
        if self._owns:
            self.committer.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._route(scope, receive, send)
        except _Refused as refused:
            await _send_error(send, refused.status, refused.message, close=refused.close)
        except Exception as exc:  # a bug, not input: still the documented error shape
            await _send_error(send, 500, f"internal error: {type(exc).__name__}: {exc}")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.committer.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        routes = {"/health": "GET", "/openapi.json": "GET", "/v1/posts": "POST"}
        if path not in routes:
            raise _Refused(404, f"no such path {path!r}; see /openapi.json")
        if method != routes[path]:
            raise _Refused(405, f"{path} takes {routes[path]}, not {method}")
        if path == "/health":
            await _send_json(send, 200, {"ok": True, "status": 200})
        elif path == "/openapi.json":
            await _send_json(send, 200, OPENAPI)
        else:
            await self._post(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token is not None and not bearer_ok(headers.get("authorization"), self.token):
            raise _Refused(401, "missing or wrong token: send 'Authorization: Bearer <token>'")
        name = _format_asked(scope.get("query_string", b""))
        if name != "auto" and name not in JSON_FORMATS:
            raise _Refused(400, f"format must be auto or one of {', '.join(JSON_FORMATS)}")
        key = idempotency_key(headers.get("idempotency-key"))
        limit = self.limits.max_body
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _Refused(413, f"body over {limit} bytes; send smaller batches", close=True)
        size = int(declared) if declared.isdigit() else limit
        if self._budget is None:
            self._budget = _Budget(self.limits.max_held)
        await self._budget.take(size)
        try:
            body = await self._body(receive, limit)
            client = scope.get("client") or ("unknown", 0)
            source = request_source(client[0], name, body, key)
            parse = self._parse
            piece = (
                await asyncio.to_thread(parse, body, name, source)
                if len(body) > 1 << 16  # big bodies parse off the event loop
                else parse(body, name, source)
            )
            del body
            result = await self.committer.submit_async(piece)
        finally:
            await self._budget.give(size)
        if isinstance(result, UproarError):
            raise _Refused(500, f"nothing from this request was stored: {result.message}")
        if isinstance(result, Exception):
            raise _Refused(500, f"nothing from this request was stored: {result}")
        self.requests += 1
        self.totals.absorb(result)
        await _send_json(send, 200, {"ok": True, **result.as_dict(), "errors": result.errors})

    async def _body(self, receive: Receive, limit: int) -> bytes:
        """The whole body, read within ``body_timeout`` and at most ``limit`` bytes."""
        parts: list[bytes] = []
        size = 0
        deadline = asyncio.get_running_loop().time() + self.limits.body_timeout
        # uvicorn's receive() answers at once when it holds the rest of the body already
        # (a small request comes in one packet): no timer is needed for that wait, and
        # arming one cost a tenth of a one-post request's CPU here
        ready = getattr(getattr(receive, "__self__", None), "message_event", None)
        while True:
            if isinstance(ready, asyncio.Event) and ready.is_set():
                message = await receive()
            else:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise _Refused(
                        408, f"body not received within {self.limits.body_timeout:g} s", close=True
                    ) from None
            if message["type"] == "http.disconnect":
                raise _Refused(400, "client went away before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refused(413, f"body over {limit} bytes; send smaller batches", close=True)
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    def _parse(self, body: bytes, name: str, source: str) -> Unparsed:
        items = split_body(body)
        if name == "auto":
            values = (value for _, _, value in items if not isinstance(value, RecordError))
            found = next(filter(None, map(sniff_format, values)), None)
            if found is None:
                if any(not isinstance(value, RecordError) for _, _, value in items):
                    raise _Refused(400, "cannot tell the format of these records; pass ?format=")
                found = "x-v2"  # nothing but undecodable lines: quarantined whatever the format
            name = found
        return Unparsed(source, name, items)


# draft-ietf-httpapi-idempotency-key-header §2.1: an sf-string (quoted); a bare token is
# taken too, as most APIs send one (Stripe, PayPal). Visible ASCII only: it is shown back.
MAX_KEY = 255


def idempotency_key(header: str | None) -> str | None:
    """The ``Idempotency-Key`` a client sent, or None; a malformed one is a 400."""
    if header is None:
        return None
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 0 < len(key) <= MAX_KEY or not all("!" <= c <= "~" for c in key):
        raise _Refused(
            400, f"Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters, e.g. a UUID"
        )
    return key


def request_source(client: str, format: str, body: bytes, key: str | None) -> str:
    """A request's source (the quarantine's key, with the line): the same for a retry of it
    (same client address, format, body and ``Idempotency-Key``), different for any other."""
    digest = hashlib.blake2b(format.encode(), digest_size=16)
    digest.update(b"\0")
    digest.update(body)
    body_part = f"body:{digest.hexdigest()}"
    return f"http:{client}/" + (f"key:{key}/{body_part}" if key is not None else body_part)


@functools.lru_cache(maxsize=64)
def _format_asked(query: bytes) -> str:
    """``?format=`` of a query string (clients send the same few again and again)."""
    return dict(parse_qsl(query.decode("latin-1"))).get("format", "auto")


def make_ingest_app(
    ingestor: Ingestor,
    *,
    token: str | None = None,
    max_body: int = MAX_BODY_BYTES,
    limits: EndpointLimits | None = None,
) -> IngestApp:
    """The endpoint over ``ingestor`` (``max_body`` is a shorthand for ``limits.max_body``)."""
    if limits is None:
        held = max(EndpointLimits().max_held, max_body)
        limits = EndpointLimits(max_body=max_body, max_held=held)
    return IngestApp(ingestor, token=token, limits=limits)


def split_body(body: bytes) -> list[Item]:
    """A JSON array's elements, one JSON value, or JSON Lines (numbered from 1; a line
    that is not JSON, or not UTF-8, is kept as its bytes with the reason)."""
    try:
        whole = orjson.loads(body)
    except orjson.JSONDecodeError:
        whole = None
    else:
        if not isinstance(whole, list):
            return [(1, body, whole)]
        return [(n, _dumped(value), value) for n, value in enumerate(whole, 1)]
    return [decode(n, line) for n, line in enumerate(body.split(b"\n"), 1) if line.strip()]


def _dumped(value: Any) -> bytes:
    """An array element's bytes for the quarantine (nested past orjson's writer: its repr)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return repr(value)[: 1 << 20].encode()


async def _send_json(send: Send, status: int, body: Any, *, close: bool = False) -> None:
    payload = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    if close:
        headers.append((b"connection", b"close"))
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _send_error(send: Send, status: int, message: str, *, close: bool = False) -> None:
    await _send_json(send, status, error_body(status, message), close=close)


def error_body(status: int, message: str) -> dict[str, Any]:
    """The one error shape (README, "JSON output")."""
    return {"ok": False, "error": message, "status": status}


# -- serving: uvicorn with the connection limits -------------------------------------------
class _Guards:
    """What both of uvicorn's HTTP/1.1 protocols get here: a header timeout, a cap on open
    connections (the longest-idle one makes room for a new one) and JSON errors for
    malformed requests. Mixed in ahead of the protocol class."""

    limits = EndpointLimits()
    # provided by uvicorn's protocol classes
    connections: set[Any]
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.active = time.monotonic()
        self._waiting_since = self.loop.time()  # for the next request's headers
        self._header_timer = self.loop.call_at(
            self._waiting_since + self.limits.header_timeout, self._slow_headers
        )
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def _idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _make_room(self) -> None:
        """Close the longest-idle connections (this one last) down to the cap; a burst of
        new connections closes one each, so skip those already closing."""
        open_ = [c for c in self.connections if isinstance(c, _Guards) and not c._closing()]
        excess = len(open_) - self.limits.max_connections
        if excess <= 0:
            return
        idle = sorted((c for c in open_ if c._idle() and c is not self), key=lambda c: c.active)
        if self._idle():
            idle.append(self)
        for connection in idle[:excess]:
            connection._close()

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def _slow_headers(self) -> None:
        """One timer per connection, moved on only when it fires (not re-armed at every
        request): it closes a connection whose next request's headers are not in within
        ``header_timeout`` of the last response (or of connecting)."""
        timeout = self.limits.header_timeout
        if not self._idle():  # a request is under way (its body has a timeout of its own)
            self._header_timer = self.loop.call_later(timeout, self._slow_headers)
        elif self.loop.time() >= self._waiting_since + timeout:
            self._close()  # no request under way, and its headers did not come in time
        else:
            self._header_timer = self.loop.call_at(
                self._waiting_since + timeout, self._slow_headers
            )

    def data_received(self, data: bytes) -> None:
        self.active = time.monotonic()
        super().data_received(data)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        self.active = time.monotonic()
        self._waiting_since = self.loop.time()
        super().on_response_complete()  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_timer.cancel()
        super().connection_lost(exc)  # type: ignore[misc]


def _bad_request(msg: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = orjson.dumps(error_body(400, f"malformed HTTP request: {msg}"))
    return [(b"content-type", b"application/json"), (b"connection", b"close")], body


class _GuardedH11(_Guards, H11Protocol):
    """uvicorn's pure-Python HTTP/1.1 protocol (h11), where httptools is not installed."""

    def send_400_response(self, msg: str) -> None:
        headers, body = _bad_request(msg)
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            try:
                self.transport.write(self.conn.send(event) or b"")
            except h11.LocalProtocolError:
                break
        self.transport.close()


class _GuardedHttpTools(_Guards, HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol over llhttp (httptools): several times less CPU per
    request than h11, which is what a client sending one post per request costs. llhttp
    sets no limit on the request line and headers, so the bytes received while a request's
    head is incomplete are counted here."""

    _head_bytes = 0
    _in_head = True  # from a connection's start, or a request's, until its headers end

    def on_message_begin(self) -> None:
        self._in_head, self._head_bytes = True, 0
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self._closing():
            # the whole chunk is counted: a pipelining client may be refused a little early
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header:
                self.send_400_response(
                    f"request line and headers over {self.limits.max_header} bytes"
                )

    def send_400_response(self, msg: str) -> None:
        headers, body = _bad_request(msg)
        head = b"".join(b"%s: %s\r\n" % pair for pair in headers)
        self.transport.write(
            b"HTTP/1.1 400 Bad Request\r\n%scontent-length: %d\r\n\r\n%s" % (head, len(body), body)
        )
        self.transport.close()


def _protocol() -> type[_Guards]:
    return _GuardedHttpTools if HttpToolsProtocol is not None else _GuardedH11


def server_config(app: IngestApp, *, host: str, port: int) -> uvicorn.Config:
    """How to serve ``app`` with its limits (``uvicorn.Server(server_config(...)).run()``)."""
    limits = app.limits
    base = _protocol()
    protocol = type(base.__name__.lstrip("_"), (base,), {"limits": limits})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        loop="auto",  # uvloop where installed: cheaper transports, as httptools is to h11
        lifespan="on",
        log_level="warning",
        timeout_keep_alive=int(max(1, limits.keep_alive)),
        h11_max_incomplete_event_size=limits.max_header,
        timeout_graceful_shutdown=int(max(1, limits.body_timeout)),
        # asyncio accepts up to ``backlog`` connections in one go, before any of them can
        # make room: keep that burst well inside the open-file limit.
        backlog=min(128, limits.max_connections),
    )


_ERROR = {
    "type": "object",
    "required": ["ok", "error", "status"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string"},
        "status": {"type": "integer"},
    },
}
_COUNTS = {
    "type": "object",
    "required": ["ok", "read", "stored", "duplicates", "quarantined", "skipped", "errors"],
    "properties": {
        "ok": {"const": True},
        **{k: {"type": "integer"} for k in ("read", "stored", "duplicates", "quarantined")},
        "skipped": {"type": "integer"},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Uproar ingest", "version": "1"},
    "paths": {
        "/v1/posts": {
            "post": {
                "summary": "Store posts: a JSON object, a JSON array or JSON Lines",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"enum": ["auto", *JSON_FORMATS], "default": "auto"},
                    },
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "description": "resending a body under the same key (or none) "
                        "stores and quarantines it once",
                        "schema": {"type": "string", "maxLength": MAX_KEY + 2},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {}, "application/x-ndjson": {}},
                },
                "responses": {
                    "200": {
                        "description": "committed: what was stored and quarantined",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Counts"}}
                        },
                    },
                    **_errors(400, 401, 404, 405, 408, 413, 500),
                },
            }
        },
        "/health": {
            "get": {
                "summary": "Whether the endpoint is up",
                "responses": {"200": {"description": "up"}},
            }
        },
        "/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}
        },
    },
    "components": {
        "schemas": {"Error": _ERROR, "Counts": _COUNTS},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
