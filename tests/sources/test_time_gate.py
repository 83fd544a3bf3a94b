"""The plausible-time gate: one place, every path, an injected ``now``, a reason each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from uproar.config import Brand
from uproar.sources import Ingestor, ingest
from uproar.sources.ingestor import ChunkParser
from uproar.store import Store

NOW = datetime(2024, 9, 6, 12, 0, tzinfo=UTC)
SOON = "2024-09-06T12:04:00.000Z"  # 4 minutes ahead of NOW: a fast clock, kept
LATE = "2024-09-06T12:06:00.000Z"  # 6 minutes ahead: quarantined


def reasons(store: Store) -> dict[int, tuple[str, str | None, str]]:
    rows = store.connection.execute(
        "SELECT line, kind, field, reason FROM quarantine ORDER BY line"
    ).fetchall()
    return {line: (kind, field, reason) for line, kind, field, reason in rows}


def write_lines(path: Path, records: list[Any]) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    return path


def v2(i: int, when: str) -> dict[str, Any]:
    return {"data": {"id": str(i), "text": "@KiwiNet down?", "author_id": "9", "created_at": when}}


def test_x_v2_typed_and_generic_paths_gate_alike(
    tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    times = [
        "2014-09-06T10:00:00.000Z",  # stored
        "2006-03-21T20:49:00.000Z",  # a minute before the first tweet
        "0001-01-01T00:00:00+01:00",  # once stored as 0001-12-31 BC, or a crash
        "9999-12-31T23:59:59.000Z",
        SOON,
        LATE,
        "1970-01-01T00:00:00.000Z",
    ]
    path = write_lines(tmp_path / "v2.jsonl", [v2(i, t) for i, t in enumerate(times)])
    result = ingest([path], store, brands, now=NOW)
    assert (result.read, result.stored, result.quarantined) == (7, 2, 5)
    assert {p.id for p in store.posts()} == {"0", "4"}
    found = reasons(store)
    assert set(found) == {2, 3, 4, 6, 7}
    assert all(field == "created_at" for _, field, _ in found.values())
    assert "before x existed (2006-03-21)" in found[2][2]
    assert "time out of range" in found[3][2]
    assert "more than 5 minutes after it was read (2024-09-06 12:00 UTC)" in found[6][2]
    # the typed decoder and the generic parser agree, line by line
    lines = path.read_bytes().splitlines()
    parser = ChunkParser(brands, NOW.replace(tzinfo=None))
    fast = parser.parse_lines(str(path), "x-v2", 1, lines)
    slow = parser.parse_lines(str(path), "x-v2", 1, lines, fast=False)
    assert fast.posts.column("id").to_pylist() == slow.posts.column("id").to_pylist()
    assert fast.quarantine.select(["line", "reason"]).equals(
        slow.quarantine.select(["line", "reason"])
    )


def test_a_page_keeps_its_good_tweets_when_one_is_gated(
    tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    page = {
        "data": [
            {"id": "1", "text": "ok", "author_id": "9", "created_at": "2014-09-06T10:00:00Z"},
            {"id": "2", "text": "bad", "author_id": "9", "created_at": "1999-01-01T00:00:00Z"},
        ]
    }
    result = ingest([write_lines(tmp_path / "p.jsonl", [page])], store, brands, now=NOW)
    assert (result.stored, result.quarantined) == (1, 1)
    row = store.connection.execute("SELECT line, item, field FROM quarantine").fetchall()
    assert row == [(1, 1, "created_at")]


def test_x_v1_offsets_and_the_gate(tmp_path: Path, store: Store, brands: dict[str, Brand]) -> None:
    def tweet(i: int, when: str) -> dict[str, Any]:
        return {"id_str": str(i), "created_at": when, "full_text": "hi", "user": {"id_str": "1"}}

    times = [
        "Sat Sep 06 08:15:02 +0000 2014",
        "Sat Sep 06 08:15:02 +9999 2014",  # an offset out of range: once a crash
        "Mon Jan 01 00:00:00 +0100 0001",  # before year 1 in UTC
        "Fri Dec 31 23:59:59 -2359 9999",  # after year 9999 in UTC
        "Sat Sep 06 08:15:02 +1300 2014",  # a real offset, stored
        "Thu Jan 01 00:00:00 +0000 1970",
    ]
    path = write_lines(tmp_path / "v1.jsonl", [tweet(i, t) for i, t in enumerate(times)])
    result = ingest([path], store, brands, now=NOW)
    assert (result.stored, result.quarantined) == (2, 4)
    found = reasons(store)
    assert "not an X v1.1 time" in found[2][2]
    assert "time out of range" in found[3][2] and "time out of range" in found[4][2]
    assert "before x existed" in found[6][2]
    stored = {p.id: p.created_at for p in store.posts()}
    assert stored["4"] == datetime(2014, 9, 5, 19, 15, 2, tzinfo=UTC)


def test_mastodon_and_bluesky_gate_on_their_own_platforms(
    tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    def status(i: int, when: str) -> dict[str, Any]:
        return {"id": str(i), "created_at": when, "content": "<p>hi</p>", "account": {"id": "1"}}

    masto = [status(1, "2014-09-06T10:00:00Z"), status(2, "2008-01-01T00:00:00Z"),
             status(3, LATE)]  # fmt: skip
    result = ingest([write_lines(tmp_path / "m.jsonl", masto)], store, brands, now=NOW)
    assert (result.stored, result.quarantined) == (1, 2)

    def event(i: int, when: str) -> dict[str, Any]:
        record = {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": when}
        commit = {"operation": "create", "collection": "app.bsky.feed.post", "rkey": f"k{i}",
                  "record": record}  # fmt: skip
        return {"did": "did:plc:x", "kind": "commit", "commit": commit}

    sky = [event(1, "2024-09-06T11:00:00Z"), event(2, "2014-09-06T10:00:00Z"),
           event(3, "0001-01-01T00:00:00+01:00"), event(4, SOON)]  # fmt: skip
    result = ingest([write_lines(tmp_path / "b.jsonl", sky)], store, brands, now=NOW)
    assert (result.stored, result.quarantined) == (2, 2)
    found = store.connection.execute(
        "SELECT field, reason FROM quarantine WHERE source_file LIKE '%b.jsonl' ORDER BY line"
    ).fetchall()
    assert found[0] == ("created_at", "2014-09-06 10:00 is before bluesky existed (2022-01-01)")
    assert "time out of range" in found[1][1]


def test_csv_rows_pass_the_same_gate(
    tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    export = tmp_path / "e.csv"
    export.write_text(
        "id,created_at,text,username\n"
        "1,2014-09-06T10:00:00Z,ok,a\n"
        "2,99999999999999999999,huge epoch,b\n"  # once a crash
        "3,0,the epoch itself,c\n"
        "4,2024-09-06T12:30:00Z,from the future,d\n"
        "5,1410000000,epoch seconds,e\n"
    )
    result = ingest([export], store, brands, now=NOW)
    assert (result.read, result.stored, result.quarantined) == (5, 2, 3)
    found = reasons(store)
    assert "99999999999999999999" in found[3][2]  # not a time CSV reads: quarantined
    assert "before csv existed (2000-01-01)" in found[4][2]
    assert "more than 5 minutes after" in found[5][2]


def test_live_objects_go_through_the_same_gate(store: Store, brands: dict[str, Brand]) -> None:
    ingestor = Ingestor(store, brands, now=NOW)
    result = ingestor.ingest_objects(
        [v2(1, "2014-09-06T10:00:00Z"), v2(2, LATE), v2(3, "0001-01-01T00:00:00+01:00")],
        format="x-v2",
        source="http:test",
    )
    assert (result.stored, result.quarantined) == (1, 2)


def test_a_running_clock_moves_the_gate(store: Store, brands: dict[str, Brand]) -> None:
    """A listener's ingestor lives for days: its gate measures from each batch's time."""
    now = [NOW]
    ingestor = Ingestor(store, brands, clock=lambda: now[0])
    first = ingestor.ingest_objects([v2(1, LATE)], format="x-v2", source="live:1")
    assert first.quarantined == 1
    now[0] = NOW + timedelta(hours=1)
    later = ingestor.ingest_objects([v2(2, LATE)], format="x-v2", source="live:2")
    assert later.stored == 1
    ingested = store.connection.execute("SELECT ingested_at FROM posts").fetchone()
    assert ingested is not None and ingested[0] == (NOW + timedelta(hours=1)).replace(tzinfo=None)


@pytest.mark.parametrize("length, stored", [(100_000, 1), (100_001, 0)])
def test_text_cap(
    tmp_path: Path, store: Store, brands: dict[str, Brand], length: int, stored: int
) -> None:
    post = {"data": {"id": "1", "text": "a" * length, "author_id": "9",
                     "created_at": "2014-09-06T10:00:00Z"}}  # fmt: skip
    result = ingest([write_lines(tmp_path / "t.jsonl", [post])], store, brands, now=NOW)
    assert (result.stored, result.quarantined) == (stored, 1 - stored)
    if not stored:
        assert reasons(store)[1] == (
            "bad value",
            "text",
            "100,001 characters, over the 100,000-character limit",
        )
