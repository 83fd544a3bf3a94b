"""How an archive's batches reach the file: the last, partial one is written through."""

from __future__ import annotations

from pathlib import Path

from uproar.config import load_brands
from uproar.pipeline import ingest_enrichers
from uproar.simulate import load_scenario, simulate
from uproar.sources import ingest
from uproar.store import Store


def wal_bytes(db: Path) -> int:
    wal = Path(f"{db}.wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_last_batch_goes_into_the_file_not_the_wal(tmp_path: Path) -> None:
    run = simulate(load_scenario("isp-2014"), tmp_path / "sim.jsonl", seed=4, scale=0.05)
    brands = load_brands(run.brands_path)
    size = run.posts // 3 + 1  # two full batches and a last one of about a third
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        result = ingest([run.out], store, brands, batch_size=size, enrichers=ingest_enrichers())
        assert result.stored == run.posts
        assert wal_bytes(db) < 64 << 10  # nothing logged to replay: the rows are in the file
        threshold = store.connection.execute("SELECT current_setting('checkpoint_threshold')")
        assert threshold.fetchone() == ("244.1 MiB",)  # 256MB again, for what comes next
    with Store(db, read_only=True) as store:
        assert store.count_posts() == run.posts
