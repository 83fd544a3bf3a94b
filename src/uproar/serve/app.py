"""``create_app``: the dashboard as a FastAPI application (the one place it is assembled)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from uproar import __version__
from uproar.errors import InputError, StoreLockedError, UproarError
from uproar.serve import accounts
from uproar.serve.accounts import LoginLimiter
from uproar.serve.auth import AuthGate, csrf_protect, error_body, wants_html
from uproar.serve.lease import StoreLease
from uproar.serve.render import NAV, environment, render
from uproar.serve.security import SecurityHeaders, Sessions
from uproar.store import Store, search_index

Clock = Callable[[], datetime]
# Requests served at once on worker threads (the pages' own work: queries, rendering).
REQUEST_THREADS = 4

_TITLES = {400: "Bad request", 401: "Not logged in", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 422: "Bad request", 429: "Too many tries",
           500: "Server error", 503: "Store busy"}  # fmt: skip


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    db: Path | str | None = None,
    *,
    store: Store | None = None,
    config: Path | None = None,
    memory_limit: str | None = None,
    clock: Clock = _utcnow,
    login_limiter: LoginLimiter | None = None,
) -> FastAPI:
    """The dashboard over the store file ``db`` (or an already open ``store``, which the
    caller keeps owning). ``config`` is the watch.toml whose alert channels Settings shows;
    ``clock`` gives "now" (the audit log's times); ``login_limiter`` the log-in throttle."""
    from uproar.serve.pages import ROUTERS
    from uproar.serve.settings import alert_channels

    alert_channels(config)  # a missing or broken watch.toml fails now, not on Settings
    lease = StoreLease(db, store=store, memory_limit=memory_limit)
    with lease.store() as s:
        sessions = Sessions(accounts.session_secret(s))
        # Search's word index takes in the posts stored since it last ran (all of them in a
        # store made before it: about 12 s of CPU a million posts, once), so that the first
        # search does not wait for it; it stops early if a watch asks for the file.
        search_index.index_posts(s, stop=s.wanted)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests beyond these wait their turn in order (anyio's limiter is FIFO): more
        # threads than cores only fight over the GIL, and the unlucky request waits longest.
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        lease.start()
        try:
            yield
        finally:
            lease.close()

    app = FastAPI(
        title="Uproar",
        version=__version__,
        summary="Social-media incident command: the team's dashboard and its JSON API.",
        docs_url=None,  # Swagger UI loads scripts from a CDN and inline: the CSP forbids both
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.lease = lease
    app.state.sessions = sessions
    app.state.templates = environment()
    app.state.config = config
    app.state.clock = clock
    app.state.login_limiter = login_limiter or LoginLimiter()
    app.state.started = time.monotonic()

    static = resources.files("uproar.serve").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/health", tags=["meta"], summary="Liveness: 200 without a session, no data.")
    def health() -> dict[str, bool]:
        return {"ok": True}

    for router in ROUTERS:
        app.include_router(router)

    routed = {path for path, _ in route_table(app)}
    home = next((href for _, href in NAV if href in routed), "/settings")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse(home, status_code=303)

    _error_handlers(app)
    # Outermost first: headers go on everything, the gate's refusals included.
    app.add_middleware(AuthGate, lease=lease, sessions=sessions)
    app.add_middleware(SecurityHeaders)
    return app


def route_table(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Every route's path and methods, those of included routers too (FastAPI keeps an
    included router as one lazy entry of ``app.routes``)."""
    table: list[tuple[str, frozenset[str]]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            table.extend((c.path, frozenset(c.methods or ())) for c in contexts())
        elif hasattr(route, "path"):
            table.append((route.path, frozenset(getattr(route, "methods", None) or ())))
    return table


def error_response(request: Request, status: int, message: str, headers: Any = None) -> Response:
    """An error as JSON (``{"ok": false, "error": ..., "status": N}``) or, for a browser
    asking for a page, as a page."""
    if wants_html(request.headers, request.url.path):
        response: Response = render(
            request,
            "error.html.j2",
            {"status": status, "title": _TITLES.get(status, "Error"), "message": message},
            status=status,
        )
    else:
        response = JSONResponse(error_body(message, status), status_code=status)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error_response(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(StoreLockedError)
    async def busy(request: Request, exc: StoreLockedError) -> Response:
        return error_response(request, 503, exc.message, {"retry-after": "5"})

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> Response:
        return error_response(request, 400, exc.message)

    @app.exception_handler(UproarError)
    async def failed(request: Request, exc: UproarError) -> Response:
        return error_response(request, 500, exc.message)


__all__ = ["create_app", "error_response", "route_table"]
