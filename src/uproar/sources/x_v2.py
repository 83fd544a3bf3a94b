"""X API v2 responses and twarc2 JSONL: ``data`` plus ``includes`` expansions.

A line is one response page (``{"data": [...], "includes": {...}}``), a single-tweet
response (``"data": {...}``) or a twarc2 ``--flatten`` tweet with ``author`` inline.
Field names: developer.x.com, "Tweet object" and "Expansions" (API v2).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from uproar.sources.fields import (
    RecordError,
    Row,
    count,
    iso_time,
    optional_id,
    require_id,
    unescape,
)

NAME = "x-v2"


def sniff(obj: dict[str, Any]) -> bool:
    data = obj.get("data")
    if isinstance(data, list | dict):
        return True
    return "edit_history_tweet_ids" in obj or ("author_id" in obj and "text" in obj)


def _index(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {i["id"]: i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}


def records(obj: Any) -> Iterator[Row | RecordError]:
    if not isinstance(obj, dict):
        yield RecordError(None, f"expected a JSON object, got {type(obj).__name__}")
        return
    data = obj.get("data")
    if data is None:
        if "id" in obj:  # a twarc2 flattened tweet
            try:
                yield _tweet(obj, {}, {})
            except RecordError as exc:
                yield exc
            return
        errors = obj.get("errors")
        detail = errors[0].get("title", "") if isinstance(errors, list) and errors else ""
        yield RecordError("data", f"response has no data {detail}".strip())
        return
    tweets = [data] if isinstance(data, dict) else data
    if not isinstance(tweets, list):
        yield RecordError("data", f"expected a list of tweets, got {type(data).__name__}")
        return
    includes = obj.get("includes")
    includes = includes if isinstance(includes, dict) else {}
    users = _index(includes.get("users"))
    places = _index(includes.get("places"))
    for tweet in tweets:
        if not isinstance(tweet, dict):
            yield RecordError("data", f"expected a tweet object, got {type(tweet).__name__}")
            continue
        try:
            yield _tweet(tweet, users, places)
        except RecordError as exc:
            yield exc


def _tweet(t: dict[str, Any], users: dict[str, Any], places: dict[str, Any]) -> Row:
    tweet_id = require_id(t, "id")
    created_at = iso_time(t.get("created_at"), "created_at")
    text = t.get("text")
    if not isinstance(text, str):
        raise RecordError("text", "missing" if text is None else "expected a string")
    author_id = optional_id(t.get("author_id"))
    user = users.get(author_id or "") or t.get("author")
    if not isinstance(user, dict):
        user = None
    if author_id is None:
        if user is None or not isinstance(user.get("id"), str):
            raise RecordError("author_id", "missing")
        author_id = user["id"]
    reply_to = quoted = reposted = None
    refs = t.get("referenced_tweets")
    if isinstance(refs, list):
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            kind = ref.get("type")
            if kind == "replied_to":
                reply_to = optional_id(ref.get("id"))
            elif kind == "quoted":
                quoted = optional_id(ref.get("id"))
            elif kind == "retweeted":
                reposted = optional_id(ref.get("id"))
    urls: list[str] = []
    entities = t.get("entities")
    if isinstance(entities, dict) and isinstance(entities.get("urls"), list):
        for u in entities["urls"]:
            if isinstance(u, dict):
                link = u.get("unwound_url") or u.get("expanded_url") or u.get("url")
                if isinstance(link, str):
                    urls.append(link)
    place_name = region = None
    place = None
    geo = t.get("geo")
    if isinstance(geo, dict) and isinstance(geo.get("place_id"), str):
        place = places.get(geo["place_id"])
        if isinstance(place, dict):
            place_name = place.get("full_name")
            region = place.get("country_code")
    metrics = t.get("public_metrics")
    metrics = metrics if isinstance(metrics, dict) else {}
    followers = None
    if user is not None:
        user_metrics = user.get("public_metrics")
        if isinstance(user_metrics, dict):
            followers = count(user_metrics.get("followers_count"))
    includes: dict[str, list[Any]] = {}
    if user is not None and "author" not in t:
        includes["users"] = [user]
    if place is not None:
        includes["places"] = [place]
    raw = {"data": t, "includes": includes} if includes else {"data": t}
    return {
        "platform": "x",
        "id": tweet_id,
        "created_at": created_at,
        "text": unescape(text),
        "author_id": author_id,
        "author_handle": user.get("username") if user else None,
        "author_name": user.get("name") if user else None,
        "author_followers": followers,
        "lang": t.get("lang"),
        "reply_to_id": reply_to,
        "conversation_id": optional_id(t.get("conversation_id")),
        "quoted_id": quoted,
        "reposted_id": reposted,
        "urls": urls,
        "place": place_name,
        "region": region,
        "like_count": count(metrics.get("like_count")),
        "repost_count": count(metrics.get("retweet_count")),
        "reply_count": count(metrics.get("reply_count")),
        "raw": orjson.dumps(raw).decode(),
    }
