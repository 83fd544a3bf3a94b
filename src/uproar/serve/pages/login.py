"""Log-in and log-out. Failed log-ins are throttled per account and per client address."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from uproar.serve import accounts
from uproar.serve.accounts import LoginLimiter, User
from uproar.serve.auth import current_user, session_of
from uproar.serve.render import render
from uproar.serve.security import SESSION_COOKIE, Sessions, cookie_header

router = APIRouter(tags=["session"])


def _safe_next(target: str | None) -> str:
    """Where to go after log-in: a path on this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _new_session(request: Request, user: str | None) -> str:
    """A fresh session for this request (its CSRF token follows); returns the Set-Cookie
    value that gives it to the browser."""
    sessions: Sessions = request.app.state.sessions
    session, cookie = sessions.new(user)
    request.state.session = session
    return cookie_header(cookie, secure=request.url.scheme == "https", max_age=sessions.max_age)


@router.get("/login", summary="The log-in page.", response_class=Response)
def login_page(request: Request, next: str | None = None) -> Response:
    if getattr(request.state, "user", None) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    # The form's CSRF token needs a session to belong to.
    cookie = _new_session(request, None) if session_of(request) is None else None
    page = render(request, "login.html.j2", {"next": _safe_next(next), "error": "", "name": ""})
    if cookie is not None:
        page.headers.append("set-cookie", cookie)
    return page


@router.post("/login", summary="Log in with an account name and password.",
             response_class=Response)  # fmt: skip
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    limiter: LoginLimiter = request.app.state.login_limiter
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{name}", f"addr:{client}")
    wait = limiter.retry_after(*keys)
    if wait:
        raise HTTPException(
            429,
            f"too many failed log-ins; try again in {wait} s",
            headers={"retry-after": str(wait)},
        )

    def check() -> User | None:
        with request.app.state.lease.store() as store:
            user = accounts.authenticate(store, name, password)
            if user is not None:
                now = request.app.state.clock()
                accounts.audit(store, user, "session.login", None, {"address": client}, now=now)
            return user

    user = await anyio.to_thread.run_sync(check)
    if user is None:
        limiter.failed(*keys)
        return render(
            request,
            "login.html.j2",
            {"next": _safe_next(next), "error": "Wrong account name or password.", "name": name},
            status=401,
        )
    limiter.succeeded(keys[0])
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.headers.append("set-cookie", _new_session(request, user.name))
    return response


@router.post("/logout", summary="Log out.", response_class=Response)
def logout(request: Request) -> Response:
    current_user(request)
    response = RedirectResponse("/login", status_code=303)
    response.headers.append(
        "set-cookie",
        f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
    )
    return response


@router.get("/api/me", tags=["api"], summary="The account making the request.")
def me(request: Request) -> dict[str, str]:
    user = current_user(request)
    return {"name": user.name, "role": user.role}
