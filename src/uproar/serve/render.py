"""Rendering pages: one Jinja environment (autoescape on for every template), the filters
that keep hostile post text inert, and ``render`` which every page calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse

from uproar.serve.auth import csrf_token

# The nav, in order: (label, path). Pages that are not built yet 404 until their router lands.
NAV: tuple[tuple[str, str], ...] = (
    ("Now", "/now"),
    ("Incidents", "/incidents"),
    ("Inbox", "/inbox"),
    ("Composer", "/composer"),
    ("Drill", "/drill"),
    ("Search", "/search"),
    ("Settings", "/settings"),
)

_LINK_SCHEMES = frozenset({"http", "https"})


def safe_href(url: object) -> str | None:
    """``url`` if it may become a link (an absolute http or https URL with a host and no
    whitespace or control characters), else None: ``javascript:``, ``data:``,
    ``vbscript:`` and anything odd stay text."""
    if not isinstance(url, str) or not url or any(c <= " " or c == "\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.netloc:
        return None
    return url


def when(value: object) -> str:
    """A UTC time as the pages show it."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return "" if value is None else str(value)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("uproar.serve", "templates"),
        autoescape=True,  # every template, whatever its name
        auto_reload=False,  # packaged templates: no stat of each file on every render
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_href"] = safe_href
    env.filters["when"] = when
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render ``serve/templates/<template>`` with the page's common context (``user``,
    ``csrf_token``, ``nav``, ``path``) and ``context`` on top. The security headers (CSP) are
    added to every response by the app's middleware, so pages need no nonce."""
    env: jinja2.Environment = request.app.state.templates
    base = {
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "nav": NAV,
        "path": request.url.path,
    }
    html = env.get_template(template).render({**base, **(context or {})})
    return HTMLResponse(html, status_code=status)
