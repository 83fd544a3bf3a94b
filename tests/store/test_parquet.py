"""Parquet export: every stored post once, with its labels, partitioned by platform and
day; read back in place; a non-empty folder refused unless asked."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.config import Brand
from uproar.errors import InputError
from uproar.pipeline import ingest_enrichers
from uproar.sources import ingest
from uproar.store import Store
from uproar.store.parquet import attach_parquet, export_parquet

ARCHIVES = ("x_v2_page.jsonl", "x_v1.jsonl", "mastodon_statuses.json", "posts.csv")


@pytest.fixture
def db(tmp_path: Path, fixtures: Path, brands: dict[str, Brand]) -> Path:
    path = tmp_path / "uproar.duckdb"
    with Store(path) as store:
        store.save_brands(brands)
        result = ingest(
            [fixtures / a for a in ARCHIVES], store, brands, enrichers=ingest_enrichers()
        )
        assert result.stored > 10
    return path


def test_export_writes_every_post_once_with_labels(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    with Store(db, read_only=True) as store:
        result = export_parquet(store, out)
        stored = store.connection.execute(
            "SELECT platform, id, created_at, text, brands FROM posts ORDER BY platform, id"
        ).fetchall()
        labels = store.connection.execute(
            "SELECT platform, id, sentiment, complaint FROM labels ORDER BY platform, id"
        ).fetchall()
    assert result.posts == len(stored) and result.files >= 3
    platforms = {p.name for p in out.iterdir()}
    assert platforms >= {"platform=x", "platform=mastodon", "platform=csv"}
    assert all(d.name.startswith("day=") for p in out.iterdir() for d in p.iterdir())
    # The contract other tools rely on: DuckDB's own reader counts the same rows.
    con = duckdb.connect()
    pattern = str(out / "**" / "*.parquet")
    read = con.execute(
        "SELECT platform, id, created_at, text, brands FROM "
        "read_parquet($p, hive_partitioning = true) ORDER BY platform, id",
        {"p": pattern},
    ).fetchall()
    assert read == stored
    exported_labels = con.execute(
        "SELECT platform, id, sentiment, complaint FROM "
        "read_parquet($p, hive_partitioning = true) WHERE sentiment IS NOT NULL "
        "ORDER BY platform, id",
        {"p": pattern},
    ).fetchall()
    assert exported_labels == labels and labels


def test_folder_with_files_is_refused_unless_overwrite(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    with Store(db, read_only=True) as store:
        first = export_parquet(store, out)
        with pytest.raises(InputError, match="not empty"):
            export_parquet(store, out)
        again = export_parquet(store, out, overwrite=True)
    assert again.posts == first.posts


def test_attach_queries_the_folder_in_place(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    with Store(db, read_only=True) as store:
        exported = export_parquet(store, out).posts
    with Store() as fresh:
        assert attach_parquet(fresh, out) == exported
        row = fresh.connection.execute(
            "SELECT count(*) FROM archive_posts WHERE list_contains(brands, 'kiwinet')"
        ).fetchone()
        assert row is not None and row[0] > 0
        with pytest.raises(InputError, match="no Parquet"):
            attach_parquet(fresh, tmp_path / "nothing-here")


def test_cli_export(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-parquet"
    result = CliRunner().invoke(
        get_app(), ["export", "--db", str(db), "--parquet", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"ok":true' in result.output and out.is_dir()
