"""An incident to report on: the 2014 ISP scenario simulated, ingested and detected once per
session, and the same posts again as a CSV archive (how a user's own export arrives)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from uproar.config import load_brands
from uproar.detect.batch import detect_store
from uproar.pipeline import ingest_enrichers
from uproar.simulate import load_scenario, simulate
from uproar.sources import ingest
from uproar.store import Store

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> it\'s us &amp; you'


@dataclass(frozen=True, slots=True)
class Stored:
    db: Path
    brands: Path
    incident: str


@pytest.fixture(scope="session")
def simulated_store(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    folder = tmp_path_factory.mktemp("report-sim")
    sim = simulate(load_scenario("isp-2014"), folder / "isp.jsonl", seed=5)
    brands = load_brands(sim.brands_path)
    with Store(folder / "uproar.duckdb") as store:
        store.save_brands(brands)
        ingest([folder / "isp.jsonl"], store, brands, enrichers=ingest_enrichers())
        found = detect_store(store, brands=brands)
    incident = max(found.incidents, key=lambda i: i.posts)
    return Stored(folder / "uproar.duckdb", sim.brands_path, incident.id)


@pytest.fixture(scope="session")
def csv_store(tmp_path_factory: pytest.TempPathFactory, simulated_store: Stored) -> Stored:
    """The simulated posts exported to a plain CSV, plus one hostile post from the brand
    during the incident, ingested from that CSV alone (no incidents stored: the report
    detects them itself)."""
    folder = tmp_path_factory.mktemp("report-csv")
    archive = folder / "mentions.csv"
    with Store(simulated_store.db, read_only=True) as store:
        rows = store.connection.execute(
            """SELECT id, strftime(created_at, '%Y-%m-%d %H:%M:%S'), text, author_handle,
                      reply_to_id FROM posts ORDER BY created_at"""
        ).fetchall()
        start = store.connection.execute(
            "SELECT strftime(start + INTERVAL 30 MINUTE, '%Y-%m-%d %H:%M:%S') FROM incidents "
            "WHERE id = ?",
            [simulated_store.incident],
        ).fetchone()
    assert start is not None
    with archive.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "created_at", "text", "username", "reply_to_id"])
        out.writerows(rows)
        out.writerow(["hostile-1", start[0], HOSTILE, "KiwiNet", ""])
    brands = load_brands(simulated_store.brands)
    with Store(folder / "uproar.duckdb") as store:
        store.save_brands(brands)
        result = ingest([archive], store, brands, enrichers=ingest_enrichers())
        assert result.quarantined == 0 and result.stored == len(rows) + 1
    return Stored(folder / "uproar.duckdb", simulated_store.brands, "")
