"""X API v2 filtered stream: ``GET /2/tweets/search/stream`` with an app's bearer token.

The response never ends: one JSON object per line (``{"data": {...}, "includes": {...},
"matching_rules": [...]}``, parsed by ``sources/x_v2.py``), and a blank line every 20
seconds as keep-alive. Which posts come is set by the app's stream rules (managed with
``POST /2/tweets/search/stream/rules``, outside Uproar).

Reconnecting follows X's "Handling disconnections" (developer.x.com, filtered stream):

- an established connection that drops: reconnect at once;
- a network error (TCP/IP, TLS, no data within the read timeout): back off linearly,
  250 ms more each attempt, up to 16 s;
- an HTTP error worth retrying (5xx, 409 ...): back off exponentially from 5 s, doubling, up
  to 320 s;
- HTTP 429: back off exponentially from 1 minute, doubling, and never before the window
  ``x-rate-limit-reset`` (epoch seconds) names;
- 401 and 403 are the token's or the app's fault and stop the watch with the reason.

A stall is a network error: the keep-alive comes every 20 s, so nothing at all for
``read_timeout`` (30 s: one keep-alive and a margin) means the connection is dead.
The stream has no cursor: posts that X sent while the watch was down are gone unless the
app's access level allows ``backfill_minutes`` (1-5). Each post is stored once by its id.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from uproar.errors import InputError
from uproar.sources.commit import Item, decode
from uproar.store import Store
from uproar.watch.streams import Pieces, pause
from uproar.watch.writer import SourceStats, Writer

# The fields sources/x_v2.py reads (developer.x.com, "Fields" and "Expansions").
PARAMS = {
    "tweet.fields": "created_at,author_id,lang,entities,public_metrics,conversation_id,"
    "referenced_tweets,geo,in_reply_to_user_id",
    "expansions": "author_id,geo.place_id,referenced_tweets.id",
    "user.fields": "username,name,public_metrics,location",
    "place.fields": "full_name,country_code,name",
}
FATAL = (400, 401, 403)  # a bad request, token or app: retrying cannot help


@dataclass(frozen=True, slots=True)
class Backoff:
    """X's reconnect schedule (seconds); the defaults are X's documented figures."""

    network_step: float = 0.25
    network_max: float = 16.0
    http_first: float = 5.0
    http_max: float = 320.0
    rate_first: float = 60.0

    def network(self, attempt: int) -> float:
        return float(min(self.network_max, self.network_step * attempt))

    def http(self, attempt: int) -> float:
        return float(min(self.http_max, self.http_first * 2.0 ** (attempt - 1)))

    def rate_limited(self, attempt: int, reset: float | None, now: float) -> float:
        wait = float(self.rate_first * 2.0 ** (attempt - 1))
        if reset is not None:
            wait = max(wait, reset - now)
        return wait


class XStreamSource:
    """The filtered stream into the writer, reconnecting by X's rules."""

    def __init__(
        self,
        url: str,
        *,
        token: str,
        backfill_minutes: int = 0,
        batch: int = 2_000,
        wait: float = 0.1,
        read_timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = url
        self.url, self.token, self.backfill = url, token, backfill_minutes
        self.batch, self.wait, self.read_timeout = batch, wait, read_timeout
        self.backoff = backoff or Backoff()
        self.pieces = Pieces(url, "x-v2")
        self.waits: list[tuple[str, float]] = []  # (why, seconds) for each back-off taken

    def prepare(self, store: Store) -> None:
        return None

    async def run(self, writer: Writer, stop: asyncio.Event) -> None:
        stats = writer.stats(self.name)
        params = dict(PARAMS)
        if self.backfill:
            params["backfill_minutes"] = str(self.backfill)
        timeout = httpx.Timeout(10.0, read=self.read_timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        failures = {"network": 0, "http": 0, "rate": 0}
        async with httpx.AsyncClient(timeout=timeout, headers=headers) as client:
            while not stop.is_set():
                connected = False
                try:
                    async with client.stream("GET", self.url, params=params) as response:
                        if response.status_code != 200:
                            body = (await response.aread())[:2000].decode("utf-8", "replace")
                            why, seconds = self._refused(response, body, failures)
                        else:
                            connected = True
                            failures = {"network": 0, "http": 0, "rate": 0}
                            stats.note = "connected"
                            await self._read(response, writer, stats, stop)
                            why, seconds = "the stream ended", 0.0  # reconnect at once
                except (httpx.TransportError, httpx.StreamError) as exc:
                    why = f"network error: {type(exc).__name__}: {exc}"
                    if connected:  # an established connection dropped: reconnect at once
                        seconds = 0.0
                    else:
                        failures["network"] += 1
                        seconds = self.backoff.network(failures["network"])
                if stop.is_set():
                    break
                stats.reconnects += 1
                stats.note = f"{why}; reconnecting in {seconds:g} s"
                self.waits.append((why, seconds))
                await pause(seconds, stop)

    def _refused(
        self, response: httpx.Response, body: str, failures: dict[str, int]
    ) -> tuple[str, float]:
        status = response.status_code
        if status in FATAL:
            raise InputError(
                f"X filtered stream {self.url} refused the connection: HTTP {status}: "
                f"{body.strip()} (check the bearer token and the app's access level)"
            )
        if status == 429:
            failures["rate"] += 1
            reset = _number(response.headers.get("x-rate-limit-reset"))
            seconds = self.backoff.rate_limited(failures["rate"], reset, time.time())
            return f"HTTP 429 rate limited (x-rate-limit-reset {reset})", seconds
        failures["http"] += 1
        return f"HTTP {status}", self.backoff.http(failures["http"])

    async def _read(
        self, response: httpx.Response, writer: Writer, stats: SourceStats, stop: asyncio.Event
    ) -> None:
        items: list[Item] = []
        first = 0.0

        async def flush() -> None:
            nonlocal items
            if items:
                batch, items = items, []
                await writer.submit(self.pieces.make(batch, received=first), stats)

        lines = _Lines(response)
        try:
            while not stop.is_set():
                left = self.wait - (time.time() - first) if items else 0.1
                try:
                    line = await lines.next(max(left, 0.001))
                except TimeoutError:
                    await flush()
                    continue
                if line is None:
                    break
                if not line.strip():
                    continue  # keep-alive
                item = decode(len(items) + 1, line.encode())
                if _stream_error(item[2]):
                    stats.note = f"stream message: {str(item[2])[:300]}"
                    continue
                if not items:
                    first = time.time()
                stats.received += 1
                items.append(item)
                if len(items) >= self.batch:
                    await flush()
        finally:
            lines.close()
            await flush()


class _Lines:
    """A response's lines, read with a timeout that does not lose a line: a read cut short
    by the batch timer goes on, and is awaited again by the next call."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self._task: asyncio.Future[str | None] | None = None

    async def next(self, timeout: float) -> str | None:
        """The next line, None at the end; ``TimeoutError`` if none within ``timeout``."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if not done:
            raise TimeoutError
        task, self._task = self._task, None
        return task.result()

    async def _read(self) -> str | None:
        try:
            return await self._lines.__anext__()
        except StopAsyncIteration:
            return None

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


def _stream_error(value: Any) -> bool:
    """An in-stream notice (``{"errors": [...]}`` without ``data``, e.g. an operational
    disconnect), which is not a post and not bad input."""
    return isinstance(value, dict) and "data" not in value and "errors" in value


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
