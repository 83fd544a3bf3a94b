"""CSV exports with a header row, mapped onto post fields.

Common header names are recognised on their own (``text``/``content``/``body``,
``created_at``/``date``/``timestamp`` ...); ``mapping`` names the rest, as
``{"text": "Message", "created_at": "Posted"}`` (post field -> CSV column).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from uproar.errors import InputError
from uproar.sources.fields import RecordError, Row, epoch_time, iso_time, twitter_time
from uproar.sources.reader import open_binary

NAME = "csv"

# Post field -> header names recognised without a mapping (compared case-insensitively).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "post_id", "tweet_id", "status_id", "id_str"),
    "created_at": ("created_at", "date", "timestamp", "time", "datetime", "posted_at"),
    "text": ("text", "content", "body", "message", "full_text", "tweet"),
    "platform": ("platform", "network", "source_platform"),
    "author_id": ("author_id", "user_id", "account_id"),
    "author_handle": ("author_handle", "username", "screen_name", "handle", "user", "author"),
    "author_name": ("author_name", "name", "display_name", "user_name"),
    "author_followers": ("author_followers", "followers", "followers_count"),
    "author_location": ("author_location", "user_location", "location"),
    "lang": ("lang", "language"),
    "reply_to_id": ("reply_to_id", "in_reply_to_status_id", "in_reply_to_id", "reply_to"),
    "conversation_id": ("conversation_id",),
    "quoted_id": ("quoted_id", "quoted_status_id"),
    "reposted_id": ("reposted_id", "retweeted_status_id"),
    "urls": ("urls", "url", "links", "expanded_urls"),
    "place": ("place", "location_name"),
    "region": ("region", "country", "country_code"),
    "like_count": ("like_count", "likes", "favorite_count", "favourites_count"),
    "repost_count": ("repost_count", "retweets", "retweet_count", "reblogs_count", "shares"),
    "reply_count": ("reply_count", "replies", "replies_count", "comments"),
}
_INTS = ("author_followers", "like_count", "repost_count", "reply_count")


def resolve_columns(header: list[str], mapping: Mapping[str, str], *, file: str) -> dict[str, str]:
    """Post field -> CSV column; errors name the field that cannot be found."""
    by_lower = {h.strip().lower(): h for h in header}
    columns: dict[str, str] = {}
    for field, column in mapping.items():
        if field not in ALIASES:
            raise InputError(f"unknown post field in column mapping: {field!r}", file=file)
        if column not in header:
            raise InputError(f"column {column!r} is not in the header", file=file, line=1)
        columns[field] = column
    for field, names in ALIASES.items():
        if field not in columns:
            found = next((by_lower[n] for n in names if n in by_lower), None)
            if found is not None:
                columns[field] = found
    for required in ("id", "created_at", "text"):
        if required not in columns:
            raise InputError(
                f"no column for required field {required!r}; map it with --map {required}=COLUMN",
                file=file,
                line=1,
                field=required,
            )
    return columns


def parse_time(value: str, field: str) -> datetime:
    """ISO 8601, epoch seconds or milliseconds, or X v1.1's format; zone-less is UTC."""
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        return epoch_time(seconds, field, value)
    if value[:3].isalpha():
        return twitter_time(value, field)
    return iso_time(value.replace(" ", "T", 1) if "T" not in value else value, field)


def rows(
    path: Path, *, mapping: Mapping[str, str] | None = None
) -> Iterator[tuple[int, bytes, Row | RecordError]]:
    """(line, raw record bytes, row or error) for each data record of a CSV file."""
    with open_binary(path) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        columns = resolve_columns(header, mapping or {}, file=str(path))
        index = {field: header.index(column) for field, column in columns.items()}
        for record in reader:
            line = reader.line_num
            raw = ",".join(record).encode("utf-8", errors="surrogateescape")
            if not any(cell.strip() for cell in record):
                continue
            yield line, raw, _row(record, index, header)


def _row(record: list[str], index: dict[str, int], header: list[str]) -> Row | RecordError:
    if any("\udc80" <= ch <= "\udcff" for cell in record for ch in cell):
        return RecordError(None, "invalid UTF-8 in this record", kind="invalid UTF-8")
    if len(record) != len(header):
        return RecordError(
            None, f"expected {len(header)} fields, got {len(record)}", kind="bad value"
        )

    def cell(field: str) -> str | None:
        at = index.get(field)
        value = record[at].strip() if at is not None else ""
        return value or None

    try:
        post_id = cell("id")
        if post_id is None:
            raise RecordError("id", "missing")
        created = cell("created_at")
        if created is None:
            raise RecordError("created_at", "missing")
        created_at = parse_time(created, "created_at")
        text = record[index["text"]]
        values: dict[str, Any] = {}
        for field in _INTS:
            raw = cell(field)
            if raw is None:
                values[field] = None
                continue
            try:
                values[field] = int(float(raw.replace(",", "")))
            except (ValueError, OverflowError):  # OverflowError: "1e400" is infinite
                raise RecordError(field, f"expected a whole number, got {raw[:20]!r}") from None
    except RecordError as exc:
        return exc
    handle = cell("author_handle")
    author_id = cell("author_id") or handle
    if author_id is None:
        return RecordError("author_id", "missing (no author_id or author_handle column value)")
    urls = (cell("urls") or "").replace(",", " ").split()
    raw_record = {header[i]: value for i, value in enumerate(record)}
    return {
        "platform": cell("platform") or "csv",
        "id": post_id,
        "created_at": created_at,
        "text": text,
        "author_id": author_id,
        "author_handle": handle.lstrip("@") if handle else None,
        "author_name": cell("author_name"),
        "author_location": cell("author_location"),
        "lang": cell("lang"),
        "reply_to_id": cell("reply_to_id"),
        "conversation_id": cell("conversation_id"),
        "quoted_id": cell("quoted_id"),
        "reposted_id": cell("reposted_id"),
        "urls": urls,
        "place": cell("place"),
        "region": cell("region"),
        "raw": orjson.dumps(raw_record).decode(),
        **values,
    }
