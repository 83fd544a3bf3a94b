"""Who is asking: the gate in front of every route, and the FastAPI dependencies pages use.

The gate (``AuthGate``) runs before routing, so a route added later is closed by default:
without a session or an API token, a request gets 401 (JSON, for ``/api/...``, API clients
and anything that does not ask for HTML) or a 303 redirect to ``/login`` (a browser asking
for a page). Only ``PUBLIC_PATHS`` and ``/static/`` are open.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from uproar.errors import StoreLockedError
from uproar.serve import accounts
from uproar.serve.accounts import Role, User
from uproar.serve.lease import StoreLease
from uproar.serve.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    Session,
    Sessions,
)
from uproar.store import Store

PUBLIC_PATHS = frozenset({"/health", "/login"})
PUBLIC_PREFIXES = ("/static/",)
# An account found is trusted for this long before it is looked up again: the lookup (a
# thread hop and a query) was a quarter of a cached page's CPU. A change made through this
# process (the Settings page) is seen at once; one made by another process (`uproar users`)
# within this time. A token or name not found is looked up every time.
LOOKUP_TTL_S = 2.0
LOOKUPS_KEPT = 4096


def error_body(message: str, status: int) -> dict[str, Any]:
    """Every JSON error has this shape (as the CLI's ``--json`` errors do)."""
    return {"ok": False, "error": message, "status": status}


def wants_html(headers: Headers, path: str) -> bool:
    """A browser asking for a page (not the API, not a script with a token)."""
    if path.startswith("/api/") or path == "/openapi.json" or "authorization" in headers:
        return False
    return "text/html" in headers.get("accept", "")


def _cookie(headers: Headers) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no session, never a 500
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def _bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _same_origin(headers: Headers) -> bool:
    """A WebSocket handshake from a page of this site (browsers always send Origin)."""
    origin = headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == headers.get("host")


class AuthGate:
    """ASGI middleware: reads the session cookie or bearer token, looks the account up, puts
    ``user``, ``session`` and ``via_token`` on ``request.state``, and turns away requests
    for anything but public paths without an account (a WebSocket is closed, code 1008)."""

    def __init__(self, app: ASGIApp, *, lease: StoreLease, sessions: Sessions) -> None:
        self.app, self.lease, self.sessions = app, lease, sessions
        # (kind, token or name) -> (account, until when, accounts.changes() then)
        self._found: dict[tuple[str, str], tuple[User, float, int]] = {}

    def _lookup(self, token: str | None, session: Session | None) -> User | None:
        with self.lease.store() as store:
            if token is not None:
                return accounts.token_user(store, token)
            if session is not None and session.user is not None:
                return accounts.user(store, session.user)
        return None

    def _recent(self, key: tuple[str, str]) -> User | None:
        hit = self._found.get(key)
        if hit is None or hit[1] < time.monotonic() or hit[2] != accounts.changes():
            return None
        return hit[0]

    def _remember(self, key: tuple[str, str], user: User) -> None:
        if len(self._found) >= LOOKUPS_KEPT:
            self._found.clear()
        self._found[key] = (user, time.monotonic() + LOOKUP_TTL_S, accounts.changes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        session = self.sessions.read(_cookie(headers))
        token = _bearer(headers)
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        user = None
        key: tuple[str, str] | None = None
        if token is not None:
            key = ("token", token)
        elif session is not None and session.user is not None:
            key = ("user", session.user)
        if key is not None and (user := self._recent(key)) is None:
            try:
                user = await anyio.to_thread.run_sync(self._lookup, token, session)
            except StoreLockedError as exc:  # as the routes answer it: busy, try again
                busy = JSONResponse(error_body(exc.message, 503), status_code=503)
                busy.headers["retry-after"] = "5"
                await busy(scope, receive, send)
                return
            if user is not None:
                self._remember(key, user)
        state = scope.setdefault("state", {})
        state.update(user=user, session=session, via_token=token is not None and user is not None)
        if scope["type"] == "websocket" and (
            (user is None and not public) or not (token or _same_origin(headers))
        ):
            # No account, or a browser's cookie sent from another site's page (a WebSocket
            # handshake is not covered by CSRF tokens): policy violation.
            await send({"type": "websocket.close", "code": 1008})
            return
        if user is None and not public:
            response: Response
            if wants_html(headers, path):
                target = path + (
                    f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
                )
                response = RedirectResponse(
                    f"/login?next={quote(target, safe='')}", status_code=303
                )
            else:
                message = "invalid API token" if token else "log in, or send an API token"
                response = JSONResponse(error_body(message, 401), status_code=401)
                response.headers["www-authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# -- dependencies ------------------------------------------------------------------------
def current_user(request: Request) -> User:
    """The signed-in account (the gate has already turned away everyone else)."""
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        raise HTTPException(401, "log in, or send an API token")
    return user


def require_role(role: Role) -> Callable[[Request], User]:
    """A dependency that lets through accounts with ``role`` or a higher one (403 else):
    ``user: User = Depends(require_role("responder"))``."""
    accounts.check_role(role)

    def dependency(request: Request) -> User:
        user = current_user(request)
        if not user.can(role):
            raise HTTPException(403, f"this needs the {role} role; {user.name} is a {user.role}")
        return user

    return dependency


async def get_store(request: Request) -> AsyncIterator[Store]:
    """The store for this request (its own cursor): ``store: Store = Depends(get_store)``.
    Async, so that taking and closing a cursor costs no trip to a worker thread; only
    opening the file (it may wait on another process) goes to one."""
    lease: StoreLease = request.app.state.lease
    store = lease.try_borrow()
    if store is None:
        store = await anyio.to_thread.run_sync(lease.borrow)
    try:
        yield store
    finally:
        lease.give_back(store, lend=False)


def session_of(request: Request) -> Session | None:
    return getattr(request.state, "session", None)


def csrf_token(request: Request) -> str:
    """The CSRF token for this request's session, for forms (``{{ csrf_token }}`` is in
    every template's context) and for scripts (the ``csrf-token`` meta tag). Empty without
    a session: the page must set one first (the log-in page does)."""
    sessions: Sessions = request.app.state.sessions
    session = session_of(request)
    return sessions.csrf_token(session) if session is not None else ""


async def csrf_protect(connection: HTTPConnection) -> None:
    """Applied to every route by the app: a state-changing request that carries the session
    cookie must carry its CSRF token too (form field ``csrf_token`` or ``X-CSRF-Token``).
    (A WebSocket's handshake is checked by the gate: same origin only.)"""
    if not isinstance(connection, Request) or connection.method not in UNSAFE_METHODS:
        return
    request = connection
    if request.state.via_token and SESSION_COOKIE not in request.cookies:
        return  # an API client with a token: no cookie a browser could send by itself
    token = request.headers.get(CSRF_HEADER)
    if not token and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    sessions: Sessions = request.app.state.sessions
    if not sessions.csrf_ok(session_of(request), token):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
