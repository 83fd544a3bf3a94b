"""Bad input is kept with file, line, field and reason; it never stops the run."""

from __future__ import annotations

from pathlib import Path

from uproar.config import Brand
from uproar.sources import ingest
from uproar.store import Store


def quarantined(store: Store) -> list[tuple[object, ...]]:
    return store.connection.execute(
        "SELECT line, item, kind, field, reason FROM quarantine ORDER BY line, item"
    ).fetchall()


def test_each_kind_of_bad_line(fixtures: Path, store: Store, brands: dict[str, Brand]) -> None:
    result = ingest([fixtures / "bad.jsonl"], store, brands)
    assert result.as_dict()["read"] == 9
    assert (result.stored, result.quarantined) == (2, 7)
    rows = quarantined(store)
    kinds = {(line, item): (kind, field) for line, item, kind, field, _ in rows}
    assert kinds == {
        (2, 0): ("invalid JSON", None),
        (3, 0): ("missing field", "id"),
        (4, 0): ("missing field", "created_at"),
        (5, 0): ("bad value", "created_at"),
        (6, 0): ("wrong type", "id"),
        (7, 1): ("wrong type", "text"),  # the good tweet beside it on line 7 is stored
        (8, 0): ("invalid UTF-8", None),
    }
    assert {p.id for p in store.posts()} == {"900", "906"}
    content = store.connection.execute("SELECT content FROM quarantine WHERE line = 8").fetchone()
    assert content is not None and b"\xff\xfe" in content[0]  # kept byte for byte
    messages = "\n".join(result.errors)
    assert "bad.jsonl:5: not an ISO 8601 time: 'yesterday' (field 'created_at')" in messages


def test_quarantine_is_idempotent(fixtures: Path, store: Store, brands: dict[str, Brand]) -> None:
    ingest([fixtures / "bad.jsonl"], store, brands)
    again = ingest([fixtures / "bad.jsonl"], store, brands)
    assert (again.stored, again.duplicates) == (0, 2)
    assert len(quarantined(store)) == 7


def test_csv_bad_rows(tmp_path: Path, store: Store, brands: dict[str, Brand]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        b"id,created_at,text,username,likes\n"
        b"1,2014-09-06T10:00:00Z,@KiwiNet ok,a,1\n"
        b",2014-09-06T10:00:00Z,no id,b,0\n"
        b"3,not a time,bad time,c,0\n"
        b"4,2014-09-06T10:00:00Z,bad count,d,many\n"
        b"5,2014-09-06T10:00:00Z,bad \xff byte,e,0\n"
        b"6,2014-09-06T10:00:00Z,too,many,fields,here\n"
    )
    result = ingest([bad], store, brands)
    assert (result.stored, result.quarantined) == (1, 5)
    rows = quarantined(store)
    assert [(line, kind, field) for line, _, kind, field, _ in rows] == [
        (3, "missing field", "id"),
        (4, "bad value", "created_at"),
        (5, "wrong type", "like_count"),
        (6, "invalid UTF-8", None),
        (7, "bad value", None),
    ]
