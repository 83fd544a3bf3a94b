"""A store to serve: the 2014 ISP scenario simulated, ingested and detected once per session,
plus one hostile post by the brand during the incident (script tags, an attribute breakout,
a ``javascript:`` link) that every page must show as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from uproar.config import load_brands
from uproar.detect.batch import detect_store
from uproar.pipeline import ingest_enrichers
from uproar.simulate import load_scenario, simulate
from uproar.sources import ingest
from uproar.store import Store
from uproar.store.store import POST_COLUMNS

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)> it\'s us &amp; you'
HOSTILE_AUTHOR = '"><img src=x onerror=alert(2)>'
HOSTILE_URL = "javascript:alert(3)"


@dataclass(frozen=True, slots=True)
class Served:
    db: Path
    brands: Path
    incident: str


def add_post(store: Store, **given: object) -> None:
    """Store one post with the given columns (the rest empty)."""
    row = {c: given.get(c) for c in POST_COLUMNS}
    schema = store.connection.sql("FROM posts LIMIT 0").to_arrow_table().schema
    table = pa.Table.from_pylist([row], schema=schema)
    store.insert_posts(table)


@pytest.fixture(scope="session")
def served_store(tmp_path_factory: pytest.TempPathFactory) -> Served:
    folder = tmp_path_factory.mktemp("serve-sim")
    sim = simulate(load_scenario("isp-2014"), folder / "isp.jsonl", seed=5)
    brands = load_brands(sim.brands_path)
    db = folder / "uproar.duckdb"
    with Store(db) as store:
        store.save_brands(brands)
        ingest([folder / "isp.jsonl"], store, brands, enrichers=ingest_enrichers())
        found = detect_store(store, brands=brands)
        incident = max(found.incidents, key=lambda i: i.posts)
        at = (incident.start + timedelta(minutes=40)).replace(tzinfo=None)
        add_post(
            store,
            platform="x",
            id="hostile-1",
            created_at=at,
            text=HOSTILE,
            author_id="kiwinet-official",
            author_handle=HOSTILE_AUTHOR,
            urls=[HOSTILE_URL],
            brands=["kiwinet"],
            own_brand="kiwinet",
            ingested_at=at,
        )
    return Served(db, sim.brands_path, incident.id)


@pytest.fixture
def served_copy(served_store: Served, tmp_path: Path) -> Served:
    """A private copy of the served store, for tests that write."""
    copy = tmp_path / "uproar.duckdb"
    copy.write_bytes(served_store.db.read_bytes())
    return Served(copy, served_store.brands, served_store.incident)
