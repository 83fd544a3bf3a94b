"""``uproar ingest --parquet-out``: the export layout written straight from the archive,
each post once, the quarantine beside it; and a folder read in place by stats and detect."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.detect.batch import detect_store
from uproar.errors import InputError
from uproar.pipeline import ingest_enrichers
from uproar.sources import Ingestor
from uproar.sources.ingestor import BATCH_ROWS
from uproar.sources.parquet_out import ParquetIngestor, quarantine_folder
from uproar.store import Store
from uproar.store.parquet import export_parquet, open_parquet

from .archive import NOW, make_archive

pytestmark = pytest.mark.slow


def _table(folder: Path) -> str:
    return f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"


@pytest.mark.parametrize("batch_size", [BATCH_ROWS, 997], ids=["one-batch", "many-batches"])
def test_parquet_out_writes_what_export_writes_each_post_once(
    tmp_path: Path, batch_size: int
) -> None:
    paths, brands = make_archive(tmp_path, scale=0.1)
    now = datetime.fromisoformat(NOW)
    out = tmp_path / "posts"
    ingestor = ParquetIngestor(
        out, brands, batch_size=batch_size, enrichers=ingest_enrichers(), now=now
    )
    result = ingestor.finish(ingestor.ingest(paths))
    with Store(tmp_path / "e.duckdb") as store:
        reference = Ingestor(store, brands, enrichers=ingest_enrichers(), now=now).ingest(paths)
        export_parquet(store, tmp_path / "export")
        stats = store.stats()
        incidents = detect_store(store, brands=brands, save=False).incidents
    assert result.as_dict() == reference.as_dict()
    assert result.duplicates > 0 and result.quarantined == 1
    con = duckdb.connect()
    ours, theirs = _table(out), _table(tmp_path / "export")
    assert (
        con.sql(f"DESCRIBE SELECT * FROM {ours}").fetchall()
        == con.sql(f"DESCRIBE SELECT * FROM {theirs}").fetchall()
    )
    for a, b in ((ours, theirs), (theirs, ours)):
        assert con.sql(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchall() == [(0,)]
    assert sorted(p.name for p in out.iterdir()) == ["platform=x"]
    assert not out.with_name("posts.staging").exists()
    bad = con.sql(f"SELECT source_file, line, kind FROM '{quarantine_folder(out)}/*.parquet'")
    assert bad.fetchall() == [(str(paths[0]), 4, "invalid JSON")]
    # read in place: the same counts and the same incidents as the store
    with open_parquet(out) as archive:
        assert archive.stats() == stats
        assert detect_store(archive, brands=brands, save=False).incidents == incidents


def test_parquet_out_refuses_a_folder_with_files_and_a_second_target(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        ParquetIngestor(tmp_path / "full", {})
    runner = CliRunner()
    result = runner.invoke(
        get_app(), ["ingest", "x.jsonl", "--parquet-out", "o", "--db", "d.duckdb"]
    )
    assert result.exit_code == 2
    assert "drop --db" in result.output


def test_detect_on_a_parquet_folder_needs_brands(tmp_path: Path, runner: Any) -> None:
    (tmp_path / "posts").mkdir()
    result = runner.invoke(get_app(), ["detect", "--parquet", str(tmp_path / "posts")])
    assert result.exit_code == 2
    assert "pass --brands" in result.output
