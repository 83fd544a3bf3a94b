"""DuckDB's failures become ``StoreError`` subclasses that name the store's file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from uproar.errors import (
    DiskFullError,
    StoreCorruptError,
    StoreLockedError,
    StoreMissingError,
)
from uproar.store import Store


def test_a_missing_store_is_not_created_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    for kwargs in ({"read_only": True}, {"create": False}):
        with pytest.raises(StoreMissingError, match="no such store") as caught:
            Store(path, **kwargs)  # type: ignore[arg-type]
        assert caught.value.context["file"] == str(path)
    assert not path.exists()
    Store(path).close()
    assert path.exists()


def test_a_store_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match="in use by another process") as caught:
            Store(path)
        assert str(path) in caught.value.message and f"PID {holder.pid}" in caught.value.message
    finally:
        holder.communicate("")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_store(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "bad.duckdb"
    if damage == "garbage":
        path.write_bytes(b"no database here" * 1000)
    else:
        with Store(path) as store:
            store.connection.execute("CREATE TABLE filler AS SELECT range AS x FROM range(300000)")
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.truncate(size // 2)
    with (
        pytest.raises(StoreCorruptError, match="not a store Uproar can read") as caught,
        Store(path, read_only=True) as store,
    ):
        store.count_posts()
        store.connection.execute("SELECT sum(x) FROM filler").fetchall()
    assert str(path) in caught.value.message


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk() -> None:
    with pytest.raises(DiskFullError, match="disk is full") as caught:
        Store("/dev/full")
    assert caught.value.context["file"] == "/dev/full"


def test_a_failed_block_removes_the_store_it_created(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with pytest.raises(RuntimeError), Store.opened(path, create=True):
        raise RuntimeError("the input file was missing")
    assert not path.exists()
    Store(path).close()
    with pytest.raises(RuntimeError), Store.opened(path, create=True):
        raise RuntimeError("a later failure")
    assert path.exists()  # it was there before: kept
