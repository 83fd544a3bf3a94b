"""Now: every brand against its usual range, open incidents, rumours, the verdict; the live
stream of changes (``/events``) that keeps the page current."""

from __future__ import annotations

import time
from typing import Annotated

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from uproar.drill import advance
from uproar.serve.auth import get_store
from uproar.serve.lease import StoreLease
from uproar.serve.live import LiveFeed, event_stream
from uproar.serve.pages._common import (
    cached,
    json_response,
    json_script,
    note_pulse,
    parse_time,
)
from uproar.serve.render import render
from uproar.serve.views import now_view
from uproar.serve.views.now import NowView, WatchLag, watch_lag
from uproar.store import Store
from uproar.store.drill import load_drill_state
from uproar.store.pages import Pulse, pulse

router = APIRouter(tags=["now"])

At = Annotated[
    str | None,
    Query(description="ISO 8601 time to show the dashboard at (default: the newest post)."),
]
Hours = Annotated[float, Query(gt=0, le=168, description="Hours of history shown.")]
Wall = Annotated[bool, Query(description="Large type for a shared wall screen.")]
# The watch reports every 10 s; its lag is read at most this often (a query when no status
# file is beside the store: most of a cached Now page's cost under load).
LAG_READ_EVERY_S = 1.0


def _watch_lag(request: Request, store: Store) -> WatchLag | None:
    """The watch's lag, read again once ``LAG_READ_EVERY_S`` has passed (it moves without
    the store's pulse, so the view cache cannot keep it)."""
    state = request.app.state
    read: tuple[float, WatchLag | None] | None = getattr(state, "watch_lag_read", None)
    if read is None or time.monotonic() - read[0] >= LAG_READ_EVERY_S:
        read = state.watch_lag_read = (time.monotonic(), watch_lag(store, now=state.clock()))
    return read[1]


def _view(request: Request, store: Store, at: str | None, hours: float) -> NowView:
    """The Now view at ``at`` (default: the newest post), kept while the store is unchanged."""
    moment = parse_time(at)
    view: NowView = cached(request, store, ("now", moment, hours),
                           lambda: now_view(store, moment, hours=hours))  # fmt: skip
    return view


def _context(
    request: Request, store: Store, at: str | None, hours: float, wall: bool
) -> dict[str, object]:
    view = _view(request, store, at, hours)
    lag = _watch_lag(request, store)
    return {
        "view": view,
        "chart": json_script(view.chart),
        "wall": wall,
        "at": at or "",
        "watch": lag,
    }


@router.get("/now", response_class=HTMLResponse, summary="The Now page.")
def now_page(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    at: At = None,
    hours: Hours = 6.0,
    wall: Wall = False,
) -> Response:
    return render(request, "now.html.j2", _context(request, store, at, hours, wall))


@router.get("/now/panel", response_class=HTMLResponse, summary="The Now page's live panel.")
def now_panel(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    at: At = None,
    hours: Hours = 6.0,
    wall: Wall = False,
) -> Response:
    return render(request, "_now_panel.html.j2", _context(request, store, at, hours, wall))


@router.get(
    "/api/now",
    summary="What the Now page shows: brands, incidents, rumours, the chart spec and the "
    "watch's lag.",
    response_description="The NowView as JSON (times in ISO 8601 UTC), with ``watch``: what "
    "`uproar watch` last reported on this store (null when none ever ran).",
)
def now_api(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    at: At = None,
    hours: Hours = 6.0,
) -> Response:
    body = msgspec.to_builtins(_view(request, store, at, hours))
    body["watch"] = msgspec.to_builtins(_watch_lag(request, store))
    return json_response(body)


def feed_of(request: Request) -> LiveFeed:
    """The app's one live feed, made on first use: it reads the pulse through the lease, so
    it holds the file only for the moment of each read."""
    state = request.app.state
    feed: LiveFeed | None = getattr(state, "live_feed", None)
    if feed is None:
        lease: StoreLease = state.lease

        def read() -> Pulse:
            with lease.store() as store:
                if load_drill_state(store) is not None:  # a drill's clock releases its posts
                    advance(store, now=state.clock())
                fresh = pulse(store)
            note_pulse(state, fresh)  # pages built after the event see at least this
            return fresh

        feed = LiveFeed(read)
        state.live_feed = feed
    return feed


# Not in the OpenAPI spec: a stream that never ends is no request/response operation, and a
# spec-driven client (schemathesis) would wait on it forever. Described in the README.
@router.get("/events", include_in_schema=False)
async def events(request: Request) -> StreamingResponse:
    """Server-sent events: ``change`` whenever posts arrive or incidents open, change or
    close (a JSON summary), ``problem`` when the store cannot be read, and a comment line
    every 15 s that keeps the stream open."""
    feed = feed_of(request)
    return StreamingResponse(
        event_stream(feed, request.is_disconnected),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
