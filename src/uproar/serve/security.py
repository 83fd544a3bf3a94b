"""Request protection: signed session cookies, CSRF tokens, the security headers on every
response, and the gate that turns away requests without an account.

- Session: a cookie signed with the store's secret (itsdangerous), HttpOnly, SameSite=Lax,
  Secure when the request came over https; it holds the account name and a random nonce,
  never a role (the role is read from the store on every request, so a change or a removal
  takes effect at once). It lasts ``SESSION_SECONDS``.
- CSRF: the token is an HMAC of the session's nonce (OWASP's "signed double-submit cookie"),
  sent back in the form field ``csrf_token`` or the ``X-CSRF-Token`` header. Every POST, PUT,
  PATCH and DELETE that carries the session cookie must have it. A request with a bearer token
  and no cookie is exempt: a browser never adds an Authorization header by itself.
- Headers: a Content-Security-Policy with no inline script or style on every response, plus
  X-Content-Type-Options, Referrer-Policy and X-Frame-Options.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "uproar_session"
SESSION_SECONDS = 12 * 3600  # one working shift
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


@dataclass(frozen=True, slots=True)
class Session:
    """What the session cookie says: who (None: not signed in yet) and its CSRF nonce."""

    user: str | None
    nonce: str


class Sessions:
    """Signs and reads session cookies, and derives their CSRF tokens."""

    def __init__(self, secret: str, *, max_age: int = SESSION_SECONDS) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="uproar.session")
        self._key = hashlib.sha256(f"uproar.csrf:{secret}".encode()).digest()
        self.max_age = max_age

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data: Any = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        user = data.get("u")
        return Session(user if isinstance(user, str) else None, data["n"])

    def new(self, user: str | None) -> tuple[Session, str]:
        """A fresh session (a new nonce: log-in never keeps the anonymous one) and its cookie."""
        session = Session(user, secrets.token_urlsafe(18))
        return session, self._signer.dumps({"u": user, "n": session.nonce})

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)


def cookie_header(value: str, *, secure: bool, max_age: int) -> str:
    parts = [
        f"{SESSION_COOKIE}={value}",
        "Path=/",
        f"Max-Age={max_age}",
        "HttpOnly",
        "SameSite=Lax",
    ]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (HTML, JSON, static files,
    errors) unless the app set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
