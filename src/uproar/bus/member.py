"""A group member: owns some of the stream's partitions, writes each into its partition
store, acknowledges after the store's commit, and detects incidents for its partitions'
brands when the stream goes quiet (and before it leaves).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from uproar.bus.address import BusAddress, check_name
from uproar.bus.backbone import Assignment, Member, Message, join_group
from uproar.bus.routing import MESSAGE_BYTES
from uproar.bus.stores import PartitionStores
from uproar.config import Brand
from uproar.sources.ingestor import (
    ENRICH_COLUMNS,
    POST_SCHEMA,
    Enricher,
    IngestResult,
    Labeller,
)

WRITE_BYTES = MESSAGE_BYTES  # posts per transaction, about: see ``_batches``


@dataclass(frozen=True, slots=True)
class MemberLimits:
    """How a member runs: ``lease`` seconds before a dead member's partitions move;
    messages per poll (each holds up to ``routing.MESSAGE_BYTES`` of posts); when it stops
    by itself (None: never): after ``max_seconds``, or after ``max_idle`` seconds without a
    message. ``detect_idle``: detect once the stream has been quiet that long (None: only
    before leaving); ``detect=False``: never (a member that only stores)."""

    # A member that misses its renewals this long is taken for dead (Kafka's own default
    # session timeout is 45 s); a batch holds the interpreter for seconds on a busy machine.
    lease: float = 30.0
    batch: int = 8
    poll: float = 1.0
    max_seconds: float | None = None
    max_idle: float | None = None
    detect_idle: float | None = 2.0
    detect: bool = True

    def __post_init__(self) -> None:
        if self.lease < 1:
            raise ValueError(f"lease must be at least 1 second, got {self.lease}")
        if self.batch < 1:
            raise ValueError(f"batch must be positive, got {self.batch}")


@dataclass(slots=True)
class MemberTotals:
    member: str
    messages: int = 0
    redelivered: int = 0  # at or below a partition's cursor: stored already, skipped
    gained: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    incidents: dict[int, int] = field(default_factory=dict)  # partition -> last detection
    ingested: IngestResult = field(default_factory=IngestResult)
    # Wall-clock (epoch seconds) of the first message received and the last write done,
    # for throughput across processes (bench/bus.py).
    first_message_at: float | None = None
    last_write_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "messages": self.messages,
            "stored": self.ingested.stored,
            "duplicates": self.ingested.duplicates,
            "quarantined": self.ingested.quarantined,
            "redelivered": self.redelivered,
            "partitions_gained": sorted(self.gained),
            "partitions_lost": sorted(self.lost),
            "incidents": sum(self.incidents.values()),
            "first_message_at": self.first_message_at,
            "last_write_at": self.last_write_at,
        }


def member_name() -> str:
    """A name no other member has: host, process and a random tail."""
    host = "".join(c if c.isalnum() else "-" for c in socket.gethostname())[:40]
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def consume(
    address: BusAddress,
    *,
    stores: Path,
    group: str,
    brands: Mapping[str, Brand],
    enrichers: Sequence[Enricher] = (),
    limits: MemberLimits | None = None,
    member: str | None = None,
    stop: asyncio.Event | None = None,
    memory_limit: str | None = None,
) -> MemberTotals:
    """Consume the stream as one member of ``group`` until a limit or ``stop``."""
    limits = limits or MemberLimits()
    name = check_name("member", member or member_name())
    check_name("group", group)
    parts = PartitionStores(
        stores, stream=address.stream, brands=brands, enrichers=enrichers,
        memory_limit=memory_limit,
    )  # fmt: skip
    totals = MemberTotals(name)
    # Load the models now: a first load inside a batch holds the interpreter long enough
    # (seconds, on a busy machine) to let the leases lapse.
    await asyncio.to_thread(warm_up, enrichers)
    bus = await join_group(
        address, group=group, member=name, cursor=parts.cursor, lease=limits.lease
    )
    parts.partitions = bus.partitions
    started = last_message = time.monotonic()
    changes: list[Assignment] = []
    # Leases are kept by a task of their own, so a long write or detection never lets
    # them lapse; its changes are applied here, between writes.
    # Every 2 s at most: a member that joins waits no longer than that for its share.
    keeper = asyncio.create_task(_keep(bus, min(limits.lease / 3, 2.0), changes))

    def finished() -> bool:
        now = time.monotonic()
        return (
            (stop is not None and stop.is_set())
            or (limits.max_seconds is not None and now - started >= limits.max_seconds)
            or (limits.max_idle is not None and now - last_message >= limits.max_idle)
            or keeper.done()  # the backbone failed: its error is raised below
        )

    try:
        while not finished():
            while changes:
                change = changes.pop(0)
                for p in change.lost:
                    if not bus.owns(p):
                        await asyncio.to_thread(parts.close, p)
                totals.gained += sorted(change.gained)
                totals.lost += sorted(change.lost)
            parts.lend()
            messages = await bus.poll(max_messages=limits.batch, timeout=limits.poll)
            if messages:
                if totals.first_message_at is None:
                    totals.first_message_at = time.time()
                await _write(bus, parts, messages, totals)
                totals.last_write_at = time.time()
                last_message = time.monotonic()  # idle counts from the last one handled
            elif (
                limits.detect
                and limits.detect_idle is not None
                and (time.monotonic() - last_message >= limits.detect_idle)
            ):
                await _detect(parts, totals)
        if keeper.done():
            keeper.result()
        if limits.detect:
            await _detect(parts, totals)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await bus.close()
        parts.close_all()
    return totals


def warm_up(enrichers: Sequence[Enricher]) -> None:
    """Run each labeller once on one made-up post, so its model is loaded."""
    one: dict[str, list[Any]] = {name: [None] for name in ENRICH_COLUMNS}
    one.update(platform=["x"], id=["0"], text=["warming up"], brands=[[]], urls=[[]])
    one["created_at"] = [datetime(2020, 1, 1)]
    posts = pa.table(one, schema=pa.schema([POST_SCHEMA.field(c) for c in ENRICH_COLUMNS]))
    for enricher in enrichers:
        if isinstance(enricher, Labeller):
            enricher.label(posts)


async def _keep(bus: Member, every: float, changes: list[Assignment]) -> None:
    while True:
        change = await bus.rebalance()
        changes.append(change)
        # Short of its share (a partition's store is still being let go): ask again soon.
        await asyncio.sleep(every if change.settled else min(every, 0.5))


async def _write(
    bus: Member, parts: PartitionStores, messages: list[Message], totals: MemberTotals
) -> None:
    by_partition: dict[int, list[Message]] = {}
    for message in messages:
        by_partition.setdefault(message.partition, []).append(message)
    for p, received in by_partition.items():
        for batch in _batches(received):
            if not bus.owns(p) or p not in parts.open:
                break  # lost meanwhile: neither written nor acknowledged
            totals.messages += len(batch)
            before = parts.open[p].cursor
            totals.redelivered += sum(1 for m in batch if before is not None and m.offset <= before)
            result = await asyncio.to_thread(parts.write, p, batch)
            totals.ingested.absorb(result)
            await bus.commit(p, batch[-1].offset)  # only now: after the store's commit


def _batches(messages: list[Message]) -> Iterator[list[Message]]:
    """Transactions of about ``WRITE_BYTES``: labelling a batch holds the interpreter (the
    language detector), and the lease keeper must get a turn between two."""
    batch: list[Message] = []
    size = 0
    for message in messages:
        batch.append(message)
        size += len(message.payload)
        if size >= WRITE_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


async def _detect(parts: PartitionStores, totals: MemberTotals) -> None:
    for p, part in list(parts.open.items()):
        if part.fresh:
            totals.incidents[p] = await asyncio.to_thread(parts.detect, p)
