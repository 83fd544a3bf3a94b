"""Search: full-text search over posts with filters (page and JSON API)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from uproar.serve.accounts import User
from uproar.serve.auth import get_store, require_role
from uproar.serve.pages._common import cached
from uproar.serve.render import render
from uproar.serve.search import MAX_PAGE, SearchPage, check_query, filter_choices, run_search
from uproar.store import Store

router = APIRouter(tags=["search"])


class SearchParams:
    """The query string both the page and the API take."""

    def __init__(
        self,
        q: Annotated[
            str, Query(max_length=500, description='Words or "phrases"; all must occur.')
        ] = "",
        brand: Annotated[str | None, Query(max_length=100)] = None,
        since: Annotated[
            str | None, Query(max_length=40, description="UTC time, ISO 8601.")
        ] = None,
        until: Annotated[
            str | None, Query(max_length=40, description="UTC time, ISO 8601.")
        ] = None,
        platform: Annotated[str | None, Query(max_length=40)] = None,
        sentiment: Annotated[str | None, Query(max_length=20)] = None,
        topic: Annotated[str | None, Query(max_length=100)] = None,
        intent: Annotated[str | None, Query(max_length=40)] = None,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    ) -> None:
        self.values: dict[str, Any] = {
            "q": q, "brand": brand, "since": since, "until": until, "platform": platform,
            "sentiment": sentiment, "topic": topic, "intent": intent, "page": page,
        }  # fmt: skip


def _search(request: Request, store: Store, params: SearchParams) -> SearchPage:
    """The page of results, kept while the store's pulse is the same (the same search by
    the rest of the team, or the page reloaded, is not run again)."""
    key = ("search", *sorted(params.values.items()))
    page: SearchPage = cached(
        request, store, key, lambda: run_search(store, check_query(store, **params.values))
    )
    return page


@router.get("/api/search", tags=["api"], summary="Search posts (JSON).")
def api_search(
    request: Request,
    params: Annotated[SearchParams, Depends()],
    store: Annotated[Store, Depends(get_store)],
    user: Annotated[User, Depends(require_role("viewer"))],
) -> dict[str, Any]:
    return _search(request, store, params).as_json()


@router.get("/search", response_class=HTMLResponse, summary="The Search page.")
def search_page(
    request: Request,
    params: Annotated[SearchParams, Depends()],
    store: Annotated[Store, Depends(get_store)],
    user: Annotated[User, Depends(require_role("viewer"))],
) -> HTMLResponse:
    values = params.values
    searched = any(v for k, v in values.items() if k != "page")
    result = _search(request, store, params) if searched else None

    def page_link(page: int) -> str:
        kept = {k: v for k, v in values.items() if v and k != "page"}
        return "/search?" + urlencode({**kept, "page": page})

    return render(
        request,
        "search.html.j2",
        {
            "values": values,
            "choices": cached(request, store, ("search-choices",), lambda: filter_choices(store)),
            "result": result,
            "prev_link": page_link(values["page"] - 1) if values["page"] > 1 else None,
            "next_link": page_link(values["page"] + 1) if result and result.has_next else None,
        },
    )
