"""Composer: write an update or a reply and see the linter's findings highlighted as you
type, its length on every platform, and the thread it needs on each."""

from __future__ import annotations

from typing import Annotated

import anyio
import msgspec
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, Response

from uproar.errors import InputError
from uproar.respond.lint.rules import DRAFT_KINDS
from uproar.serve.auth import get_store
from uproar.serve.pages._common import json_response
from uproar.serve.render import render
from uproar.serve.views import composer_view
from uproar.serve.views.composer import MAX_DRAFT
from uproar.store import Store
from uproar.store.drill import load_drill_state

router = APIRouter(tags=["composer"])


@router.get("/composer", response_class=HTMLResponse, summary="The Composer page.")
def composer_page(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    text: Annotated[str, Query(max_length=MAX_DRAFT, description="A draft to start from.")] = "",
) -> Response:
    return render(
        request,
        "composer.html.j2",
        {
            "text": text,
            "kinds": DRAFT_KINDS,
            "view": composer_view(text) if text else None,
            # in a drill store the draft can be posted as the team's (uproar.drill)
            "drill": load_drill_state(store) is not None,
        },
    )


class DraftBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    kind: str | None = None  # update | resolved | reply; guessed when absent


@router.post(
    "/api/composer",
    summary="Lint a draft: findings as character spans (code points and UTF-16 units), its "
    "length on X, Mastodon, Bluesky and Facebook, and the thread it needs on each.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": msgspec.json.schema(DraftBody)}},
        }
    },
)
async def composer_api(request: Request) -> Response:
    try:
        body = msgspec.json.decode(await request.body(), type=DraftBody)
    except msgspec.DecodeError as exc:
        raise InputError(f"bad draft body: {exc}", field="body") from None
    if body.kind is not None and body.kind not in DRAFT_KINDS:
        raise InputError(
            f"kind must be one of {', '.join(DRAFT_KINDS)}, not {body.kind!r}", field="kind"
        )
    view = await anyio.to_thread.run_sync(lambda: composer_view(body.text, kind=body.kind))
    return json_response(view.to_dict())
