"""Real servers on loopback for watch tests: a feed server (RSS 2.0 and Atom, with ETag and
Last-Modified, answering conditional GETs with 304) and a fake X filtered stream that
follows X's documented responses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Feeds:
    """Documents by path: (content type, body, ETag, Last-Modified). ``requests`` records
    each request's path, its conditional headers and the status answered."""

    port: int = 0
    documents: dict[str, tuple[str, bytes, str | None, str | None]] = field(default_factory=dict)
    requests: list[tuple[str, str | None, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def feed_server() -> Iterator[Feeds]:
    feeds = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            etag_in = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            with feeds.lock:
                document = feeds.documents.get(self.path)
                if document is None:
                    status = 404
                else:
                    kind, body, etag, modified = document
                    fresh = (etag is not None and etag_in == etag) or (
                        etag_in is None and modified is not None and since == modified
                    )
                    status = 304 if fresh else 200
                feeds.requests.append((self.path, etag_in, since, status))
            self.send_response(status)
            if status == 200 and document is not None:
                kind, body, etag, modified = document
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                if modified:
                    self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    feeds.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- a fake X filtered stream ------------------------------------------------------------
# One scripted answer per connection, in order; the last repeats. Each is a status, extra
# headers, and for a 200 the lines to stream (b"" is X's keep-alive newline), then whether
# to close the connection (a drop) or hold it open.
@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    lines: tuple[bytes, ...] = ()
    hold: bool = False
    body: bytes = b""


@dataclass
class XServer:
    answers: list[Answer]
    port: int = 0
    requests: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    clock: Callable[[], float] = field(default=lambda: 0.0)


REASONS = {200: "OK", 401: "Unauthorized", 429: "Too Many Requests", 503: "Service Unavailable"}


async def serve_x(server: XServer, ready: asyncio.Event) -> None:
    """Serve ``server.answers`` (HTTP/1.1, chunked like X's stream) until cancelled."""
    loop = asyncio.get_running_loop()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
        }
        index = min(len(server.requests), len(server.answers) - 1)
        server.requests.append((target, headers, loop.time()))
        answer = server.answers[index]
        out = [f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Error')}"]
        out += [f"{k}: {v}" for k, v in answer.headers]
        if answer.status != 200:
            out += [f"content-length: {len(answer.body)}", "content-type: application/json"]
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + answer.body)
            await writer.drain()
            writer.close()
            return
        out += ["content-type: application/json", "transfer-encoding: chunked"]
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode())
        for line in answer.lines:
            data = line + b"\r\n"
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
            await asyncio.sleep(0.01)
        if answer.hold:
            try:
                while True:  # keep-alive newlines, as X sends every 20 s
                    await asyncio.sleep(0.2)
                    writer.write(b"2\r\n\r\n\r\n")
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
        writer.close()  # a drop mid-stream: no final chunk

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    ready.set()
    async with listener:
        await listener.serve_forever()
