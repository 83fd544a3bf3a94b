"""Field readers shared by every format: required ids and times, counts, HTML to text.

A format module maps one source record to a row of post columns; anything wrong with a
field becomes a ``RecordError`` naming that field, which ingest quarantines.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from typing import Any

import orjson

Row = dict[str, Any]
# What every format's parser gives per post, in this order when rows travel as tuples (a
# typed decoder's rows); created_at travels apart, and the ingestor adds brands and source.
ROW_KEYS = (
    "platform", "id", "text", "author_id", "author_handle", "author_name", "author_followers",
    "author_location", "lang", "reply_to_id", "conversation_id", "quoted_id", "reposted_id",
    "urls", "place", "region", "like_count", "repost_count", "reply_count", "raw",
)  # fmt: skip


# The fixed vocabulary of quarantine kinds (the ``kind`` column); details go in ``reason``.
QUARANTINE_KINDS = ("invalid JSON", "invalid UTF-8", "missing field", "wrong type", "bad value")


class RecordError(Exception):
    """One record cannot become a post: ``field`` is to blame for ``reason``.

    ``kind`` is one of ``QUARANTINE_KINDS``; without one it is read off the reason.
    """

    def __init__(self, field: str | None, reason: str, *, kind: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason
        if kind is None:
            if reason == "missing" or reason.startswith("missing "):
                kind = "missing field"
            elif reason.startswith("expected"):
                kind = "wrong type"
            else:
                kind = "bad value"
        self.kind = kind


def require_id(obj: dict[str, Any], key: str) -> str:
    """A platform id: a non-empty string, or an integer (old X ids) turned into one."""
    value = obj.get(key)
    if value is None:
        raise RecordError(key, "missing")
    if isinstance(value, str):
        if not value:
            raise RecordError(key, "empty")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RecordError(key, f"expected a string id, got {type(value).__name__}")


def optional_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def optional_text(value: Any) -> str | None:
    """An optional text field (language, handle, place name); any other type is unknown."""
    return value if isinstance(value, str) else None


INT64 = (-(2**63), 2**63 - 1)  # what a BIGINT column holds


def count(value: Any) -> int | None:
    """A like/repost/follower count; anything that is not a whole number (or one too big
    for a BIGINT) is unknown."""
    if isinstance(value, int) and not isinstance(value, bool) and INT64[0] <= value <= INT64[1]:
        return value
    return None


# Deepest nesting kept in ``raw``. The standard library's writer recurses, so without a
# bound of our own what is kept would depend on the interpreter's recursion limit, which
# libraries may raise for the whole process.
MAX_JSON_DEPTH = 900


def to_json(value: Any) -> str:
    """A record as JSON text for ``raw``. orjson writes at most 255 levels of nesting (it
    reads 1,024) and 64-bit integers; the standard library writes the rest as orjson would
    (compact, UTF-8), up to ``MAX_JSON_DEPTH`` levels, and a record that neither can write
    is quarantined."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        pass
    if _depth(value) > MAX_JSON_DEPTH:
        raise RecordError(None, "cannot be kept as JSON: nested too deep", kind="bad value")
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (RecursionError, TypeError, ValueError) as exc:
        reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)
        raise RecordError(None, f"cannot be kept as JSON: {reason}", kind="bad value") from None


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _naive_utc(moment: datetime, key: str, value: str) -> datetime:
    """``moment`` as naive UTC, or a RecordError when that is outside years 1-9999."""
    offset = moment.utcoffset()
    if offset is None:
        return moment
    try:
        return moment.replace(tzinfo=None) - offset
    except OverflowError:
        raise RecordError(key, f"time out of range: {value[:40]!r}") from None


def iso_time(value: Any, key: str) -> datetime:
    """An ISO 8601 time as naive UTC (zone-less input is taken as UTC)."""
    if value is None:
        raise RecordError(key, "missing")
    if not isinstance(value, str):
        raise RecordError(key, f"expected an ISO 8601 string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(key, f"not an ISO 8601 time: {value[:40]!r}") from None
    return _naive_utc(moment, key, value)


def epoch_time(seconds: float, key: str, value: str) -> datetime:
    """Epoch seconds as naive UTC; a time outside years 1-9999 is a RecordError."""
    try:
        return datetime(1970, 1, 1) + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        raise RecordError(key, f"epoch time out of range: {value[:40]!r}") from None


_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
)}  # fmt: skip


def twitter_time(value: Any, key: str) -> datetime:
    """X API v1.1 ``created_at``: 'Sat Sep 06 08:15:02 +0000 2014' (always +0000)."""
    if not isinstance(value, str):
        if value is None:
            raise RecordError(key, "missing")
        raise RecordError(key, f"expected a string, got {type(value).__name__}")
    parts = value.split()
    try:
        if len(parts) != 6:
            raise ValueError
        hh, mm, ss = parts[3].split(":")
        moment = datetime(
            int(parts[5]), _MONTHS[parts[1]], int(parts[2]), int(hh), int(mm), int(ss)
        )
        offset = parts[4]
        if offset != "+0000":
            if len(offset) != 5 or offset[0] not in "+-" or not offset[1:].isdigit():
                raise ValueError
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[3:5])
            if hours > 23 or minutes > 59:
                raise ValueError
            moment -= sign * timedelta(hours=hours, minutes=minutes)
    except (ValueError, KeyError, IndexError):
        raise RecordError(key, f"not an X v1.1 time: {value[:40]!r}") from None
    except OverflowError:
        raise RecordError(key, f"time out of range: {value[:40]!r}") from None
    return moment


def unescape(text: str) -> str:
    """Decode HTML entities (X escapes &, < and > in tweet text)."""
    return html.unescape(text) if "&" in text else text


# No pattern may scan past the next "<" or ">": hostile markup such as "<a <a <a ..."
# with no ">" would otherwise cost time quadratic in its length.
_BREAK = re.compile(r"<br\s*/?>|</p\s*>\s*<p[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_HREF = re.compile(r"<a\s[^<>]*?href=\"([^\"<>]+)\"[^<>]*>", re.IGNORECASE)
_CLASS = re.compile(r"class=\"([^\"<>]*)\"", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    """Plain text from a post's HTML: paragraphs and breaks become newlines."""
    text = _BREAK.sub("\n", markup)
    text = _TAG.sub("", text)
    return html.unescape(text).strip()


def html_links(markup: str) -> list[str]:
    """Links in post HTML, leaving out mention and hashtag links."""
    links = []
    for match in _HREF.finditer(markup):
        klass = _CLASS.search(match.group(0))
        classes = klass.group(1).split() if klass else []
        if "mention" in classes or "hashtag" in classes:
            continue
        links.append(html.unescape(match.group(1)))
    return links


class Skip:
    """A record that is valid but no post (a delete notice, a like): counted, not stored."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason
