"""What the working pages (Now, Incident, Inbox, Composer) share: JSON for the API and for
data blocks in pages, times from the query string, unknown names as a loud 404, and a
small cache of views that lasts while the store does not change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import msgspec
from fastapi import HTTPException, Request
from markupsafe import Markup
from starlette.responses import Response

from uproar.errors import InputError, UnknownNameError
from uproar.store import Store
from uproar.store.pages import Pulse, pulse

_ENCODER = msgspec.json.Encoder()


def json_response(value: Any, *, status: int = 200) -> Response:
    """``value`` (a view: frozen dataclasses, datetimes, tuples) as a JSON response."""
    return Response(_ENCODER.encode(value), status_code=status, media_type="application/json")


def json_script(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and
    ``&`` are written as ``\\u003c`` etc., so no text in it (a hostile topic or region name)
    can close the element. The JSON itself is unchanged when parsed."""
    raw = _ENCODER.encode(value).decode("utf-8")
    safe = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def parse_time(value: str | None, *, field: str = "at") -> datetime | None:
    """An ISO 8601 time from the query string (UTC when it names no zone)."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value!r}", field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def not_found() -> Iterator[None]:
    """An unknown brand or incident id is a 404 whose message names the known ones."""
    try:
        yield
    except UnknownNameError as exc:
        # The CLI's message, less the flag it names ("(field '--brand')"): a page has none.
        raise HTTPException(404, exc.message.split(" (field ")[0]) from None


class ViewCache:
    """The last few views built, keyed by what was asked and the store's pulse: a view is
    rebuilt only when posts arrived or an incident changed since it was built (the Incident
    and Inbox views take seconds on a large incident; the pulse takes milliseconds).
    Requests that ask for a view being built wait for that build instead of starting their
    own (twenty people opening the same incident build it once)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: dict[tuple[Any, ...], Any] = {}
        self._building: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                return self._items[key]
            gate = self._building.setdefault(key, threading.Lock())
        with gate:  # one build per key at a time; the others find its result
            with self._lock:
                if key in self._items:
                    return self._items[key]
            try:
                value = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.pop(next(iter(self._items)))
            return value


# A slow view (the Incident page reads the whole incident) is rebuilt when the incidents
# change or after this many new posts, not on every post a live watch stores.
COARSE_POSTS = 1_000
# The pulse itself (2 ms of CPU at a million posts: most of a cached page's cost) is read at
# most this often; the live feed hands on each pulse it reads, so a page fetched because of
# an event is never built from a pulse older than the event.
PULSE_SECONDS = 0.5


def current_pulse(state: Any, store: Store) -> Pulse:
    """The store's pulse, read again when the last one is ``PULSE_SECONDS`` old."""
    seen: tuple[float, Pulse] | None = getattr(state, "pulse_seen", None)
    now = time.monotonic()
    if seen is not None and now - seen[0] < PULSE_SECONDS:
        return seen[1]
    fresh = pulse(store)
    note_pulse(state, fresh, at=now)
    return fresh


def note_pulse(state: Any, fresh: Pulse, *, at: float | None = None) -> None:
    """Keep ``fresh`` as the app's latest pulse (read by the live feed or a page)."""
    state.pulse_seen = (time.monotonic() if at is None else at, fresh)


def cached(
    request: Request,
    store: Store,
    key: tuple[Any, ...],
    build: Callable[[], Any],
    *,
    coarse: bool = False,
) -> Any:
    """``build()``, or the view built for ``key`` while the store's pulse was the same
    (``coarse``: while the incidents are the same and fewer than ``COARSE_POSTS`` posts
    arrived)."""
    state = request.app.state
    cache: ViewCache | None = getattr(state, "view_cache", None)
    if cache is None:
        cache = state.view_cache = ViewCache()
    now = current_pulse(state, store)
    version: tuple[Any, ...] = (now.incidents, now.posts // COARSE_POSTS) if coarse else (now,)
    return cache.get((*key, *version), build)
