"""``uproar detect --db`` and ``uproar eval detect`` through the real CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.store import Store
from uproar.store.detect import load_incidents

from .conftest import T0, Surge, archive

KEYS = {"brand", "start", "detected_at", "peak", "end", "severity", "scope", "posts",
        "authors", "regions", "topics", "terms", "sample_post_ids"}  # fmt: skip
BRANDS = """
[brands.acme]
name = "Acme"
keywords = ["acme"]
peers = ["bolt"]

[brands.bolt]
name = "Bolt"
keywords = ["bolt"]
peers = ["acme"]
"""


@pytest.mark.slow
def test_detect_db_json_and_stored_incidents(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    brands = tmp_path / "brands.toml"
    brands.write_text(BRANDS)
    surge = Surge("acme", T0 + timedelta(hours=27), 30, 10.0, region="AU")
    with Store(db) as store:
        store.insert_posts(archive({"acme": 1.5, "bolt": 1.0}, hours=30, surges=[surge]))
    run = CliRunner().invoke(
        get_app(), ["detect", "--db", str(db), "--brands", str(brands), "--json"]
    )
    assert run.exit_code == 0, run.output
    incidents = json.loads(run.stdout)
    assert [i["brand"] for i in incidents] == ["acme"]
    inc = incidents[0]
    assert set(inc) >= KEYS
    assert inc["scope"] == "brand" and inc["regions"][0] == "AU"
    assert inc["detected_at"].endswith("Z") and inc["end"].endswith("Z")
    with Store(db) as store:
        stored = load_incidents(store)
        assert [i.id for i in stored] == [inc["id"]]
        # running again over the same window replaces rather than duplicates
    again = CliRunner().invoke(get_app(), ["detect", "--db", str(db)])
    assert again.exit_code == 0, again.output
    assert "acme" in again.stdout
    with Store(db) as store:
        assert len(load_incidents(store)) == 1


@pytest.mark.slow
def test_eval_detect_on_two_scenarios(tmp_path: Path) -> None:
    from importlib import resources

    root = Path(str(resources.files("uproar.eval").joinpath("scenarios")))
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in ("short-blip", "flood-one-author"):
        (folder / f"{name}.toml").write_text((root / f"{name}.toml").read_text())
    run = CliRunner().invoke(get_app(), ["eval", "detect", str(folder), "--json"])
    report = json.loads(run.stdout)
    totals = report["totals"]
    assert totals["scenarios"] == 2 and totals["events"] == 1
    assert totals["recall"] == 1.0 and totals["false_alarms"] == 0
    assert totals["latency_median_min"] < 10
    assert run.exit_code == (0 if all(report["passed"].values()) else 1)


@pytest.mark.slow
def test_eval_detect_pools_seeds(tmp_path: Path) -> None:
    # --seeds 2 runs the scenario on its own seed and the next one; the runs' posts differ
    run = CliRunner().invoke(
        get_app(), ["eval", "detect", "short-blip", "--seeds", "2", "--jobs", "2", "--json"]
    )
    report = json.loads(run.stdout)
    rows = report["scenarios"]
    assert [r["scenario"] for r in rows] == ["short-blip", "short-blip"]
    assert rows[1]["seed"] == rows[0]["seed"] + 1
    assert rows[0]["posts"] != rows[1]["posts"]
    assert report["totals"]["events"] == 2
    table = CliRunner().invoke(get_app(), ["eval", "detect", "short-blip", "--no-check"])
    assert "short-blip" in table.stdout and str(rows[0]["seed"]) in table.stdout
    later = CliRunner().invoke(
        get_app(), ["eval", "detect", "short-blip", "--seed-offset", "1", "--json"]
    )
    assert json.loads(later.stdout)["scenarios"][0]["posts"] == rows[1]["posts"]


@pytest.mark.slow
def test_a_collection_start_shows_in_stats_signal_and_detect(tmp_path: Path) -> None:
    # bolt is collected from the start; acme's collection begins a day and a half later,
    # with a stray mention now and then before (posts naming it among others)
    import pyarrow as pa

    db = tmp_path / "u.duckdb"
    brands = tmp_path / "brands.toml"
    brands.write_text(BRANDS)
    began = T0 + timedelta(hours=36)
    parts = [
        archive({"bolt": 1.0}, hours=60, seed=21),
        archive({"acme": 0.004}, hours=36, seed=22),
        archive({"acme": 1.5}, hours=24, seed=23, start=began),
    ]
    posts = pa.concat_tables(parts).sort_by("created_at")
    ids = pa.array([f"p{k:08d}" for k in range(posts.num_rows)])
    posts = posts.set_column(posts.schema.get_field_index("id"), "id", ids)
    with Store(db) as store:
        store.insert_posts(posts)
    runner = CliRunner()
    det = runner.invoke(get_app(), ["detect", "--db", str(db), "--brands", str(brands)])
    assert det.exit_code == 0, det.output
    assert "coverage: acme collection began" in det.stdout and "not an incident" in det.stdout
    stats = runner.invoke(get_app(), ["stats", "--db", str(db), "--json"])
    assert stats.exit_code == 0, stats.output
    starts = [c for c in json.loads(stats.stdout)["coverage"] if c["brand"] == "acme"]
    assert any(c["kind"] == "start" and c["since"] >= began.isoformat()[:13] for c in starts)
    shown = runner.invoke(get_app(), ["stats", "--db", str(db)])
    assert "collection began" in shown.stdout
    sig = runner.invoke(
        get_app(), ["signal", "--db", str(db), "--brand", "acme", "--step", "60", "--json"]
    )
    assert sig.exit_code == 0, sig.output
    marked = [r for r in json.loads(sig.stdout) if r["coverage"] == "start"]
    assert marked and all(r["time"] >= began.isoformat()[:13] for r in marked[-1:]), marked
