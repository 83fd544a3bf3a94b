"""What a backbone offers Uproar: a producer that appends to a partition, and a group member
that is given partitions, reads them from a position, and acknowledges what is stored.

Both backbones (``jetstream.py``, ``kafka.py``) implement these two protocols; everything
else (routing, stores, detection) is the same code for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from uproar.bus.address import BusAddress

# Where a member's store for a partition says to carry on: the last offset it stored.
Cursor = Callable[[int], int | None]


@dataclass(frozen=True, slots=True)
class Message:
    """One message read from a partition: its offset (JetStream's stream sequence, Kafka's
    offset: both increase along a partition), its kind and its bytes."""

    partition: int
    offset: int
    kind: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Assignment:
    """What changed since the last ``rebalance``: partitions gained (already positioned
    after their cursor) and partitions lost (stop writing them now)."""

    gained: frozenset[int]
    lost: frozenset[int]
    settled: bool = True  # False: short of its share for now (ask again soon)


class Producer(Protocol):
    partitions: int

    async def send(self, partition: int, kind: str, payload: bytes) -> None:
        """Append one message; it is durable once ``flush`` returns."""

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


class Member(Protocol):
    partitions: int

    async def rebalance(self) -> Assignment:
        """Keep this member's partitions (renew leases, take or give up its share); call it
        every ``lease / 3`` seconds at least."""

    def owns(self, partition: int) -> bool: ...

    async def poll(self, *, max_messages: int, timeout: float) -> list[Message]:
        """Messages of the owned partitions, in offset order per partition."""

    async def commit(self, partition: int, offset: int) -> None:
        """Acknowledge everything up to ``offset`` (call only after the store's commit)."""

    async def close(self) -> None:
        """Leave the group (give up the partitions at once)."""


async def open_producer(address: BusAddress) -> Producer:
    if address.scheme == "kafka":
        from uproar.bus.kafka import KafkaProducer

        return await KafkaProducer.open(address)
    from uproar.bus.jetstream import JetStreamProducer

    return await JetStreamProducer.open(address)


async def join_group(
    address: BusAddress, *, group: str, member: str, cursor: Cursor, lease: float
) -> Member:
    """Join ``group`` as ``member``; ``cursor(p)`` says where the store of ``p`` stopped."""
    if address.scheme == "kafka":
        from uproar.bus.kafka import KafkaMember

        return await KafkaMember.open(
            address, group=group, member=member, cursor=cursor, lease=lease
        )
    from uproar.bus.jetstream import JetStreamMember

    return await JetStreamMember.open(
        address, group=group, member=member, cursor=cursor, lease=lease
    )
