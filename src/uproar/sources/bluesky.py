"""Bluesky Jetstream events (github.com/bluesky-social/jetstream): ``commit`` events that
create an ``app.bsky.feed.post`` record become posts; every other event is skipped, counted.

The post's id is its at:// URI, ``at://<did>/app.bsky.feed.post/<rkey>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from uproar.sources.fields import RecordError, Row, Skip, iso_time, require_id, to_json

NAME = "bluesky"
POST = "app.bsky.feed.post"


# Jetstream before v0.2 (2024) spelled kinds and operations short: "type": "com", "c".
_OLD_KINDS = {"com": "commit", "id": "identity", "acc": "account"}
_OLD_OPERATIONS = {"c": "create", "u": "update", "d": "delete"}


def _old(names: dict[str, str], value: Any) -> str | None:
    return names.get(value) if isinstance(value, str) else None


def sniff(obj: dict[str, Any]) -> bool:
    return "did" in obj and ("kind" in obj or _old(_OLD_KINDS, obj.get("type")) is not None)


def records(obj: Any) -> Iterator[Row | RecordError | Skip]:
    if not isinstance(obj, dict):
        yield RecordError(None, f"expected a JSON object, got {type(obj).__name__}")
        return
    commit = obj.get("commit")
    kind = obj.get("kind") or _old(_OLD_KINDS, obj.get("type"))
    if kind != "commit":
        yield Skip(f"bluesky {kind} event")
        return
    if not isinstance(commit, dict):
        yield RecordError("commit", "missing" if commit is None else "expected an object")
        return
    operation = commit.get("operation") or _old(_OLD_OPERATIONS, commit.get("type"))
    if commit.get("collection") != POST or operation != "create":
        yield Skip(f"bluesky {operation} {commit.get('collection')}")
        return
    try:
        yield _post(obj, commit)
    except RecordError as exc:
        yield exc


def _uri_id(ref: Any) -> str | None:
    return ref.get("uri") if isinstance(ref, dict) and isinstance(ref.get("uri"), str) else None


def _post(event: dict[str, Any], commit: dict[str, Any]) -> Row:
    did = require_id(event, "did")
    rkey = require_id(commit, "rkey")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise RecordError("commit.record", "missing" if record is None else "expected an object")
    created_at = iso_time(record.get("createdAt"), "commit.record.createdAt")
    text = record.get("text")
    if not isinstance(text, str):
        raise RecordError("commit.record.text", "missing" if text is None else "expected a string")
    urls: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        for feature in facet.get("features", []) if isinstance(facet, dict) else []:
            if (
                isinstance(feature, dict)
                and feature.get("$type") == "app.bsky.richtext.facet#link"
                and isinstance(feature.get("uri"), str)
            ):
                urls.append(feature["uri"])
    embed = record.get("embed")
    quoted = None
    if isinstance(embed, dict):
        external = embed.get("external")
        link = external.get("uri") if isinstance(external, dict) else None
        if isinstance(link, str) and link not in urls:
            urls.append(link)
        quoted = _uri_id(embed.get("record"))
        if quoted is None and isinstance(embed.get("record"), dict):
            quoted = _uri_id(embed["record"].get("record"))
    reply = record.get("reply")
    reply_to = root = None
    if isinstance(reply, dict):
        reply_to = _uri_id(reply.get("parent"))
        root = _uri_id(reply.get("root"))
    langs = record.get("langs")
    uri = f"at://{did}/{POST}/{rkey}"
    return {
        "platform": "bluesky",
        "id": uri,
        "created_at": created_at,
        "text": text,
        "author_id": did,
        "author_handle": None,
        "author_name": None,
        "author_followers": None,
        "author_location": None,
        "lang": langs[0]
        if isinstance(langs, list) and langs and isinstance(langs[0], str)
        else None,
        "reply_to_id": reply_to,
        "conversation_id": root or uri,
        "quoted_id": quoted,
        "reposted_id": None,
        "urls": urls,
        "place": None,
        "region": None,
        "like_count": None,
        "repost_count": None,
        "reply_count": None,
        "raw": to_json(event),
    }
