"""The group fault test: two ``uproar bus consume`` members (real processes) share a
stream's partitions through a real NATS JetStream server; one is killed with SIGKILL
while the stream is flowing. Afterwards every post is stored exactly once across the
partition stores, and every incident is reported once, as the embedded path finds them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import nats
import pytest

from uproar.bus import check_stores, parse_bus_url, partition_of, publish_files
from uproar.bus.routing import peer_groups
from uproar.config import Brand
from uproar.detect.batch import detect_store
from uproar.pipeline import ingest_enrichers
from uproar.sources import Ingestor
from uproar.store import Store

from .broker import SRC

PARTITIONS, LEASE = 4, 10


def member(
    name: str, url: str, stores: Path, brands: Path, out: IO[bytes], log: IO[bytes]
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uproar.cli",
            "bus",
            "consume",
            "--bus",
            url,
            "--stores",
            str(stores),
            "--group",
            "g",
            "--member",
            name,
            "--brands",
            str(brands),
            "--lease",
            str(LEASE),
            "--json",
        ],
        env=env,
        stdout=out,
        stderr=log,
    )


async def _leases(host: str, stream: str) -> dict[int, str]:
    nc = await nats.connect(f"nats://{host}")
    try:
        try:
            kv = await nc.jetstream().key_value(f"{stream}-g-leases")
        except nats.js.errors.BucketNotFoundError:
            return {}  # no member has joined yet
        found = {}
        for p in range(PARTITIONS):
            try:
                entry = await kv.get(f"p.{p}")
            except nats.js.errors.KeyNotFoundError:
                continue
            found[p] = (entry.value or b"").decode()
        return found
    finally:
        await nc.close()


async def _drained(host: str, stream: str) -> bool:
    """Every partition's consumer has had and acknowledged every message."""
    nc = await nats.connect(f"nats://{host}")
    try:
        for p in range(PARTITIONS):
            try:
                info = await nc.jsm().consumer_info(stream, f"g-p{p}")
            except nats.js.errors.NotFoundError:
                return False
            if info.num_pending or info.num_ack_pending:
                return False
        return True
    finally:
        await nc.close()


async def _consumer(host: str, stream: str, partition: int) -> tuple[int, int, int] | None:
    """A partition consumer's (last delivered sequence, pending, unacknowledged)."""
    nc = await nats.connect(f"nats://{host}")
    try:
        info = await nc.jsm().consumer_info(stream, f"g-p{partition}")
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    delivered = info.delivered.stream_seq if info.delivered else 0
    return int(delivered or 0), int(info.num_pending or 0), int(info.num_ack_pending or 0)


async def _last_sequence(host: str, stream: str) -> int:
    nc = await nats.connect(f"nats://{host}")
    try:
        return int((await nc.jsm().stream_info(stream)).state.last_seq)
    finally:
        await nc.close()


def wait_for(what: str, ready: Callable[[], Any], seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def reference(stream: Path, brands: dict[str, Brand]) -> tuple[int, set[tuple[str, str]]]:
    """The embedded path: the same posts in one store, and its incidents."""
    with Store(":memory:") as store:
        stored = Ingestor(store, brands, enrichers=ingest_enrichers()).ingest([stream]).stored
        found = detect_store(store, brands=brands).incidents
    return stored, {(i.brand, f"{i.start:%Y-%m-%dT%H:%M}") for i in found}


@pytest.mark.slow
def test_a_member_killed_mid_stream_loses_and_repeats_nothing(
    nats_host: str, two_industries: tuple[Path, Path], two_brands: dict[str, Brand], tmp_path: Path
) -> None:
    stream, brands_file = two_industries
    url = f"nats://{nats_host}/fault?partitions={PARTITIONS}"
    address = parse_bus_url(url)
    lines = stream.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2 :]))
    groups = peer_groups(two_brands)
    telco = partition_of(groups["wekamobile"], PARTITIONS)
    airline = partition_of(groups["keaair"], PARTITIONS)
    assert telco != airline  # the scenario's brands are chosen so: two members have work

    # The embedded path's answer, worked out while the members run.
    expected = ThreadPoolExecutor(1).submit(reference, stream, two_brands)
    asyncio.run(publish_files(address, [first], brands=two_brands))
    stores = tmp_path / "stores"
    files = ExitStack()
    members = {
        name: member(
            name,
            url,
            stores,
            brands_file,
            files.enter_context((tmp_path / f"{name}.json").open("wb")),
            files.enter_context((tmp_path / f"{name}.log").open("wb")),
        )
        for name in ("a", "b")
    }
    try:
        # Both members join; the partitions are split two and two.
        def split() -> dict[int, str] | None:
            owners = asyncio.run(_leases(nats_host, "fault"))
            held = sorted(owners.values())
            return owners if held == ["a", "a", "b", "b"] else None

        owners = wait_for("the partitions to be split between the members", split)
        victim = owners[telco]
        survivor = "b" if victim == "a" else "a"

        # The victim has stored its partition so far ...
        def caught_up() -> bool:
            state = asyncio.run(_consumer(nats_host, "fault", telco))
            return state is not None and state[1:] == (0, 0)

        wait_for("the victim to store the first half", caught_up)
        # ... and dies once more has reached it.
        before = asyncio.run(_last_sequence(nats_host, "fault"))
        asyncio.run(publish_files(address, [second], brands=two_brands))

        def receiving() -> bool:
            state = asyncio.run(_consumer(nats_host, "fault", telco))
            return state is not None and state[0] > before

        wait_for("the victim to receive the second half", receiving, seconds=60)
        members[victim].send_signal(signal.SIGKILL)
        members[victim].wait(timeout=10)
        # The survivor takes the victim's partitions over and stores the rest; then it is
        # stopped as an operator would (SIGTERM: detect what is new, leave the group).
        wait_for(
            "the survivor to store the rest", lambda: asyncio.run(_drained(nats_host, "fault"))
        )
        members[survivor].send_signal(signal.SIGTERM)
        members[survivor].wait(timeout=120)
        assert members[survivor].returncode == 0, (tmp_path / f"{survivor}.log").read_text()
    finally:
        for process in members.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        files.close()
    totals = json.loads((tmp_path / f"{survivor}.json").read_bytes())
    assert telco in totals["partitions_gained"]  # the survivor took the victim's partitions

    posts, incidents = expected.result()
    check = check_stores(stores, stream="fault")
    assert (check.posts, check.unique, check.duplicates) == (posts, posts, 0)
    assert check.incident_duplicates == 0
    reported = {(i.brand, f"{i.start:%Y-%m-%dT%H:%M}") for i in check.incidents}
    assert reported == incidents
    assert {"wekamobile", "keaair"} <= {brand for brand, _ in reported}
