"""Idempotent re-ingest, parallel parsing, and a real SIGKILL in the middle of an ingest.

Ingest cuts a file into transactions of whole multiples of the batch size and carries the
rest into the next one; whatever the size, every post is stored once and every count kept.
"""

from __future__ import annotations

import gzip
import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from uproar.config import Brand
from uproar.sources import ingest, ingestor
from uproar.sources.ingestor import ChunkParser
from uproar.store import Store


def write_pages(path: Path, pages: int, *, per_page: int = 100, bad_every: int = 0) -> int:
    """X v2 JSONL of ``pages`` response pages; every ``bad_every``-th line is broken."""
    good = 0
    with path.open("wb") as out:
        for page in range(pages):
            if bad_every and page % bad_every == bad_every - 1:
                out.write(b'{"data": [ this is not json\n')
                continue
            tweets = [
                {
                    "id": str(10**15 + page * per_page + i),
                    "text": f"@KiwiNet page {page} post {i} is the internet down?",
                    "created_at": f"2014-09-06T{page % 24:02d}:{i % 60:02d}:00.000Z",
                    "author_id": str(i % 97),
                }
                for i in range(per_page)
            ]
            good += per_page
            out.write(orjson.dumps({"data": tweets}) + b"\n")
    return good


def test_reingest_stores_nothing_new(
    tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    archive = tmp_path / "a.jsonl"
    expected = write_pages(archive, 30, bad_every=7)
    first = ingest([archive], store, brands, batch_size=500)
    assert (first.stored, first.quarantined) == (expected, 4)
    second = ingest([archive], store, brands, batch_size=500)
    assert (second.stored, second.duplicates, second.quarantined) == (0, expected, 4)
    assert store.count_posts() == expected


@pytest.mark.slow
def test_parallel_workers_match_single_process(tmp_path: Path, brands: dict[str, Brand]) -> None:
    archive = tmp_path / "big.jsonl"
    expected = write_pages(archive, 600, bad_every=50)
    counts = []
    for workers in (1, 2):
        with Store(tmp_path / f"w{workers}.duckdb") as store:
            result = ingest([archive], store, brands, workers=workers)
            rows = store.connection.execute(
                "SELECT count(*), count(DISTINCT id), sum(source_line) FROM posts"
            ).fetchone()
            lines = store.connection.execute(
                "SELECT list(line ORDER BY line) FROM quarantine"
            ).fetchone()
            counts.append((result.stored, result.quarantined, rows, lines))
    assert counts[0] == counts[1]
    assert counts[0][0] == expected


@pytest.mark.slow
@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_parse_workers_store_what_one_process_stores(
    tmp_path: Path, brands: dict[str, Brand], monkeypatch: pytest.MonkeyPatch, packed: bool
) -> None:
    """Workers read spans of a plain file themselves and get a gzip file's lines sent."""
    archive = tmp_path / "a.jsonl"
    expected = write_pages(archive, 400, per_page=30, bad_every=40)
    if packed:
        packed_path = tmp_path / "a.jsonl.gz"
        packed_path.write_bytes(gzip.compress(archive.read_bytes()))
        archive = packed_path
    monkeypatch.setattr(ingestor, "PARALLEL_MIN_BYTES", 0)  # this small file in parallel too
    monkeypatch.setattr(ingestor, "CHUNK_BYTES", 64 << 10)  # and in many chunks
    tables = []
    for workers in (1, 2):
        with Store(tmp_path / f"{packed}{workers}.duckdb") as store:
            result = ingest([archive], store, brands, workers=workers, batch_size=1000)
            assert (result.stored, result.quarantined) == (expected, 10)
            tables.append(
                (
                    store.connection.sql(
                        "SELECT * EXCLUDE (ingested_at) FROM posts ORDER BY id"
                    ).to_arrow_table(),
                    store.connection.sql(
                        "SELECT * EXCLUDE (quarantined_at) FROM quarantine ORDER BY line"
                    ).to_arrow_table(),
                )
            )
    assert tables[0][0].equals(tables[1][0]) and tables[0][1].equals(tables[1][1])


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_stores_each_post_once(
    tmp_path: Path, fixtures: Path
) -> None:
    archive = tmp_path / "archive.jsonl"
    expected = write_pages(archive, 3000, bad_every=100)
    db = tmp_path / "store.duckdb"
    command = [
        sys.executable,
        "-m",
        "uproar.cli",
        "ingest",
        str(archive),
        "--db",
        str(db),
        "--brands",
        str(fixtures / "brands.toml"),
        "--batch-size",
        "2000",
        "--json",
        "--no-classify",
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    victim = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # Once the file and its write-ahead log hold the first committed chunks, kill the ingest
    # wherever it is.
    wal = Path(f"{db}.wal")

    def written() -> int:
        return sum(p.stat().st_size for p in (db, wal) if p.exists())

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and written() < 32 << 20:  # past the first commit
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL

    with Store(db) as store:
        partial = store.count_posts()
    assert 0 < partial < expected  # killed mid-way, with committed batches kept

    done = subprocess.run(command, env=env, capture_output=True, check=True)
    result = orjson.loads(done.stdout)
    assert result["stored"] == expected - partial
    assert result["duplicates"] == partial
    with Store(db) as store:
        total, distinct = store.connection.execute(
            "SELECT count(*), count(DISTINCT (platform, id)) FROM posts"
        ).fetchone() or (0, 0)
        quarantined = store.connection.execute("SELECT count(*) FROM quarantine").fetchone()
    assert total == distinct == expected
    assert quarantined == (30,)


def test_long_lines_are_not_mistaken_for_one_document(
    tmp_path: Path, store: Store, brands: dict[str, Brand], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uproar.sources.ingestor as ingestor

    # A JSON Lines file over the whole-document limit, with a first line far longer than
    # any read-ahead, and a broken first line in a second file: both are read line by line.
    monkeypatch.setattr(ingestor, "WHOLE_FILE_LIMIT", 200_000)
    archive = tmp_path / "long.jsonl"
    expected = write_pages(archive, 6, per_page=800)
    assert archive.stat().st_size > 200_000 and len(archive.read_bytes().split(b"\n")[0]) > 65536
    assert ingest([archive], store, brands).stored == expected
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b'{"data": [oops\n' + archive.read_bytes())
    result = ingest([broken], store, brands)
    assert (result.quarantined, result.duplicates) == (1, expected)


@pytest.mark.parametrize("batch_size", [1, 7, 130, 10_000])
def test_any_batch_size_stores_the_same(
    tmp_path: Path, brands: dict[str, Brand], batch_size: int
) -> None:
    archive = tmp_path / "a.jsonl"
    expected = write_pages(archive, 12, per_page=25, bad_every=5)
    with Store(tmp_path / f"{batch_size}.duckdb") as store:
        result = ingest([archive], store, brands, batch_size=batch_size, workers=1)
        assert result.as_dict() | {"files": {}} == {
            "read": expected + 2, "stored": expected, "duplicates": 0, "quarantined": 2,
            "skipped": 0, "files": {},
        }  # fmt: skip
        rows = store.connection.execute(
            "SELECT count(*), count(DISTINCT id), min(source_line), max(source_line) FROM posts"
        ).fetchone()
        assert rows == (expected, expected, 1, 12)
        again = ingest([archive], store, brands, batch_size=batch_size, workers=1)
        assert (again.stored, again.duplicates) == (0, expected)


def test_a_chunk_crosses_processes_intact(fixtures: Path, brands: dict[str, Brand]) -> None:
    lines = (fixtures / "bad.jsonl").read_bytes().split(b"\n")
    chunk = ChunkParser(brands, datetime(2026, 1, 1)).parse_lines("bad.jsonl", "x-v2", 1, lines)
    chunk.bytes_read = 42
    copy = pickle.loads(pickle.dumps(chunk))
    assert copy.posts.equals(chunk.posts) and copy.quarantine.equals(chunk.quarantine)
    assert (copy.read, copy.skipped, copy.errors, copy.bytes_read) == (
        chunk.read, chunk.skipped, chunk.errors, 42,
    )  # fmt: skip
