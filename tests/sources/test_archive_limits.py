"""Archives cannot exhaust ingest: long lines, blank floods, gzip bombs, broken gzip, a full
disk. Each ends fast, with a quarantine or one clear error, and keeps what was stored."""

from __future__ import annotations

import gzip
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from uproar.config import Brand
from uproar.errors import InputError
from uproar.sources import ingest
from uproar.sources import ingestor as ingest_module
from uproar.sources.reader import GZIP_MAGIC, LINE_LIMIT, LINE_SAMPLE, line_spans, read_lines
from uproar.store import Store

MIB = 1 << 20


def good(i: int) -> bytes:
    tweet = {"id": str(i), "text": "@KiwiNet down?", "author_id": "9",
             "created_at": "2014-09-06T10:00:00.000Z"}  # fmt: skip
    return orjson.dumps({"data": tweet})


def members(path: Path, *pieces: tuple[bytes, int]) -> Path:
    """A gzip file of concatenated members: each (block, times) compressed once."""
    with path.open("wb") as out:
        for block, times in pieces:
            member = gzip.compress(block, compresslevel=9)
            for _ in range(times):
                out.write(member)
    return path


def cli(*args: str, limit_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a full disk, as the writing process sees it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert limit_file_bytes is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "uproar.cli", *args],
        capture_output=True,
        text=True,
        preexec_fn=limit if limit_file_bytes else None,
    )


def stored(db: Path) -> int:
    with Store(db, read_only=True) as store:
        return store.count_posts()


# -- lines -------------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_a_line_over_the_limit_is_quarantined_in_linear_time(
    tmp_path: Path, store: Store, brands: dict[str, Brand], compress: bool
) -> None:
    body = good(1) + b"\n" + b"x" * (LINE_LIMIT + MIB) + b"\n" + good(2) + b"\n"
    path = tmp_path / "long.jsonl"
    path.write_bytes(body)
    if compress:
        path = tmp_path / "long.jsonl.gz"
        path.write_bytes(gzip.compress(body, compresslevel=1))
    start = time.perf_counter()
    result = ingest([path], store, brands)
    assert time.perf_counter() - start < 20  # it was quadratic: minutes for 1 GiB
    assert (result.read, result.stored, result.quarantined) == (3, 2, 1)
    row = store.connection.execute("SELECT line, kind, reason, content FROM quarantine").fetchone()
    assert row is not None
    line, kind, reason, content = row
    assert (line, kind) == (2, "bad value")
    assert reason == (
        f"a line of {LINE_LIMIT + MIB:,} bytes is over the 16 MiB line limit "
        "(its first 4 KiB are kept)"
    )
    assert content == b"x" * LINE_SAMPLE
    lines = store.connection.execute("SELECT id, source_line FROM posts ORDER BY id").fetchall()
    assert lines == [("1", 1), ("2", 3)]


def test_blank_lines_are_counted_not_parsed(
    tmp_path: Path, store: Store, brands: dict[str, Brand]
) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_bytes(b"\n" * 3_000_000 + good(1) + b"\n" + b" \r\n" * 1_000_000 + good(2))
    start = time.perf_counter()
    result = ingest([path], store, brands)
    assert time.perf_counter() - start < 10
    assert (result.read, result.stored) == (2, 2)
    lines = store.connection.execute("SELECT source_line FROM posts ORDER BY id").fetchall()
    assert lines == [(3_000_001,), (4_000_002,)]


# Lines as bytes: short, blank, or over a small limit; the reader's batches and the parse
# workers' spans must both give exactly what bytes.split gives, line number for line number.
line_bytes = st.one_of(
    st.binary(max_size=6).filter(lambda b: b"\n" not in b),
    st.sampled_from([b"", b" ", b"\r", b" \t "]),
    st.integers(10, 40).map(lambda n: b"y" * n),
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line_bytes, max_size=30), chunk=st.integers(1, 16), end=st.booleans())
def test_batches_and_spans_give_every_line_once(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], chunk: int, end: bool
) -> None:
    limit = 8
    path = tmp_path_factory.mktemp("lines") / "f.jsonl"
    data = b"\n".join(lines) + (b"\n" if end and lines else b"")
    assume(not data.startswith(GZIP_MAGIC))  # such a file is read as gzip, by design
    path.write_bytes(data)
    expected = {
        n: (line[:LINE_SAMPLE], len(line) > limit)
        for n, line in enumerate(data.split(b"\n"), 1)
        if line.strip() and (n <= data.count(b"\n") or not data.endswith(b"\n"))
    }
    got = {}
    for batch in read_lines(path, chunk_bytes=chunk, line_limit=limit):
        for i, line in enumerate(batch.lines):
            if line.strip():
                got[batch.first + i] = (line, i in batch.overlong)
    assert got == expected
    spans = {}
    for span in line_spans(path, chunk_bytes=chunk, line_limit=limit):
        for i, line in enumerate(span.read(path)):
            if line.strip() or span.overlong:
                spans[span.first + i] = (line[:LINE_SAMPLE], span.overlong)
    assert spans == expected


# -- gzip --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "block", [b"a" * MIB, b"\n" * MIB, b" " * MIB], ids=["no-newline", "blank-lines", "document"]
)
def test_a_gzip_bomb_stops_fast_and_keeps_what_came_before(
    tmp_path: Path, store: Store, brands: dict[str, Brand], block: bytes
) -> None:
    """1 GiB with no newline, 1 GiB of blank lines, a 1 GiB JSON document of spaces:
    each once ran for minutes (or grew past 8 GB); now each stops near 32 MiB."""
    posts = 0 if block.startswith(b" ") else 20_000  # 1.6 MB of posts before the bomb
    head = b"\n".join(good(i) for i in range(posts)) + b"\n" if posts else b"["
    path = members(tmp_path / "bomb.jsonl.gz", (head, 1), (block, 1024))
    start = time.perf_counter()
    with pytest.raises(InputError, match="gzip bomb") as raised:
        ingest([path], store, brands)
    assert time.perf_counter() - start < 20
    assert raised.value.file == str(path)
    assert store.count_posts() == posts


def test_the_document_limit_counts_decompressed_bytes(
    tmp_path: Path, store: Store, brands: dict[str, Brand], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "WHOLE_FILE_LIMIT", 4096)
    document = b"[" + b",".join(good(i) for i in range(100)) + b"]"
    path = tmp_path / "page.json.gz"
    path.write_bytes(gzip.compress(document))
    assert path.stat().st_size < 4096 < len(document)
    with pytest.raises(InputError, match=r"over 0 MB \(decompressed\)"):
        ingest([path], store, brands)


def _truncated(path: Path) -> Path:
    data = gzip.compress(b"\n".join(good(i) for i in range(100_000)) + b"\n")
    path.write_bytes(data[: len(data) * 3 // 4])
    return path


def _corrupt(path: Path) -> Path:
    data = bytearray(gzip.compress(b"\n".join(good(i) for i in range(100_000)) + b"\n"))
    middle = len(data) * 3 // 4
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("make, says", [(_truncated, "truncated gzip"), (_corrupt, "corrupt gzip")])
def test_a_broken_gzip_is_one_clear_line(tmp_path: Path, make: object, says: str) -> None:
    path = make(tmp_path / "broken.jsonl.gz")  # type: ignore[operator]
    db = tmp_path / "u.duckdb"
    args = ("ingest", str(path), "--db", str(db), "--no-classify", "--batch-size", "1000")
    plain = cli(*args)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr and "Aborted" not in plain.stderr
    error = plain.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {path}:") and says in error
    kept = stored(db)
    assert 1000 <= kept < 100_000  # the batches read before the fault are stored
    as_json = cli(*args, "--json")
    assert as_json.returncode == 2 and "Traceback" not in as_json.stderr
    reply = orjson.loads(as_json.stdout)
    assert reply["ok"] is False and reply["status"] == 2 and reply["file"] == str(path)
    assert says in reply["error"]
    assert stored(db) == kept


@pytest.mark.slow
def test_a_full_disk_is_one_clear_line_and_loses_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "posts.jsonl"
    archive.write_bytes(b"\n".join(good(i) for i in range(100_000)) + b"\n")
    db = tmp_path / "u.duckdb"
    args = ("ingest", str(archive), "--db", str(db), "--no-classify", "--batch-size", "1000")
    full = cli(*args, "--json", limit_file_bytes=8 * MIB)  # room for a batch or two
    assert full.returncode == 2 and "Traceback" not in full.stderr
    reply = orjson.loads(full.stdout)
    assert reply["ok"] is False and reply["status"] == 2
    assert reply["file"] == str(db) and "cannot write this batch" in reply["error"]
    kept = stored(db)
    assert 0 < kept < 100_000 and kept % 1000 == 0  # whole batches, none half-written
    again = cli(*args, "--json")
    assert again.returncode == 0, again.stderr
    counts = orjson.loads(again.stdout)
    assert (counts["stored"], counts["duplicates"]) == (100_000 - kept, kept)
    assert stored(db) == 100_000
