"""X API v1.1 tweets (and twarc1 JSONL): ``full_text``, ``extended_tweet``, ``user``.

Retweets carry the original in ``retweeted_status``; their plain text is rebuilt as
"RT @user: <original full text>" since v1.1 truncates the top-level copy.
Field names: developer.x.com, "Tweet object" (API v1.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from uproar.sources.fields import (
    RecordError,
    Row,
    Skip,
    count,
    optional_id,
    optional_text,
    require_id,
    to_json,
    twitter_time,
    unescape,
)

NAME = "x-v1"


def sniff(obj: dict[str, Any]) -> bool:
    return "id_str" in obj and ("user" in obj or "full_text" in obj or "text" in obj)


def _full_text(t: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    extended = t.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        entities = extended.get("entities")
        return extended["full_text"], entities if isinstance(entities, dict) else {}
    entities = t.get("entities")
    entities = entities if isinstance(entities, dict) else {}
    text = t.get("full_text", t.get("text"))
    return (text if isinstance(text, str) else None), entities


# Stream notices that are no tweets (v1.1 streaming "Message types").
_NOTICES = ("delete", "scrub_geo", "limit", "status_withheld", "user_withheld", "disconnect")


def records(obj: Any) -> Iterator[Row | RecordError | Skip]:
    if not isinstance(obj, dict):
        yield RecordError(None, f"expected a JSON object, got {type(obj).__name__}")
        return
    notice = next((k for k in _NOTICES if k in obj), None)
    if notice is not None and "id_str" not in obj:
        yield Skip(f"x-v1 {notice} notice")
        return
    try:
        yield _tweet(obj)
    except RecordError as exc:
        yield exc


def _tweet(t: dict[str, Any]) -> Row:
    tweet_id = optional_id(t.get("id_str")) or require_id(t, "id")
    created_at = twitter_time(t.get("created_at"), "created_at")
    user = t.get("user")
    if not isinstance(user, dict):
        raise RecordError("user", "missing" if user is None else "expected an object")
    author_id = optional_id(user.get("id_str")) or optional_id(user.get("id"))
    if author_id is None:
        raise RecordError("user.id_str", "missing")
    text, entities = _full_text(t)
    if text is None:
        raise RecordError("full_text", "missing")
    reposted = None
    original = t.get("retweeted_status")
    if isinstance(original, dict):
        reposted = optional_id(original.get("id_str")) or optional_id(original.get("id"))
        original_text, original_entities = _full_text(original)
        original_user = original.get("user")
        if original_text is not None and isinstance(original_user, dict):
            text = f"RT @{original_user.get('screen_name')}: {original_text}"
            entities = original_entities
    listed = entities.get("urls")
    urls = [
        u.get("expanded_url") or u.get("url")
        for u in (listed if isinstance(listed, list) else [])
        if isinstance(u, dict) and isinstance(u.get("expanded_url") or u.get("url"), str)
    ]
    place = t.get("place")
    place = place if isinstance(place, dict) else {}
    return {
        "platform": "x",
        "id": tweet_id,
        "created_at": created_at,
        "text": unescape(text),
        "author_id": author_id,
        "author_handle": optional_text(user.get("screen_name")),
        "author_name": optional_text(user.get("name")),
        "author_followers": count(user.get("followers_count")),
        "author_location": optional_text(user.get("location")),
        "lang": optional_text(t.get("lang")),
        "reply_to_id": optional_id(t.get("in_reply_to_status_id_str"))
        or optional_id(t.get("in_reply_to_status_id")),
        "conversation_id": None,
        "quoted_id": optional_id(t.get("quoted_status_id_str")),
        "reposted_id": reposted,
        "urls": urls,
        "place": optional_text(place.get("full_name")),
        "region": optional_text(place.get("country_code")),
        "like_count": count(t.get("favorite_count")),
        "repost_count": count(t.get("retweet_count")),
        "reply_count": count(t.get("reply_count")),
        "raw": to_json(t),
    }
