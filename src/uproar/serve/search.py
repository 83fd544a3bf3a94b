"""The Search page's library: a query string and filters, checked against the store (an
unknown brand, platform, topic, intent or sentiment is an error that lists the known ones,
never an empty "no results"), run, and paged."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from uproar.errors import InputError, UnknownNameError
from uproar.respond.answer import INTENTS
from uproar.store import Store, search_index
from uproar.store import search as sql
from uproar.times import parse_window
from uproar.understand.taxonomy import SENTIMENTS, default_taxonomy

PAGE_SIZE = 50
MAX_PAGE = 200
_TERM = re.compile(r'"([^"]+)"|(\S+)')


def parse_terms(q: str) -> tuple[str, ...]:
    """Words and "quoted phrases" of a query; each must occur in a post."""
    found = ((m.group(1) or m.group(2)).strip() for m in _TERM.finditer(q))
    terms = tuple(t for t in found if t)
    if len(terms) > sql.MAX_TERMS:
        raise InputError(
            f"a search takes at most {sql.MAX_TERMS} words or quoted phrases, not {len(terms)}",
            field="q",
        )
    return terms


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A checked search: terms, filters and the page."""

    q: str = ""
    terms: tuple[str, ...] = ()
    brand: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    platform: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    intent: str | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: SearchQuery
    posts: list[dict[str, Any]] = field(default_factory=list)
    has_next: bool = False

    def as_json(self) -> dict[str, Any]:
        q = self.query
        return {
            "ok": True,
            "q": q.q,
            "filters": {
                "brand": q.brand,
                "since": q.since.isoformat() if q.since else None,
                "until": q.until.isoformat() if q.until else None,
                "platform": q.platform,
                "sentiment": q.sentiment,
                "topic": q.topic,
                "intent": q.intent,
            },
            "page": q.page,
            "page_size": PAGE_SIZE,
            "has_next": self.has_next,
            "posts": [
                {**p, "created_at": p["created_at"].isoformat() if p["created_at"] else None}
                for p in self.posts
            ],
        }


def _blank(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def check_query(
    store: Store,
    *,
    q: str = "",
    brand: str | None = None,
    since: str | None = None,
    until: str | None = None,
    platform: str | None = None,
    sentiment: str | None = None,
    topic: str | None = None,
    intent: str | None = None,
    page: int = 1,
) -> SearchQuery:
    """The request's parameters, checked; empty ones mean "any"."""
    brand, platform, sentiment, topic, intent = (
        _blank(v) for v in (brand, platform, sentiment, topic, intent)
    )
    if not 1 <= page <= MAX_PAGE:
        raise InputError(f"page must be between 1 and {MAX_PAGE}, not {page}", field="page")
    start, end = parse_window(_blank(since), _blank(until), names=("since", "until"))
    if brand is not None:
        try:
            store.require_brand(brand)
        except UnknownNameError as exc:  # named as the page's field, not the CLI's flag
            raise UnknownNameError("brand", brand, exc.known, field="brand") from None
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise UnknownNameError("sentiment", sentiment, SENTIMENTS, field="sentiment")
    for what, value, listed in (
        ("platform", platform, ()),
        ("topic", topic, default_taxonomy().topic_ids),
        ("intent", intent, INTENTS),
    ):
        if value is not None and value not in listed and not sql.has_value(store, what, value):
            known = set(listed) | set(sql.stored_values(store, what))
            raise UnknownNameError(what, value, known, field=what)
    return SearchQuery(
        q=q,
        terms=parse_terms(q),
        brand=brand,
        since=start,
        until=end,
        platform=platform,
        sentiment=sentiment,
        topic=topic,
        intent=intent,
        page=page,
    )


def run_search(store: Store, query: SearchQuery) -> SearchPage:
    """One page of results; the word index first takes in the posts stored since the last
    search (none when nothing arrived: two counts)."""
    search_index.index_posts(store)
    rows = sql.search_posts(
        store,
        terms=query.terms,
        brand=query.brand,
        since=query.since,
        until=query.until,
        platform=query.platform,
        sentiment=query.sentiment,
        topic=query.topic,
        intent=query.intent,
        limit=PAGE_SIZE + 1,
        offset=(query.page - 1) * PAGE_SIZE,
    )
    return SearchPage(query, rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE)


def filter_choices(store: Store) -> dict[str, list[str]]:
    """What the filter menus offer: brands from the store, the fixed sentiments, the
    taxonomy's topics and the intents."""
    return {
        "brand": sorted(store.load_brands()),
        "sentiment": list(SENTIMENTS),
        "topic": list(default_taxonomy().topic_ids),
        "intent": list(INTENTS),
    }
