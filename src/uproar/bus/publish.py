"""Publishing to the stream: files (archives, or what a listener wrote) are parsed and
brand-matched here, then each partition's posts travel as Arrow IPC messages. Quarantined
records travel too (to the partition of their file) and are kept by the member that
stores that partition: bad input is never dropped on the way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uproar.bus.address import BusAddress
from uproar.bus.backbone import Producer, open_producer
from uproar.bus.routing import (
    POSTS,
    QUARANTINE,
    encode,
    split_posts,
    split_quarantine,
)
from uproar.config import Brand, peer_families
from uproar.errors import FormatError
from uproar.sources.ingestor import JSON_FORMATS, Chunk, Ingestor
from uproar.store import Store


@dataclass(slots=True)
class PublishTotals:
    posts: int = 0
    quarantined: int = 0
    messages: int = 0
    partitions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "quarantined": self.quarantined,
            "messages": self.messages,
            "partitions": self.partitions,
        }


async def publish_chunks(
    producer: Producer, chunks: Iterable[Chunk], *, brands: Mapping[str, Brand]
) -> PublishTotals:
    """Route and send parsed chunks; returns once the stream has them all."""
    totals = PublishTotals(partitions=producer.partitions)
    groups = peer_families(brands)
    for chunk in chunks:
        for kind, table, split in (
            (POSTS, chunk.posts, split_posts),
            (QUARANTINE, chunk.quarantine, split_quarantine),
        ):
            for partition, rows in split(table, producer.partitions, groups).items():
                for payload in encode(rows):
                    await producer.send(partition, kind, payload)
                    totals.messages += 1
        totals.posts += chunk.posts.num_rows
        totals.quarantined += chunk.quarantine.num_rows
    await producer.flush()
    return totals


async def publish_lines(
    address: BusAddress,
    lines: Iterable[bytes],
    *,
    brands: Mapping[str, Brand],
    format: str,
    source: str = "stdin",
    batch: int = 500,
    max_wait: float = 1.0,
) -> PublishTotals:
    """Publish JSON Lines as they come (a live source piped in: ``... | uproar bus publish -
    --format bluesky``): ``batch`` lines, or what came in ``max_wait`` seconds, at a time.
    Lines are numbered from 1 in ``source``, as a file's are."""
    if format not in JSON_FORMATS:
        raise FormatError(
            f"--format must name a JSON Lines format for a stream, one of {', '.join(JSON_FORMATS)}"
        )
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=batch * 4)

    def read() -> None:  # a thread: reading blocks
        for line in lines:
            asyncio.run_coroutine_threadsafe(queue.put(line), loop).result()
        asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()

    reader = loop.run_in_executor(None, read)
    producer = await open_producer(address)
    totals = PublishTotals(partitions=producer.partitions)
    try:
        with Store(":memory:") as scratch:
            parser = Ingestor(scratch, brands).live_parser
            first, ended = 1, False
            while not ended:
                pending: list[bytes] = []
                deadline = loop.time() + max_wait
                while len(pending) < batch:
                    try:
                        line = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                    except TimeoutError:
                        break
                    if line is None:
                        ended = True
                        break
                    pending.append(line.rstrip(b"\r\n"))
                if not pending:
                    continue
                chunk = parser.parse_lines(source, format, first, pending, fast=False)
                first += len(pending)
                done = await publish_chunks(producer, [chunk], brands=brands)
                totals.posts += done.posts
                totals.quarantined += done.quarantined
                totals.messages += done.messages
        await reader
        return totals
    finally:
        await producer.close()


async def publish_files(
    address: BusAddress,
    paths: Iterable[str | Path],
    *,
    brands: Mapping[str, Brand],
    format: str = "auto",
) -> PublishTotals:
    """Parse ``paths`` (any archive format) and publish their posts to the stream."""
    producer = await open_producer(address)
    try:
        with Store(":memory:") as scratch:  # parsing only: nothing is stored here
            ingestor = Ingestor(scratch, brands)
            totals = PublishTotals(partitions=producer.partitions)
            for path in paths:
                done = await publish_chunks(
                    producer, ingestor.chunks(path, format=format), brands=brands
                )
                totals.posts += done.posts
                totals.quarantined += done.quarantined
                totals.messages += done.messages
            return totals
    finally:
        await producer.close()
