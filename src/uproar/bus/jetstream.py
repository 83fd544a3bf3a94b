"""NATS JetStream as the backbone (the tested one): a stream ``STREAM`` with one subject
per partition, ``STREAM.<p>``; the partition count is written in the stream's description
when it is created, so every publisher and member agrees on it.

Groups: a KV bucket ``STREAM-GROUP-leases`` (entries expire ``lease`` seconds after their
last write) holds ``m.<member>`` heartbeats and ``p.<partition>`` leases. A member takes a
free partition with create-if-absent, renews it by compare-and-set on its revision, and
holds ``ceil(partitions / members)`` of them: when members join it gives up the rest, when
one dies its leases expire and the others take them. A partition is read through a durable
pull consumer ``GROUP-p<partition>`` (acknowledge-all), made afresh on takeover to start
after the partition store's cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import zlib
from typing import Any

import nats
import nats.errors
import nats.js.errors as jserrors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.kv import KeyValue

from uproar.bus.address import DEFAULT_PARTITIONS, BusAddress
from uproar.bus.backbone import Assignment, Cursor, Message
from uproar.bus.routing import POSTS
from uproar.errors import BusError, StoreError

KIND_HEADER = "Uproar-Kind"
DESCRIPTION = re.compile(r"uproar posts; partitions=(\d+)")
IN_FLIGHT = 64  # publishes awaiting their acknowledgement at once


async def _quiet(_error: Exception) -> None:
    """nats-py logs every connection error itself; Uproar raises the one that matters."""


async def connect(address: BusAddress) -> Client:
    servers = [f"nats://{s}" for s in address.servers]
    try:
        return await nats.connect(
            servers,
            connect_timeout=3,
            max_reconnect_attempts=5,
            reconnect_time_wait=0.5,
            error_cb=_quiet,
        )
    except (nats.errors.NoServersError, OSError, TimeoutError) as exc:
        raise BusError(
            f"cannot reach NATS at {address.url}: {exc} (is `nats-server -js` running there?)"
        ) from exc


async def stream_partitions(js: JetStreamContext, address: BusAddress) -> int:
    """The stream's partition count, creating the stream if it does not exist."""
    try:
        info = await js.stream_info(address.stream)
    except jserrors.NotFoundError:
        wanted = address.partitions or DEFAULT_PARTITIONS
        config = StreamConfig(
            name=address.stream,
            description=f"uproar posts; partitions={wanted}",
            subjects=[f"{address.stream}.*"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
        )
        try:
            info = await js.add_stream(config)
        except jserrors.BadRequestError:  # another process created it meanwhile
            info = await js.stream_info(address.stream)
    except jserrors.ServiceUnavailableError as exc:
        raise BusError(f"{address.url}: JetStream is not enabled (start nats-server -js)") from exc
    found = DESCRIPTION.fullmatch(info.config.description or "")
    if found is None:
        raise BusError(f"{address.url}: stream {address.stream!r} is not an Uproar stream")
    partitions = int(found.group(1))
    if address.partitions is not None and address.partitions != partitions:
        raise BusError(
            f"{address.url}: stream {address.stream!r} has {partitions} partitions, not "
            f"{address.partitions} (a stream keeps the count it was made with)"
        )
    return partitions


class JetStreamProducer:
    def __init__(self, nc: Client, js: JetStreamContext, stream: str, partitions: int) -> None:
        self.nc, self.js, self.stream, self.partitions = nc, js, stream, partitions
        self._pending: list[asyncio.Future[Any]] = []

    @classmethod
    async def open(cls, address: BusAddress) -> JetStreamProducer:
        nc = await connect(address)
        js = nc.jetstream()
        try:
            return cls(nc, js, address.stream, await stream_partitions(js, address))
        except BaseException:
            await nc.close()
            raise

    async def send(self, partition: int, kind: str, payload: bytes) -> None:
        subject = f"{self.stream}.{partition}"
        publish = self.js.publish(subject, payload, headers={KIND_HEADER: kind}, timeout=10)
        self._pending.append(asyncio.ensure_future(publish))
        if len(self._pending) >= IN_FLIGHT:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        try:
            await asyncio.gather(*pending)
        except (nats.errors.Error, jserrors.Error) as exc:
            raise BusError(f"stream {self.stream!r} refused a message: {exc}") from exc

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            await self.nc.close()


class JetStreamMember:
    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        kv: KeyValue,
        *,
        stream: str,
        partitions: int,
        group: str,
        member: str,
        cursor: Cursor,
    ) -> None:
        self.nc, self.js, self.kv = nc, js, kv
        self.stream, self.partitions, self.group, self.member = stream, partitions, group, member
        self.cursor = cursor
        self._leases: dict[int, int] = {}  # partition -> lease revision
        self._subs: dict[int, JetStreamContext.PullSubscription] = {}
        self._last: dict[int, Msg] = {}

    @classmethod
    async def open(
        cls, address: BusAddress, *, group: str, member: str, cursor: Cursor, lease: float
    ) -> JetStreamMember:
        nc = await connect(address)
        js = nc.jetstream()
        try:
            partitions = await stream_partitions(js, address)
            bucket = f"{address.stream}-{group}-leases"
            try:
                kv = await js.key_value(bucket)
            except jserrors.BucketNotFoundError:
                kv = await js.create_key_value(bucket=bucket, history=1, ttl=lease)
        except BaseException:
            await nc.close()
            raise
        return cls(
            nc, js, kv, stream=address.stream, partitions=partitions, group=group,
            member=member, cursor=cursor,
        )  # fmt: skip

    def owns(self, partition: int) -> bool:
        return partition in self._leases

    async def rebalance(self) -> Assignment:
        me = self.member.encode()
        await self.kv.put(f"m.{self.member}", me)
        lost: set[int] = set()
        for p, revision in list(self._leases.items()):
            try:
                self._leases[p] = await self.kv.update(f"p.{p}", me, last=revision)
            except (jserrors.KeyWrongLastSequenceError, jserrors.APIError):
                lost.add(p)  # it expired and another member took it
        try:
            members = sorted(k for k in await self.kv.keys() if k.startswith("m."))
        except jserrors.NoKeysError:
            members = [f"m.{self.member}"]
        share = math.ceil(self.partitions / max(1, len(members)))
        for p in sorted(set(self._leases) - lost)[share:]:  # too many: give the rest up
            await self._release(p)
            lost.add(p)
        gained: set[int] = set()
        waiting = False
        # Start looking at a place of one's own, so members do not all race for partition 0.
        first = zlib.crc32(me) % self.partitions
        for step in range(self.partitions):
            if len(set(self._leases) - lost) >= share:
                break
            p = (first + step) % self.partitions
            if p in self._leases:
                continue
            try:
                self._leases[p] = await self.kv.create(f"p.{p}", me)
            except (jserrors.KeyWrongLastSequenceError, jserrors.APIError):
                continue
            try:
                await self._start(p)
            except StoreError:  # its store is still held (by a member that lost it): later
                await self._release(p)
                waiting = True
                continue
            gained.add(p)
        for p in lost:
            self._leases.pop(p, None)
            await self._stop(p)
        # Short of the least share (others still give theirs up): ask again soon.
        short = len(self._leases) < self.partitions // max(1, len(members))
        return Assignment(frozenset(gained), frozenset(lost), settled=not (waiting or short))

    async def _release(self, p: int) -> None:
        revision = self._leases.pop(p, None)
        if revision is not None:
            # already taken over: nothing of ours to give up
            with contextlib.suppress(jserrors.KeyWrongLastSequenceError, jserrors.APIError):
                await self.kv.delete(f"p.{p}", last=revision)
        await self._stop(p)

    async def _start(self, p: int) -> None:
        after = await asyncio.to_thread(self.cursor, p)  # opens a store: not on the loop
        name = f"{self.group}-p{p}"
        jsm = self.nc.jsm()
        with contextlib.suppress(jserrors.NotFoundError):
            await jsm.delete_consumer(self.stream, name)
        config = ConsumerConfig(
            durable_name=name,
            filter_subject=f"{self.stream}.{p}",
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.ALL if after is None else DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=None if after is None else after + 1,
            ack_wait=60,
        )
        await jsm.add_consumer(self.stream, config)
        self._subs[p] = await self.js.pull_subscribe_bind(durable=name, stream=self.stream)

    async def _stop(self, p: int) -> None:
        sub = self._subs.pop(p, None)
        self._last.pop(p, None)
        if sub is not None:
            with contextlib.suppress(nats.errors.Error):  # the connection may be going
                await sub.unsubscribe()

    async def poll(self, *, max_messages: int, timeout: float) -> list[Message]:
        owned = sorted(self._subs)
        if not owned:
            await asyncio.sleep(timeout)
            return []
        each = max(1, max_messages // len(owned))
        batches = await asyncio.gather(*(self._fetch(p, each, timeout) for p in owned))
        return [m for batch in batches for m in batch]

    async def _fetch(self, p: int, count: int, timeout: float) -> list[Message]:
        sub = self._subs.get(p)
        if sub is None:  # given up meanwhile
            return []
        try:
            msgs = await sub.fetch(batch=count, timeout=timeout)
        except TimeoutError:  # nothing came (nats-py raises asyncio's, or its own subclass)
            return []
        except nats.errors.Error:
            if p not in self._subs:  # unsubscribed while fetching: given up meanwhile
                return []
            raise
        out = []
        for msg in msgs:
            headers = msg.headers or {}
            out.append(
                Message(p, msg.metadata.sequence.stream, headers.get(KIND_HEADER, POSTS), msg.data)
            )
        if msgs:
            self._last[p] = msgs[-1]
        return out

    async def commit(self, partition: int, offset: int) -> None:
        msg = self._last.get(partition)
        if msg is not None and msg.metadata.sequence.stream == offset:
            await msg.ack()  # acknowledge-all: everything up to it

    async def close(self) -> None:
        for p in list(self._leases):
            await self._release(p)
        with contextlib.suppress(jserrors.Error):
            await self.kv.delete(f"m.{self.member}")
        await self.nc.close()
