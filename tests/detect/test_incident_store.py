"""Incidents are stored whole (peers, phases, term counts), and a store written before those
columns existed still opens, reads its incidents and takes new ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from uproar.records import Incident
from uproar.store import Store
from uproar.store.detect import load_incidents, save_incidents

from .conftest import T0

INCIDENT = Incident(
    id="acme-20240304T1000",
    brand="acme",
    start=T0 + timedelta(hours=10),
    detected_at=T0 + timedelta(hours=10, minutes=3),
    peak=T0 + timedelta(hours=10, minutes=20),
    end=T0 + timedelta(hours=12),
    severity="high",
    scope="industry",
    posts=420,
    authors=300,
    terms=("outage", "<script>"),
    peers=({"brand": "bolt", "signal": 88.0, "expected": 20.5, "excess": 67.5},),
    phases=(
        {"start": T0 + timedelta(hours=10), "detected_at": T0 + timedelta(hours=10, minutes=3),
         "end": T0 + timedelta(hours=10, minutes=40), "posts": 300},
        {"start": T0 + timedelta(hours=11), "detected_at": T0 + timedelta(hours=11, minutes=2),
         "end": None, "posts": 120},
    ),
    term_counts=({"term": "outage", "posts": 200, "reference_posts": 3, "lift": 41.27},),
)  # fmt: skip

# The incidents table as stores before issue 13's second pass made it.
OLD_TABLE = """CREATE TABLE incidents (
    id VARCHAR PRIMARY KEY, brand VARCHAR NOT NULL, start TIMESTAMP NOT NULL,
    detected_at TIMESTAMP NOT NULL, peak TIMESTAMP NOT NULL, "end" TIMESTAMP,
    severity VARCHAR NOT NULL, scope VARCHAR NOT NULL, posts BIGINT NOT NULL,
    authors BIGINT NOT NULL, regions VARCHAR[], topics VARCHAR[], terms VARCHAR[],
    sample_post_ids VARCHAR[], rumours JSON)"""


def test_an_incident_is_stored_whole() -> None:
    with Store() as store:
        save_incidents(store, [INCIDENT])
        assert load_incidents(store) == [INCIDENT]


def test_a_store_made_before_the_columns_existed_opens_and_takes_them(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    Store(db).close()  # today's tables, then the incidents table as it was
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE incidents")
    con.execute("DROP TABLE coverage")
    con.execute(OLD_TABLE)
    con.execute(
        """INSERT INTO incidents VALUES ('old-1', 'acme', TIMESTAMP '2024-03-01 10:00',
           TIMESTAMP '2024-03-01 10:02', TIMESTAMP '2024-03-01 10:30', NULL, 'low', 'brand',
           12, 9, [], [], ['slow'], [], '[]')"""
    )
    con.close()
    with Store(db, read_only=True) as store:  # read as it is: no column added, none needed
        [old] = load_incidents(store)
        assert old.peers == () and store.stats()["coverage"] == []
    with Store(db) as store:
        [old] = load_incidents(store)
        assert old.id == "old-1" and old.terms == ("slow",)
        assert old.peers == old.phases == old.term_counts == ()
        save_incidents(store, [INCIDENT])
    with Store(db) as store:
        assert [i.id for i in load_incidents(store)] == ["old-1", INCIDENT.id]
        assert load_incidents(store, brand="acme")[1] == INCIDENT
