"""X API v2 responses and twarc2 JSONL: ``data`` plus ``includes`` expansions.

A line is one response page (``{"data": [...], "includes": {...}}``), a single-tweet
response (``"data": {...}``) or a twarc2 ``--flatten`` tweet with ``author`` inline.
Field names: developer.x.com, "Tweet object" and "Expansions" (API v2).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import UNSET, Meta, Raw, Struct, UnsetType

from uproar.sources.fields import (
    RecordError,
    Row,
    count,
    iso_time,
    optional_id,
    optional_text,
    require_id,
    to_json,
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
        first = errors[0] if isinstance(errors, list) and errors else None
        detail = first.get("title", "") if isinstance(first, dict) else ""
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
            place_name = optional_text(place.get("full_name"))
            region = optional_text(place.get("country_code"))
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
        "author_handle": optional_text(user.get("username")) if user else None,
        "author_name": optional_text(user.get("name")) if user else None,
        "author_followers": followers,
        "author_location": optional_text(user.get("location")) if user else None,
        "lang": optional_text(t.get("lang")),
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
        "raw": to_json(raw),
    }


# -- typed fast path -----------------------------------------------------------------------
# Bulk archives are mostly well-formed pages. msgspec decodes such a line straight into the
# few fields a post needs (skipping the rest in C) and, in a second pass, into the raw byte
# slices of each tweet, user and place, so that ``raw`` is assembled without re-serialising.
# Anything these types reject (a wrong type, a missing field, bad JSON) is not an error here:
# ``typed_rows`` returns None and the line goes through ``records`` above, which decides
# what is quarantined and why. Rows that do come out equal what ``records`` makes of the line
# (``raw``: the same JSON value, as its writer spaced and escaped it).


_ABSENT = Raw()  # a Raw field's default: the field was not there
# Integers outside int64: orjson reads some as floats and Arrow takes none; generic path.
_Int = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]


class _Metrics(Struct, gc=False):
    like_count: _Int | None = None
    retweet_count: _Int | None = None
    reply_count: _Int | None = None


class _UserMetrics(Struct, gc=False):
    followers_count: _Int | None = None


class _User(Struct, gc=False):
    id: str
    username: str | None = None
    name: str | None = None
    location: str | None = None
    public_metrics: _UserMetrics | None = None


class _Place(Struct, gc=False):
    id: str
    full_name: str | None = None
    country_code: str | None = None


class _Ref(Struct, gc=False):
    type: str | None = None
    id: str | _Int | None = None


class _Url(Struct, gc=False):
    url: str | None = None
    expanded_url: str | None = None
    unwound_url: str | None = None


class _Entities(Struct, gc=False):
    urls: list[_Url] | None = None


class _Geo(Struct, gc=False):
    place_id: str | None = None
    coordinates: Raw = _ABSENT  # floats: the raw of such a tweet is re-serialised


class _Tweet(Struct, gc=False):
    id: str | _Int
    created_at: str
    text: str
    author_id: str | _Int | None = None
    author: _User | UnsetType | None = UNSET  # twarc2 --flatten puts the user inline
    conversation_id: str | _Int | None = None
    lang: str | None = None
    referenced_tweets: list[_Ref] | None = None
    entities: _Entities | None = None
    geo: _Geo | None = None
    public_metrics: _Metrics | None = None


class _Includes(Struct, gc=False):
    users: list[_User] | None = None
    places: list[_Place] | None = None


class _Page(Struct, gc=False):
    data: list[_Tweet] | _Tweet | None = None
    includes: _Includes | None = None


class _RawIncludes(Struct, gc=False):
    users: list[Raw] | None = None
    places: list[Raw] | None = None


class _RawPage(Struct, gc=False):
    data: Raw = _ABSENT
    includes: _RawIncludes | None = None


_NO_METRICS = _Metrics()
_PAGE = msgspec.json.Decoder(_Page)
_RAW_PAGE = msgspec.json.Decoder(_RawPage)
_TWEET = msgspec.json.Decoder(_Tweet)
_RAW_LIST = msgspec.json.Decoder(list[Raw])
_REJECTED = (msgspec.MsgspecError, ValueError, RecursionError)  # msgspec: 1,000 levels


class _Unreadable(Exception):
    """orjson cannot read a record back (say, a number like 1e400): the generic path must
    judge the whole line, as it would quarantine it."""


def _reserialised(raw: bytes | Raw) -> bytes:
    try:
        return orjson.dumps(orjson.loads(bytes(raw)))
    except (orjson.JSONDecodeError, TypeError):  # TypeError: too deep for orjson to write
        raise _Unreadable from None


def typed_rows(line: bytes) -> tuple[list[tuple[Any, ...]], list[str]] | None:
    """The posts of one JSON line as ``ROW_KEYS`` tuples plus their ``created_at`` texts,
    or None when the line is not a plain page (then ``records`` must handle it).

    The line must be valid UTF-8 (the caller checks a chunk of lines at once): msgspec
    leaves the fields it skips unchecked, where orjson would reject the line.
    """
    try:
        return _typed_rows(line)
    except _Unreadable:
        return None


def _typed_rows(line: bytes) -> tuple[list[tuple[Any, ...]], list[str]] | None:
    """``typed_rows``' work; raises ``_Unreadable`` for a record orjson cannot read."""
    try:
        page = _PAGE.decode(line)
        raw_page = _RAW_PAGE.decode(line)
        if page.data is None:
            if page.includes is not None:
                return None
            tweets = [_TWEET.decode(line)]  # a twarc2 flattened tweet, or not X at all
            tweet_raws: list[Raw] | list[bytes] = [line]
        elif isinstance(page.data, list):
            tweets = page.data
            tweet_raws = _RAW_LIST.decode(raw_page.data)
        else:
            tweets = [page.data]
            tweet_raws = [raw_page.data]
    except _REJECTED:
        return None
    if len(tweets) != len(tweet_raws):
        return None
    users: dict[str, tuple[_User, Raw]] = {}
    places: dict[str, tuple[_Place, Raw]] = {}
    includes, raw_includes = page.includes, raw_page.includes
    if includes is not None and raw_includes is not None:
        if includes.users and raw_includes.users:
            users = {u.id: (u, r) for u, r in zip(includes.users, raw_includes.users, strict=True)}
        if includes.places and raw_includes.places:
            places = {
                p.id: (p, r) for p, r in zip(includes.places, raw_includes.places, strict=True)
            }
    rows: list[tuple[Any, ...]] = []
    times: list[str] = []
    keep, when = rows.append, times.append
    place_bytes: dict[str, bytes] = {}
    for t, tweet_raw in zip(tweets, tweet_raws, strict=True):
        tweet_id = t.id
        if type(tweet_id) is int:
            tweet_id = str(tweet_id)
        elif not tweet_id:
            return None
        author_id = t.author_id
        if type(author_id) is not str or not author_id:
            author_id = optional_id(author_id)
        user: _User | None = None
        user_raw: Raw | None = None
        entry = users.get(author_id) if author_id is not None else None
        if entry is not None:
            user, user_raw = entry
        elif isinstance(t.author, _User):
            user = t.author
        if author_id is None:
            if user is None:
                return None
            author_id = user.id
        reply_to = quoted = reposted = None
        if t.referenced_tweets:
            for ref in t.referenced_tweets:
                kind = ref.type
                if kind == "replied_to":
                    reply_to = optional_id(ref.id)
                elif kind == "quoted":
                    quoted = optional_id(ref.id)
                elif kind == "retweeted":
                    reposted = optional_id(ref.id)
        urls: list[str] = []
        if t.entities is not None and t.entities.urls:
            for u in t.entities.urls:
                link = u.unwound_url or u.expanded_url or u.url
                if link is not None:
                    urls.append(link)
        place: _Place | None = None
        place_name = region = None
        geo = t.geo
        if geo is not None and geo.place_id is not None:
            found = places.get(geo.place_id)
            if found is not None:
                place = found[0]
                place_name, region = place.full_name, place.country_code
        metrics = t.public_metrics
        if metrics is None:
            metrics = _NO_METRICS
        conversation = t.conversation_id
        if type(conversation) is not str or not conversation:
            conversation = optional_id(conversation)
        text = t.text
        if "&" in text:
            text = html.unescape(text)
        handle = name = followers = location = None
        if user is not None:
            handle, name, location = user.username, user.name, user.location
            if user.public_metrics is not None:
                followers = user.public_metrics.followers_count
        # raw: {"data": tweet, "includes": {"users": [user], "places": [place]}}; a tweet
        # with coordinates and every place (floats) are re-serialised. A record keeps its
        # writer's spacing and \u escapes (twarc2 writes json.dumps' defaults): the same
        # JSON value the generic path stores, without a pass to rewrite each line (a third
        # of parsing such a file), and msgspec, like orjson, refused a lone surrogate.
        if geo is not None and len(geo.coordinates):
            data: bytes | Raw = _reserialised(tweet_raw)
        else:
            data = tweet_raw
        parts = [b'{"data":', data]
        with_user = user is not None and t.author is UNSET
        if with_user or place is not None:
            parts.append(b',"includes":{')
            if with_user:
                assert user_raw is not None
                parts += (b'"users":[', user_raw, b"]")
            if place is not None:
                key = place.id
                if key not in place_bytes:
                    place_bytes[key] = _reserialised(places[key][1])
                parts += (b',"places":[' if with_user else b'"places":[', place_bytes[key], b"]")
            parts.append(b"}")
        parts.append(b"}")
        when(t.created_at)
        keep((
            "x", tweet_id, text, author_id, handle, name, followers, location, t.lang, reply_to,
            conversation, quoted, reposted, urls, place_name, region, metrics.like_count,
            metrics.retweet_count, metrics.reply_count, b"".join(parts),
        ))  # fmt: skip
    return rows, times
