"""Kafka as the backbone, through confluent-kafka (librdkafka): a topic with one Kafka
partition per Uproar partition (the publisher picks it, so routing is the same as on
JetStream), and the consumer-group protocol to share partitions among members.

Offsets are committed synchronously, and only after the partition store's commit; on
assignment a member seeks each partition to just after its store's cursor, so the group's
committed offset is a floor for monitoring and never the only record of what is stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_STORED,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka import Producer as RdProducer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from uproar.bus.address import DEFAULT_PARTITIONS, BusAddress
from uproar.bus.backbone import Assignment, Cursor, Message
from uproar.bus.routing import POSTS
from uproar.errors import BusError, StoreError

KIND_HEADER = "uproar-kind"
# librdkafka logs every failed connection to stderr itself; Uproar raises what matters.
_LOG = logging.getLogger("uproar.bus.kafka")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False
STORE_WAIT = 30.0  # seconds an assigned partition waits for its last owner to let its file go


def _servers(address: BusAddress) -> str:
    return ",".join(address.servers)


def topic_partitions(address: BusAddress) -> int:
    """The topic's partition count, creating the topic if it does not exist."""
    config: dict[str, Any] = {"bootstrap.servers": _servers(address), "logger": _LOG}
    admin = AdminClient(config)
    try:
        meta = admin.list_topics(timeout=5)
    except KafkaException as exc:
        raise BusError(f"cannot reach Kafka at {address.url}: {exc}") from exc
    topic = meta.topics.get(address.stream)
    if topic is None or topic.error is not None:
        wanted = address.partitions or DEFAULT_PARTITIONS
        futures = admin.create_topics([NewTopic(address.stream, wanted, 1)])
        try:
            futures[address.stream].result(timeout=15)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise BusError(f"{address.url}: cannot create topic: {exc}") from exc
        meta = admin.list_topics(address.stream, timeout=5)
        topic = meta.topics[address.stream]
    partitions = len(topic.partitions)
    if address.partitions is not None and address.partitions != partitions:
        raise BusError(
            f"{address.url}: topic {address.stream!r} has {partitions} partitions, not "
            f"{address.partitions}"
        )
    return partitions


class KafkaProducer:
    def __init__(self, address: BusAddress, partitions: int) -> None:
        self.topic, self.partitions = address.stream, partitions
        self._errors: list[str] = []
        self._producer = RdProducer(
            {
                "bootstrap.servers": _servers(address),
                "logger": _LOG,
                "enable.idempotence": True,  # acks=all, no duplicates from retries
                "linger.ms": 5,
            }
        )

    @classmethod
    async def open(cls, address: BusAddress) -> KafkaProducer:
        return cls(address, await asyncio.to_thread(topic_partitions, address))

    def _delivered(self, error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            self._errors.append(str(error))

    async def send(self, partition: int, kind: str, payload: bytes) -> None:
        while True:
            try:
                self._producer.produce(
                    self.topic,
                    payload,
                    partition=partition,
                    headers=[(KIND_HEADER, kind.encode())],
                    on_delivery=self._delivered,
                )
                break
            except BufferError:  # the local queue is full: let it drain
                await asyncio.to_thread(self._producer.poll, 0.1)
        self._producer.poll(0)

    async def flush(self) -> None:
        left = await asyncio.to_thread(self._producer.flush, 60)
        if left or self._errors:
            errors, self._errors = self._errors, []
            raise BusError(
                f"topic {self.topic!r}: {left} messages undelivered; {'; '.join(errors[:3])}"
            )

    async def close(self) -> None:
        await self.flush()


class KafkaMember:
    def __init__(
        self,
        address: BusAddress,
        partitions: int,
        *,
        group: str,
        member: str,
        cursor: Cursor,
        lease: float,
    ) -> None:
        self.topic, self.partitions, self.cursor = address.stream, partitions, cursor
        self._owned: set[int] = set()
        self._gained: set[int] = set()
        self._lost: set[int] = set()
        self._consumer = Consumer(
            {
                "bootstrap.servers": _servers(address),
                "logger": _LOG,
                "group.id": group,
                "client.id": member,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # A member that stops heartbeating this long is taken for dead (the lease).
                "session.timeout.ms": int(lease * 1000),
                "heartbeat.interval.ms": int(lease * 1000 / 3),
            }
        )
        self._consumer.subscribe(
            [self.topic], on_assign=self._assign, on_revoke=self._revoke, on_lost=self._revoke
        )

    @classmethod
    async def open(
        cls, address: BusAddress, *, group: str, member: str, cursor: Cursor, lease: float
    ) -> KafkaMember:
        partitions = await asyncio.to_thread(topic_partitions, address)
        return cls(address, partitions, group=group, member=member, cursor=cursor, lease=lease)

    def _assign(self, consumer: Consumer, assigned: list[TopicPartition]) -> None:
        for tp in assigned:
            tp.offset = self._position(tp.partition)
        consumer.assign(assigned)
        got = {tp.partition for tp in assigned}
        self._owned |= got
        self._gained |= got
        self._lost -= got

    def _position(self, partition: int) -> int:
        """Just after the partition store's cursor (its last owner may take a moment to
        let the file go); the group's committed offset if the store cannot be had."""
        deadline = time.monotonic() + STORE_WAIT
        while True:
            try:
                after = self.cursor(partition)
                return OFFSET_BEGINNING if after is None else after + 1
            except StoreError:
                if time.monotonic() > deadline:
                    return OFFSET_STORED
                time.sleep(0.2)

    def _revoke(self, consumer: Consumer, revoked: list[TopicPartition]) -> None:
        gone = {tp.partition for tp in revoked}
        self._owned -= gone
        self._lost |= gone
        self._gained -= gone

    def owns(self, partition: int) -> bool:
        return partition in self._owned

    async def rebalance(self) -> Assignment:
        change = Assignment(frozenset(self._gained), frozenset(self._lost))
        self._gained, self._lost = set(), set()
        return change

    async def poll(self, *, max_messages: int, timeout: float) -> list[Message]:
        got = await asyncio.to_thread(self._consumer.consume, max_messages, timeout)
        out = []
        for msg in got:
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise BusError(f"topic {self.topic!r}: {error}")
            headers = dict(msg.headers() or [])
            kind = headers.get(KIND_HEADER)
            value, partition, offset = msg.value(), msg.partition(), msg.offset()
            if partition is None or offset is None:
                continue  # not a message of the topic (librdkafka's own events)
            text = kind.decode() if isinstance(kind, bytes) else POSTS
            data = value if isinstance(value, bytes) else (value or "").encode()
            out.append(Message(partition, offset, text, data))
        return out

    async def commit(self, partition: int, offset: int) -> None:
        if partition in self._owned:
            await asyncio.to_thread(
                self._consumer.commit,
                offsets=[TopicPartition(self.topic, partition, offset + 1)],
                asynchronous=False,
            )

    async def close(self) -> None:
        await asyncio.to_thread(self._consumer.close)
