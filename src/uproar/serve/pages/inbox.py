"""Inbox: the ranked queue per brand with drafted replies; responders approve (after any
edit) or skip a draft, and each decision is kept with who took it and when, in the
``reply_decisions`` table and the audit log. In a drill store an approved reply is also the
team's reply in the drill (``uproar.drill.record_response``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import anyio
import msgspec
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from uproar.drill import record_response
from uproar.errors import InputError
from uproar.serve.accounts import User, audit
from uproar.serve.auth import current_user, get_store, require_role
from uproar.serve.pages._common import cached, json_response, not_found, parse_time
from uproar.serve.render import render
from uproar.serve.views import InboxView, decide, inbox_view
from uproar.store import Store
from uproar.store.drill import load_drill_state as drill_state
from uproar.store.pages import DECISIONS, Decision, draft_posts

router = APIRouter(tags=["inbox"])

Brand = Annotated[str, Path(max_length=100, description="The brand's id.")]
Incident = Annotated[
    str | None, Query(max_length=200, description="Only the mentions in this incident.")
]
At = Annotated[str | None, Query(description="ISO 8601 'now' (default: the newest mention).")]
Limit = Annotated[int, Query(ge=1, le=100, description="Clusters shown.")]


@router.get("/inbox", response_class=HTMLResponse, summary="Pick a brand's inbox.")
def inbox_index(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    return render(request, "inbox_index.html.j2", {"brands": store.load_brands()})


def _view(
    request: Request, store: Store, brand: str, incident: str | None, at: str | None, limit: int
) -> InboxView:
    moment = parse_time(at)
    with not_found():
        built = cached(
            request,
            store,
            ("inbox", brand, incident, moment, limit),
            lambda: inbox_view(store, brand, incident=incident, now=moment, limit=limit).inbox,
            coarse=True,  # a queue that moves with every post could not be worked
        )
        return inbox_view(store, brand, incident=incident, built=built)


@router.get("/inbox/{brand}", response_class=HTMLResponse, summary="A brand's reply inbox.")
def inbox_page(
    request: Request,
    brand: Brand,
    store: Annotated[Store, Depends(get_store)],
    incident: Incident = None,
    at: At = None,
    limit: Limit = 20,
) -> Response:
    view = _view(request, store, brand, incident, at, limit)
    user = current_user(request)
    return render(request, "inbox.html.j2", {"view": view, "can_decide": user.can("responder")})


@router.get(
    "/api/inbox/{brand}",
    summary="A brand's inbox: ranked clusters with intents, drafts (lint findings, review "
    "reasons), response-time figures and the decisions taken on this inbox's drafts.",
    responses={404: {"description": "No such brand or incident; the known ones are named."}},
)
def inbox_api(
    request: Request,
    brand: Brand,
    store: Annotated[Store, Depends(get_store)],
    incident: Incident = None,
    at: At = None,
    limit: Limit = 20,
) -> Response:
    view = _view(request, store, brand, incident, at, limit)
    body = view.inbox.to_dict()
    body["drafted_at"] = view.drafted_at
    body["decisions"] = [view.decisions[k] for k in sorted(view.decisions)]
    return json_response(body)


def _decide(
    request: Request,
    store: Store,
    user: User,
    brand: str,
    drafted_at: str,
    cluster: int,
    action: str,
    text: str | None,
    incident: str | None,
) -> Decision:
    when = parse_time(drafted_at, field="drafted_at")
    if when is None:
        raise InputError("drafted_at is required", field="drafted_at")
    with not_found():
        store.require_brand(brand)
    now: datetime = request.app.state.clock()
    decision = decide(
        store,
        brand=brand,
        drafted_at=when,
        cluster=cluster,
        action=action,
        by=user.name,
        at=now,
        text=text,
        incident=incident or None,
    )
    if decision.action == "approve" and drill_state(store) is not None:
        _reply_in_drill(store, decision, user, now)
    audit(
        store,
        user,
        f"reply.{action}",
        f"{brand}/{incident or 'all'}/{when.isoformat()}#{cluster}",
        {"text": decision.text, "edited": decision.edited},
        now=now,
    )
    return decision


def _reply_in_drill(store: Store, decision: Decision, user: User, now: datetime) -> None:
    """In a drill store an approved reply is the team's reply to the cluster's first
    mention, linted and timed on the drill's clock like one posted on the Drill page."""
    posts = draft_posts(
        store,
        brand=decision.brand,
        drafted_at=decision.drafted_at,
        cluster=decision.cluster,
        incident=decision.incident,
    )
    record_response(
        store,
        decision.text,
        now=now,
        kind="reply",
        reply_to=posts[0] if posts else None,
        author=user.name,
    )


Action = Annotated[str, Form(pattern="^(" + "|".join(DECISIONS) + ")$")]


@router.post(
    "/inbox/{brand}/decide",
    response_class=HTMLResponse,
    summary="Approve (with the edited text) or skip a draft; responders and admins only.",
)
def inbox_decide(
    request: Request,
    brand: Brand,
    store: Annotated[Store, Depends(get_store)],
    user: Annotated[User, Depends(require_role("responder"))],
    drafted_at: Annotated[str, Form(max_length=64)],
    cluster: Annotated[int, Form(ge=1, le=1000)],
    action: Action,
    text: Annotated[str | None, Form(max_length=20_000)] = None,
    incident: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    decision = _decide(request, store, user, brand, drafted_at, cluster, action, text, incident)
    if request.headers.get("hx-request") == "true":
        return render(request, "_decision.html.j2", {"decision": decision, "brand": brand})
    return RedirectResponse(f"/inbox/{brand}#cluster-{cluster}", status_code=303)


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    drafted_at: str
    cluster: int
    action: str
    text: str | None = None
    incident: str | None = None  # the incident's inbox the draft belongs to, if any


@router.post(
    "/api/inbox/{brand}/decisions",
    summary="Approve or skip a draft (JSON: drafted_at, cluster, action, text); responders "
    "and admins only. Returns the decision as recorded.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": msgspec.json.schema(DecisionBody)}},
        }
    },
)
async def inbox_decide_api(
    request: Request,
    brand: Brand,
    store: Annotated[Store, Depends(get_store)],
    user: Annotated[User, Depends(require_role("responder"))],
) -> Response:
    try:
        body = msgspec.json.decode(await request.body(), type=DecisionBody)
    except msgspec.DecodeError as exc:
        raise InputError(f"bad decision body: {exc}", field="body") from None
    decision = await anyio.to_thread.run_sync(
        lambda: _decide(
            request,
            store,
            user,
            brand,
            body.drafted_at,
            body.cluster,
            body.action,
            body.text,
            body.incident,
        )
    )
    return json_response(decision, status=201)
