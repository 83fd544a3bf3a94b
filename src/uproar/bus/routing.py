"""Which partition a post goes to, and how a partition's posts travel: Arrow IPC batches.

The key is the *peer group* of the brand whose own account wrote the post, else of the first
brand it mentions (brands are sorted), else ``platform:id`` (posts of no brand spread
evenly). A peer group is a brand with its peers, and theirs (connected components of
``peers``): the detector tells "it's us" from "it's everyone" by the peers' volume, so a
brand and its peers must be in one partition. The partition is ``crc32(key) % partitions``:
stable across processes, machines and Python versions (unlike ``hash``), and the same for
both backbones, since the publisher picks the partition itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from uproar.config import Brand
from uproar.config import peer_families as peer_groups
from uproar.errors import BusError
from uproar.sources.ingestor import POST_SCHEMA, QUARANTINE_SCHEMA

POSTS, QUARANTINE = "posts", "quarantine"
KINDS = {POSTS: POST_SCHEMA, QUARANTINE: QUARANTINE_SCHEMA}
# One message stays well under NATS's default max_payload (1 MiB) and Kafka's default
# message.max.bytes (1 MB), whatever the posts' size.
MESSAGE_BYTES = 512 << 10


def partition_of(key: str, partitions: int) -> int:
    """The partition of a routing key."""
    return zlib.crc32(key.encode("utf-8")) % partitions


def routing_keys(posts: pa.Table, groups: Mapping[str, str]) -> list[str]:
    """Each post's routing key (see the module docstring); ``groups`` from ``peer_groups``."""
    own = posts.column("own_brand").to_pylist()
    brands = posts.column("brands").to_pylist()
    platforms = posts.column("platform").to_pylist()
    ids = posts.column("id").to_pylist()
    return [
        groups.get(o, o) if o else (groups.get(b[0], b[0]) if b else f"{p}:{i}")
        for o, b, p, i in zip(own, brands, platforms, ids, strict=True)
    ]


def brands_of(brands: Mapping[str, Brand], partition: int, partitions: int) -> dict[str, Brand]:
    """The brands whose posts go to ``partition`` (whole peer groups): the ones its store
    detects for."""
    groups = peer_groups(brands)
    return {k: v for k, v in brands.items() if partition_of(groups[k], partitions) == partition}


def split_posts(posts: pa.Table, partitions: int, groups: Mapping[str, str]) -> dict[int, pa.Table]:
    """Posts grouped by partition, in their order."""
    keys = routing_keys(posts, groups)
    where = pa.array([partition_of(k, partitions) for k in keys], pa.int32())
    return _split(posts, where)


def split_quarantine(
    bad: pa.Table, partitions: int, groups: Mapping[str, str]
) -> dict[int, pa.Table]:
    """Quarantined records grouped by the partition of their source file."""
    sources = bad.column("source_file").to_pylist()
    where = pa.array([partition_of(s or "", partitions) for s in sources], pa.int32())
    return _split(bad, where)


def _split(table: pa.Table, where: pa.Array) -> dict[int, pa.Table]:
    if table.num_rows == 0:
        return {}
    return {int(p): table.filter(pc.equal(where, p)) for p in pc.unique(where).to_pylist()}


def encode(table: pa.Table) -> Iterator[bytes]:
    """``table`` as Arrow IPC stream messages of at most about ``MESSAGE_BYTES`` each."""
    if table.num_rows == 0:
        return
    rows = max(1, int(table.num_rows * MESSAGE_BYTES / max(1, table.nbytes)))
    for start in range(0, table.num_rows, rows):
        part = table.slice(start, rows)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, part.schema) as writer:
            writer.write_table(part)
        yield sink.getvalue().to_pybytes()


def decode(kind: str, payload: bytes) -> pa.Table:
    """A message's rows, checked against the schema of its kind."""
    schema = KINDS.get(kind)
    if schema is None:
        raise BusError(f"a bus message of unknown kind {kind!r} (expected posts or quarantine)")
    try:
        table = pa.ipc.open_stream(payload).read_all()
    except pa.ArrowInvalid as exc:
        raise BusError(f"a bus message that is not an Arrow IPC stream: {exc}") from exc
    if not table.schema.equals(schema):
        raise BusError(f"a {kind} message whose columns differ from this version's: {table.schema}")
    return table
