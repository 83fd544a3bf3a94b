"""Live updates: one poller reads the store's pulse (post count, newest post, each incident's
changing fields) every ``interval`` seconds while someone watches, and tells every watcher
what changed, as server-sent events.

- One read per interval, whatever the number of watchers; none at all while nobody
  watches, so an idle dashboard leaves the file to the listener (``serve/lease.py``).
- Each watcher has a bounded queue. A change is a summary of the store now, so a watcher that
  falls behind loses nothing by skipping: when its queue is full the oldest event is dropped
  and the newest kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from uproar.errors import UproarError
from uproar.store.pages import Pulse

POLL_SECONDS = 1.5
QUEUE_SIZE = 16
HEARTBEAT_SECONDS = 15.0  # a comment line, so proxies and browsers keep the stream open


def changes(before: Pulse | None, after: Pulse) -> dict[str, Any] | None:
    """What moved between two pulses (None when nothing did): the post count and newest
    time, and the incidents opened, changed (severity, scope, size) or closed."""
    if before == after:
        return None
    old = {i[0]: i for i in (before.incidents if before else ())}
    new = {i[0]: i for i in after.incidents}
    opened = [k for k in new if k not in old]
    closed = [k for k, v in new.items() if k in old and v[3] is not None and old[k][3] is None]
    changed = [k for k, v in new.items() if k in old and v != old[k] and k not in closed]
    return {
        "posts": after.posts,
        "last_post": after.last_post.isoformat() if after.last_post else None,
        "new_posts": after.posts - (before.posts if before else 0),
        "opened": opened,
        "changed": changed,
        "closed": closed,
        "open": [k for k, v in new.items() if v[3] is None],
    }


@dataclass
class LiveFeed:
    """Polls ``read`` (a blocking call, run on a worker thread) and fans changes out."""

    read: Callable[[], Pulse]
    interval: float = POLL_SECONDS
    queue_size: int = QUEUE_SIZE
    _watchers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    _task: asyncio.Task[None] | None = None
    _last: Pulse | None = None
    polls: int = 0
    failures: int = 0

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue of changes for one watcher; the poller starts with the first."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=self.queue_size)
        self._watchers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._watchers.discard(queue)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._watchers):
            if queue.full():  # a slow watcher: the newest summary replaces the oldest
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def _poll(self) -> None:
        while self._watchers:
            try:
                pulse = await anyio.to_thread.run_sync(self.read)
            except UproarError as exc:  # the store busy or lent for too long: try again later
                self.failures += 1
                self.publish({"error": exc.message})
                await asyncio.sleep(self.interval)
                continue
            self.polls += 1
            event = changes(self._last, pulse) if self._last is not None else None
            self._last = pulse
            if event is not None:
                self.publish(event)
            await asyncio.sleep(self.interval)


async def event_stream(
    feed: LiveFeed,
    is_disconnected: Callable[[], Any],
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[str]:
    """Server-sent events for one watcher: ``event: change`` with the JSON summary,
    ``event: problem`` when the store could not be read (``{"error": ...}``), and a comment
    every ``heartbeat`` seconds; ends when the client goes."""
    queue = feed.subscribe()
    try:
        yield "retry: 3000\n: connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except TimeoutError:
                if await is_disconnected():
                    return
                yield ": keep-alive\n\n"
                continue
            kind = "problem" if "error" in event else "change"
            yield f"event: {kind}\ndata: {json.dumps(event)}\n\n"
    finally:
        feed.unsubscribe(queue)
