"""Quarantine keys never collide: a stream's second batch, or its next run, keeps its bad
records (the key was source and position within one call, so they were dropped as seen)."""

from __future__ import annotations

from typing import Any

from uproar.config import Brand
from uproar.sources import Ingestor
from uproar.store import Store


def batch(n: int) -> list[Any]:
    good = {"data": {"id": str(n), "text": "@KiwiNet down", "author_id": "9",
                     "created_at": "2014-09-06T10:00:00Z"}}  # fmt: skip
    return [good, {"data": {"id": f"bad{n}"}}]  # the second has no time: quarantined


def test_batches_and_runs_of_one_source_keep_every_bad_record(
    store: Store, brands: dict[str, Brand]
) -> None:
    first = Ingestor(store, brands)
    said = [first.ingest_objects(batch(n), format="x-v2", source="http:10.0.0.1") for n in (1, 2)]
    again = Ingestor(store, brands)  # a restarted listener
    said.append(again.ingest_objects(batch(3), format="x-v2", source="http:10.0.0.1"))
    assert [r.quarantined for r in said] == [1, 1, 1]
    rows = store.connection.execute("SELECT line, content FROM quarantine ORDER BY line").fetchall()
    assert [line for line, _ in rows] == [2, 4, 6]
    assert [bytes(c) for _, c in rows] == [b'{"data":{"id":"bad%d"}}' % n for n in (1, 2, 3)]
    lines = store.connection.execute("SELECT source_line FROM posts ORDER BY id").fetchall()
    assert lines == [(1,), (3,), (5,)]


def test_an_explicit_first_position(store: Store, brands: dict[str, Brand]) -> None:
    ingestor = Ingestor(store, brands)
    result = ingestor.ingest_objects(batch(1), format="x-v2", source="s", first=100)
    assert result.errors == ["s:101: missing (field 'created_at')"]
