"""``uproar serve``: the team's dashboard (FastAPI, server-rendered Jinja pages, JSON API).

Extension points (for the pages that build on this core):

- ``create_app(db, *, store=None, config=None, memory_limit=None, clock=..., login_limiter=None)``
  (``serve/app.py``) assembles the app. ``app.state`` holds ``lease`` (the store, see
  ``serve/lease.py``), ``sessions``, ``templates``, ``config`` (watch.toml or None) and
  ``clock`` (``app.state.clock()`` is "now", UTC; pass it on, never call ``datetime.now``).
- Pages: one module per page in ``serve/pages/``, each with ``router = APIRouter(...)``;
  add it to ``ROUTERS`` in ``serve/pages/__init__.py`` (one line). The nav (``render.NAV``)
  already links Now ``/now``, Incidents ``/incidents``, Inbox ``/inbox``, Composer
  ``/composer``, Search ``/search`` and Settings ``/settings``; a link 404s until its page
  lands. ``/`` redirects to the first nav page that exists.
- Dependencies (``serve/auth.py``): ``current_user`` (a ``User(name, role)``),
  ``require_role("viewer"|"responder"|"admin")`` (403 below it), ``get_store`` (a ``Store``
  on this request's own cursor: pass it to ``store/<stage>.py`` functions) and
  ``csrf_token(request)``. Every route is closed without a session or API token (the
  ``AuthGate`` middleware: 401 JSON or a 303 to ``/login``) except ``/health``, ``/login``
  and ``/static/``; every POST/PUT/PATCH/DELETE with the session cookie needs the CSRF token
  (form field ``csrf_token`` or header ``X-CSRF-Token``; pages get ``{{ csrf_token }}`` and
  a ``<meta name="csrf-token">`` for scripts, e.g. htmx's ``hx-headers``).
- Templates (``serve/templates/``, autoescaped): extend ``base.html.j2`` (blocks ``title``,
  ``head``, ``body_class``, ``main``, ``scripts``); ``render(request, "x.html.j2", {...})``
  (``serve/render.py``) adds ``user``, ``csrf_token``, ``nav`` and ``path``. Post links go
  through ``{% from "_macros.html.j2" import link %}{{ link(url) }}`` (the ``safe_href``
  filter: only http/https become hrefs). No inline ``<script>``/``style=``/``on*=``: the CSP
  forbids them; put JS and CSS under ``serve/static/`` (served at ``/static/``).
- The CSP and the other security headers are added to every response by middleware.
  htmx: ``base.html.j2`` already sends the CSRF header on every htmx request (``hx-headers``
  on ``<body>``) and turns off htmx's inline indicator styles (``htmx-config`` meta). Vega:
  the CSP has no 'unsafe-eval', so embed with the CSP-safe interpreter (vendor
  ``vega-interpreter``; ``vegaEmbed(el, spec, {ast: true, expr: vegaInterpreter,
  defaultStyle: false, actions: false})``).
- Long-lived responses (SSE): take the store per poll (``with request.app.state.lease.store()
  as store: ...``), not through ``Depends(get_store)`` for the whole stream, so that the
  dashboard can lend the file to a command or a listener between polls.
- ``accounts.audit(store, user, action, subject, detail, now=...)`` records who did what
  (e.g. ``"reply.approve"``, ``"reply.edit"``); Settings shows the log to admins.
- Errors: raise ``fastapi.HTTPException`` or a ``UproarError`` (an ``InputError`` is a
  400); they render as ``{"ok": false, "error": ..., "status": N}`` for the API and as an
  error page for a browser.
"""

from __future__ import annotations

from uproar.serve.app import create_app

__all__ = ["create_app"]
