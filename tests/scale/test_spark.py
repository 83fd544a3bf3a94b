"""Equality: the same simulated archive through the embedded path and through Spark
(``local[2]``) gives the same posts, labels, quarantine and incidents, field by field.

One SparkSession for the module (the JVM starts once); skipped, with the reason, where
pyspark or Java is missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from uproar.cli.app import get_app
from uproar.config import Brand
from uproar.detect.batch import DetectResult, detect_store
from uproar.pipeline import ingest_enrichers
from uproar.sources import Ingestor
from uproar.sources.ingestor import IngestResult
from uproar.spark import spark_missing, spark_session
from uproar.store import Store

from .archive import NOW, make_archive

MISSING = spark_missing()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(MISSING is not None, reason=f"Spark cannot run here: {MISSING}"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with spark_session("local[2]") as session:
        yield session


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, Brand]]:
    return make_archive(tmp_path_factory.mktemp("archive"))


def _ingest(
    store: Store, paths: list[Path], brands: dict[str, Brand], spark: Any = None
) -> IngestResult:
    now = datetime.fromisoformat(NOW)
    ingestor = Ingestor(store, brands, enrichers=ingest_enrichers(), now=now)
    if spark is None:
        return ingestor.ingest(paths)
    from uproar.spark.ingest import spark_ingest

    return spark_ingest(spark, ingestor, paths)


def _rows(store: Store, table: str, key: str) -> list[dict[str, Any]]:
    return (
        store.connection.sql(f"SELECT * FROM {table} ORDER BY {key}").to_arrow_table().to_pylist()
    )


def _seconds(value: Any) -> Any:
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


def _fields(record: Any) -> dict[str, Any]:
    return {k: _seconds(v) for k, v in dataclasses.asdict(record).items()}


@pytest.fixture(scope="module")
def stores(
    spark: Any, archive: tuple[list[Path], dict[str, Brand]]
) -> Iterator[tuple[Store, Store, IngestResult, IngestResult]]:
    paths, brands = archive
    with Store(":memory:") as embedded, Store(":memory:") as on_spark:
        first = _ingest(embedded, paths, brands)
        second = _ingest(on_spark, paths, brands, spark)
        yield embedded, on_spark, first, second


def test_spark_ingest_stores_the_same_posts_labels_and_quarantine(
    stores: tuple[Store, Store, IngestResult, IngestResult],
) -> None:
    embedded, on_spark, first, second = stores
    assert first.as_dict() == second.as_dict()
    assert first.duplicates > 0 and first.quarantined == 1  # the mess was met, not skipped
    assert first.errors == second.errors
    for table, key in (("posts", "platform, id"), ("labels", "platform, id"),
                       ("quarantine", "source_file, line, item")):  # fmt: skip
        ours, theirs = _rows(embedded, table, key), _rows(on_spark, table, key)
        assert len(ours) == len(theirs) > 0, table
        for a, b in zip(ours, theirs, strict=True):
            assert {k: _seconds(v) for k, v in a.items()} == {
                k: _seconds(v) for k, v in b.items()
            }, (table, a.get("id"))


def test_spark_detect_finds_the_same_incidents_per_brand_family(
    spark: Any,
    stores: tuple[Store, Store, IngestResult, IngestResult],
    archive: tuple[list[Path], dict[str, Brand]],
) -> None:
    from uproar.spark.detect import brand_families, spark_detect

    embedded, on_spark, _, _ = stores
    _, brands = archive
    assert len(set(brand_families(brands).values())) == 2  # one pair of peers, one alone
    ours: DetectResult = detect_store(embedded, brands=brands)
    theirs = spark_detect(spark, on_spark, brands=brands)
    assert ours.incidents, "the archive's incident was not found at all"
    assert ours.rumours
    key = ("start", "brand", "id")
    for name in ("incidents", "rumours", "coverage"):
        a = sorted((_fields(r) for r in getattr(ours, name)), key=lambda r: [r.get(k) for k in key])
        b = sorted(
            (_fields(r) for r in getattr(theirs, name)), key=lambda r: [r.get(k) for k in key]
        )
        assert a == b, name
    assert (ours.clock, ours.minutes) == (theirs.clock, theirs.minutes)
    # both saved what they found, the same way
    assert _rows(embedded, "incidents", "id") == _rows(on_spark, "incidents", "id")


def test_cli_ingest_engine_spark_stores_what_the_embedded_ingest_stores(
    spark: Any,
    stores: tuple[Store, Store, IngestResult, IngestResult],
    archive: tuple[list[Path], dict[str, Brand]],
    tmp_path: Path,
    runner: Any,
) -> None:
    """The contract: ``uproar ingest PATH --engine spark --db FILE`` stores the posts the
    embedded path stores (the command reuses the module's SparkSession)."""
    paths, _ = archive
    brands = paths[0].parent / "isp.brands.toml"
    db = tmp_path / "spark.duckdb"
    args = ["ingest", *map(str, paths), "--db", str(db), "--brands", str(brands)]
    result = runner.invoke(get_app(), [*args, "--engine", "spark", "--no-classify", "--json"])
    assert result.exit_code == 0, result.output
    columns = (
        "SELECT platform, id, created_at, text, brands, own_brand, region, source_file, "
        "source_line, raw FROM posts ORDER BY platform, id"
    )
    with Store(db, read_only=True) as store:
        found = store.connection.sql(columns).fetchall()
    assert found == stores[0].connection.sql(columns).fetchall()
    assert len(found) > 1000


def test_cli_classify_engine_spark_prints_what_the_embedded_classify_prints(
    spark: Any,
    stores: tuple[Store, Store, IngestResult, IngestResult],
    tmp_path: Path,
    runner: Any,
) -> None:
    posts = (
        stores[0]
        .connection.sql(
            "SELECT text, author_followers, like_count FROM posts ORDER BY platform, id LIMIT 3000"
        )
        .to_arrow_table()
    )
    texts = tmp_path / "posts.jsonl"
    texts.write_text("".join(orjson.dumps(row).decode() + "\n" for row in posts.to_pylist()))
    printed = {}
    for engine in ("embedded", "spark"):
        result = runner.invoke(get_app(), ["classify", str(texts), "--json", "--engine", engine])
        assert result.exit_code == 0, result.output
        printed[engine] = result.stdout
    assert printed["spark"] == printed["embedded"]
    assert printed["spark"].count("\n") == 3000
