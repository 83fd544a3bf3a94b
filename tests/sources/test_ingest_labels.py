"""Labels made in the parse workers are the labels the writer used to make, post for post."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from uproar.config import Brand, load_brands
from uproar.pipeline import ClassifyLabeller, classify_enricher, ingest_enrichers
from uproar.simulate import load_scenario, simulate
from uproar.sources import ingest, ingestor
from uproar.sources.ingestor import Enricher, Labeller
from uproar.store import Store


def stored_labels(store: Store) -> pa.Table:
    return store.connection.sql("SELECT * FROM labels ORDER BY platform, id").to_arrow_table()


def writer_side(brands: dict[str, Brand]) -> Enricher:
    """The writer-side path: label the new posts of each batch where they are written, with
    the brands' topic packs, as ingest's labeller has them."""
    labeller = ClassifyLabeller("fast").for_brands(brands)

    def label(store: Store, posts: pa.Table) -> None:
        store.save_labels(labeller.label(posts))

    return label


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("labels")
    run = simulate(load_scenario("isp-2014"), folder / "compact.jsonl", seed=5, scale=0.3)
    # twarc2 writes json.dumps' defaults: spaces after separators, \u escapes
    twarc = folder / "twarc.jsonl"
    with run.out.open() as src, twarc.open("w") as dst:
        for line in src:
            dst.write(json.dumps(json.loads(line)) + "\n")
    return run.out, twarc, run.brands_path


@pytest.mark.slow
@pytest.mark.parametrize(("style", "workers"), [(0, 2), (1, 2), (1, 1)])
def test_worker_labels_equal_writer_labels(
    archives: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, style: int, workers: int
) -> None:
    archive, brands = archives[style], load_brands(archives[2])
    with Store(":memory:") as store:
        ingest([archive], store, brands, workers=1, enrichers=[writer_side(brands)])
        expected = stored_labels(store)
    # parse (and label) in worker processes or here, in many jobs of several pieces
    monkeypatch.setattr(ingestor, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingestor, "LABEL_BYTES", 512 << 10)
    monkeypatch.setattr(ingestor, "CHUNK_BYTES", 128 << 10)
    with Store(":memory:") as store:
        result = ingest([archive], store, brands, workers=workers, enrichers=ingest_enrichers())
        got = stored_labels(store)
    assert result.stored == expected.num_rows > 5_000
    assert got.equals(expected)


def test_labels_of_duplicates_are_not_stored_again(
    archives: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    archive, brands = archives[0], load_brands(archives[2])
    lines = archive.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 3 :]))  # overlaps the first
    with Store(":memory:") as store:
        ingest([first], store, brands, workers=1, enrichers=[writer_side(brands)])
        ingest([second], store, brands, workers=1, enrichers=[writer_side(brands)])
        expected = stored_labels(store)
    with Store(":memory:") as store:
        ingest([first], store, brands, batch_size=997, enrichers=ingest_enrichers())
        store.connection.execute("UPDATE labels SET model = 'before'")
        result = ingest([second], store, brands, batch_size=997, enrichers=ingest_enrichers())
        assert result.duplicates > 0
        (relabelled,) = store.connection.execute(
            "SELECT count(*) FROM labels WHERE model = 'fast'"
        ).fetchone()
        assert relabelled == result.stored  # only the new posts' labels were written
        store.connection.execute("UPDATE labels SET model = 'fast'")
        assert stored_labels(store).equals(expected)


def test_labels_kept_for_a_post_not_stored_are_replaced(
    archives: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """New posts' labels go in with a plain INSERT; one that meets a label already kept
    (here: kept for a post the store does not hold) falls back to replacing it."""
    archive, brands = archives[0], load_brands(archives[2])
    lines = archive.read_bytes().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join(lines[:50]))
    with Store(":memory:") as store:
        result = ingest([part], store, brands, batch_size=997, enrichers=ingest_enrichers())
        expected = stored_labels(store)
        store.connection.execute("DELETE FROM posts")
        store.connection.execute("UPDATE labels SET model = 'before'")
        again = ingest([part], store, brands, batch_size=997, enrichers=ingest_enrichers())
        assert again.stored == result.stored > 0
        assert stored_labels(store).equals(expected)


def test_only_the_fast_model_labels_in_workers() -> None:
    assert isinstance(classify_enricher(model="fast"), Labeller)
    assert classify_enricher(model="fast") == ClassifyLabeller("fast")
    assert not isinstance(classify_enricher(model="accurate"), Labeller)


def test_vocabulary_positions_equal_arrow_index_in() -> None:
    import numpy as np
    import pyarrow.compute as pc

    from uproar.understand.features import Vocabulary

    words = pa.array(["down", "outage", "down", "the", "fibre down", "é"])  # a repeat: first wins
    values = pa.chunked_array([["the", "outage", None], ["nope", "down", "é", "fibre down", ""]])
    expected = pc.fill_null(pc.index_in(values, value_set=words), -1).to_numpy()
    assert np.array_equal(Vocabulary(words).positions(values), expected)
    assert Vocabulary(words).positions(pa.array([], pa.string())).size == 0
