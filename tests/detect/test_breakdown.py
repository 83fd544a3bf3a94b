"""The signal split by region and topic, over a real store, and its command."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from uproar.cli.app import get_app
from uproar.detect.batch import breakdown
from uproar.store import Store

from .conftest import T0, Surge, archive

ONSET = T0 + timedelta(hours=27)


def surge_store(path: Path | None = None) -> Store:
    store = Store(path or ":memory:")
    surge = Surge("acme", ONSET, 30, 8.0, region="NZ-WGN")
    store.insert_posts(archive({"acme": 1.0, "bolt": 1.0}, hours=30, surges=[surge]))
    return store


def test_the_surge_shows_in_its_region_and_only_there() -> None:
    with surge_store() as store:
        table = breakdown(store, brand="acme", by="region", step=timedelta(minutes=30))
    rows = table.to_pylist()
    assert set(table.column_names) == {
        "time", "key", "mentions", "complaints", "authors", "signal", "coverage"
    }  # fmt: skip
    # no detection has been saved, so no coverage change is known
    assert set(table.column("coverage").to_pylist()) == {None}
    at_onset = {r["key"]: r for r in rows if r["time"] == ONSET.replace(tzinfo=None)}
    assert at_onset["NZ-WGN"]["complaints"] > 100 and at_onset["NZ-WGN"]["signal"] > 100
    before = [r for r in rows if r["key"] == "NZ-WGN" and r["time"] < ONSET.replace(tzinfo=None)]
    assert before == []  # the background posts are NZ or AU
    assert {r["key"] for r in rows} == {"NZ", "AU", "NZ-WGN"}
    # the signal never exceeds the complaints, nor the complaints the mentions
    assert all(r["signal"] <= r["complaints"] <= r["mentions"] for r in rows)


def test_topics_come_from_the_labels() -> None:
    with surge_store() as store:
        ids = store.connection.execute(
            "SELECT id FROM posts WHERE region = 'NZ-WGN' ORDER BY id"
        ).fetchall()
        store.save_labels(
            pa.Table.from_pylist(
                [
                    {"platform": "x", "id": i, "complaint": True, "sentiment": "negative",
                     "topics": ["no_connection", "calls"]}
                    for (i,) in ids
                ]
            )
        )  # fmt: skip
        rows = breakdown(store, brand="acme", by="topic", step=timedelta(hours=1)).to_pylist()
    by_key: dict[str, int] = {}
    for r in rows:
        by_key[r["key"]] = by_key.get(r["key"], 0) + r["mentions"]
    assert by_key["no_connection"] == by_key["calls"] == len(ids)
    assert by_key["none"] > 0  # the unlabelled background


def test_bad_arguments_are_refused() -> None:
    with Store() as store:
        with pytest.raises(ValueError, match="by must be one of"):
            breakdown(store, brand="acme", by="city")
        with pytest.raises(ValueError, match="whole number of minutes"):
            breakdown(store, brand="acme", step=timedelta(seconds=90))


def test_cli_signal(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    surge_store(db).close()
    runner = CliRunner()
    run = runner.invoke(get_app(), ["signal", "--db", str(db), "--brand", "acme", "--json"])
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout)
    assert any(r["key"] == "NZ-WGN" and r["complaints"] > 50 for r in rows)
    shown = runner.invoke(get_app(), ["signal", "--db", str(db), "--brand", "acme"])
    assert shown.exit_code == 0 and "NZ-WGN" in shown.stdout
    nobody = runner.invoke(get_app(), ["signal", "--db", str(db), "--brand", "nobody"])
    assert nobody.exit_code == 2 and "unknown brand 'nobody'; known: acme" in nobody.output
    bad = runner.invoke(get_app(), ["signal", "--db", str(db), "--brand", "acme", "--by", "x"])
    assert bad.exit_code == 2
