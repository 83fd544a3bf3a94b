"""Drill: a replayed incident worked from the dashboard (``uproar drill SCENARIO
--start-only --db drill.duckdb``, then ``uproar serve --db drill.duckdb``).

Each visit moves the drill's clock on (``uproar.drill.advance``): the posts it has reached
appear on Now, Inbox and here. Responders post the team's updates and replies here (linted
at once and timed on the drill's clock), pause and resume it, and read the debrief, which
scores the play so far beside the brand's real play and the best play.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from uproar.drill import session as drill
from uproar.respond.lint.rules import DRAFT_KINDS
from uproar.serve.accounts import User, audit
from uproar.serve.auth import get_store, require_role
from uproar.serve.pages._common import json_response
from uproar.serve.render import render
from uproar.store import Store
from uproar.store import drill as q

router = APIRouter(tags=["drill"])
SHOWN = 30  # posts of the last drill hour shown beside the form


def _require_drill(store: Store) -> str:
    """The store's drill id; a 404 that says how to start one where there is none."""
    state = q.load_drill_state(store)
    if state is None:
        raise HTTPException(
            404,
            "this store holds no drill: start one with "
            "`uproar drill SCENARIO --start-only --db FILE`, then serve that file",
        )
    return str(state["id"])


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


@router.get("/drill", response_class=HTMLResponse, summary="The drill under way: its clock, "
            "the posts it has released, the team's posts so far and the form to post.")  # fmt: skip
def drill_page(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    drill_id = _require_drill(store)
    step = drill.advance(store, now=_now(request))
    at = step.clock.now
    posts = q.released_posts(store, since=at - timedelta(hours=1), until=at, limit=10_000)
    return render(
        request,
        "drill.html.j2",
        {
            "clock": step.clock,
            "posts": list(reversed(posts))[:SHOWN],
            "responses": q.load_responses(store, drill_id),
            "kinds": DRAFT_KINDS,
        },
    )


@router.get("/api/drill", summary="The drill's clock and the team's posts so far.")
def drill_api(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    drill_id = _require_drill(store)
    step = drill.advance(store, now=_now(request))
    return json_response({"clock": step.clock, "responses": q.load_responses(store, drill_id)})


Kind = Annotated[str, Form(pattern="^(|" + "|".join(DRAFT_KINDS) + ")$")]


@router.post("/drill/respond", response_class=HTMLResponse,
             summary="Post the team's update or reply at the drill's clock (linted at once); "
             "responders and admins only.")  # fmt: skip
def drill_respond(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    user: Annotated[User, Depends(require_role("responder"))],
    text: Annotated[str, Form(min_length=1, max_length=5000)],
    kind: Kind = "",
    reply_to: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    _require_drill(store)
    now = _now(request)
    drill.advance(store, now=now)
    posted = drill.record_response(
        store, text, now=now, kind=kind or None, reply_to=reply_to or None, author=user.name
    )
    audit(store, user, "drill.respond", f"{posted.kind} #{posted.n}", {"text": text}, now=now)
    return RedirectResponse("/drill", status_code=303)


@router.post("/drill/{action}", response_class=HTMLResponse,
             summary="Pause or resume the drill's clock; responders and admins only.")  # fmt: skip
def drill_clock(
    request: Request,
    action: str,
    store: Annotated[Store, Depends(get_store)],
    user: Annotated[User, Depends(require_role("responder"))],
) -> Response:
    _require_drill(store)
    if action not in ("pause", "resume"):
        raise HTTPException(404, f"no drill action {action!r}: pause or resume")
    now = _now(request)
    (drill.pause if action == "pause" else drill.resume)(store, now=now)
    audit(store, user, f"drill.{action}", None, None, now=now)
    return RedirectResponse("/drill", status_code=303)


@router.get("/drill/debrief", response_class=HTMLResponse,
            summary="The debrief so far: the team's score and each measure, beside the "
            "brand's real play and the best play.")  # fmt: skip
def drill_debrief(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    _require_drill(store)
    return render(
        request, "drill_debrief.html.j2", {"debrief": drill.score(store, now=_now(request))}
    )
