"""Routing and message encoding: no broker needed."""

from __future__ import annotations

import zlib

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from uproar.bus import parse_bus_url, partition_of
from uproar.bus.routing import (
    MESSAGE_BYTES,
    POSTS,
    QUARANTINE,
    brands_of,
    decode,
    encode,
    peer_groups,
    routing_keys,
    split_posts,
)
from uproar.config import Brand
from uproar.errors import BusError, ConfigError
from uproar.sources.ingestor import POST_SCHEMA, QUARANTINE_SCHEMA


def test_bus_urls() -> None:
    a = parse_bus_url("nats://127.0.0.1:4222,10.0.0.2:4222/posts?partitions=16")
    assert (a.scheme, a.servers, a.stream, a.partitions) == (
        "nats", ("127.0.0.1:4222", "10.0.0.2:4222"), "posts", 16,
    )  # fmt: skip
    b = parse_bus_url("kafka://broker:9092")
    assert (b.stream, b.partitions) == ("uproar-posts", None)
    assert parse_bus_url(a.url) == a


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis://h:1/s", "unknown scheme"),
        ("nats:///s", "no server"),
        ("nats://h:1/a.b", "stream name"),
        ("nats://h:1/s?partitions=0", "partitions must be"),
        ("nats://h:1/s?partitons=4", "unknown parameter 'partitons'"),
    ],
)
def test_bad_bus_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_bus_url(url)


@given(st.text(max_size=40), st.integers(1, 1024))
def test_partition_is_crc32_of_the_key(key: str, partitions: int) -> None:
    # The same on every machine and Python (str hash is salted per process).
    p = partition_of(key, partitions)
    assert p == zlib.crc32(key.encode()) % partitions
    assert 0 <= p < partitions


def brand(bid: str, peers: tuple[str, ...] = ()) -> Brand:
    return Brand(id=bid, name=bid, keywords=(bid,), peers=peers)


def test_peer_groups_are_connected_components() -> None:
    brands = {
        "b": brand("b", ("c",)),
        "c": brand("c", ("d",)),
        "d": brand("d"),
        "a": brand("a"),
        "x": brand("x", ("y",)),  # a peer that is not a brand here is ignored
    }
    assert peer_groups(brands) == {"a": "a", "b": "b", "c": "b", "d": "b", "x": "x"}
    together = {frozenset(brands_of(brands, p, 3)) for p in range(3)}
    assert any({"b", "c", "d"} <= group for group in together)  # never split


def posts(rows: list[dict[str, object]]) -> pa.Table:
    full = [{name: row.get(name) for name in POST_SCHEMA.names} for row in rows]
    return pa.Table.from_pylist(full, schema=POST_SCHEMA)


def test_posts_are_keyed_by_own_brand_then_first_mention_then_id() -> None:
    groups = {"acme": "acme", "zeta": "acme", "solo": "solo"}
    table = posts(
        [
            {"platform": "x", "id": "1", "own_brand": "zeta", "brands": ["solo"]},
            {"platform": "x", "id": "2", "own_brand": None, "brands": ["solo", "zeta"]},
            {"platform": "x", "id": "3", "own_brand": None, "brands": []},
        ]
    )
    assert routing_keys(table, groups) == ["acme", "solo", "x:3"]
    split = split_posts(table, 4, groups)
    assert sum(t.num_rows for t in split.values()) == 3
    for p, part in split.items():
        assert all(partition_of(k, 4) == p for k in routing_keys(part, groups))


def test_messages_round_trip_and_stay_small() -> None:
    big = "x" * 5000
    table = posts([{"platform": "x", "id": str(i), "raw": big} for i in range(400)])
    messages = list(encode(table))
    assert len(messages) > 1
    assert all(len(m) <= MESSAGE_BYTES * 1.2 for m in messages)
    back = pa.concat_tables([decode(POSTS, m) for m in messages])
    assert back.equals(table)


def test_a_message_of_another_shape_is_a_loud_error() -> None:
    (payload,) = encode(pa.table({"platform": ["x"]}))
    with pytest.raises(BusError, match="columns differ"):
        decode(POSTS, payload)
    with pytest.raises(BusError, match="not an Arrow IPC"):
        decode(QUARANTINE, b"junk")
    with pytest.raises(BusError, match="unknown kind"):
        decode("labels", next(encode(QUARANTINE_SCHEMA.empty_table()), b""))
