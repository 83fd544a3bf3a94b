"""A store written before a column existed still opens, keeps its posts and takes new ones."""

from __future__ import annotations

from pathlib import Path

from uproar.config import Brand
from uproar.sources import ingest
from uproar.store import Store


def test_a_store_without_author_location_gains_it(
    tmp_path: Path, fixtures: Path, brands: dict[str, Brand]
) -> None:
    db = tmp_path / "old.duckdb"
    with Store(db) as store:
        ingest([fixtures / "x_v2_page.jsonl"], store, brands)
        store.connection.execute("ALTER TABLE posts DROP COLUMN author_location")
    with Store(db) as store:
        before = {p.id: p for p in store.posts()}
        assert before and all(p.author_location is None for p in before.values())
        result = ingest([fixtures / "x_v1.jsonl"], store, brands)
        assert result.stored > 0
        located = [p for p in store.posts() if p.id not in before and p.author_location]
        assert located, "new posts keep their authors' locations"
