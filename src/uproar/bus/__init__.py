"""Live streams across machines: listeners publish posts to a durable, partitioned log, and
a group of members writes them into per-partition stores.

Design (README, "Live streams across machines")::

    publishers (uproar bus publish, any machine)        members (uproar bus consume)
      parse + match brands ─┐                             ┌─ owns partitions 0, 2, 5 ...
      key = brand           ├─> log: partition = crc32(key) % N ─> one store file per partition
      Arrow IPC batches ────┘    (JetStream subject STREAM.<p>,    write, save cursor, commit,
                                  or Kafka partition <p>)          then ack; detect its brands

- **Routing.** A post's key is the brand whose own account wrote it, else the first brand it
  mentions (sorted), else its ``platform:id``; its partition is ``crc32(key) % N``. All of a
  brand's posts are in one partition, so detection runs per partition with full history.
  Quarantined records go to the partition of their source file.
- **Stores.** Each partition has its own DuckDB file, ``DIR/partition-<p>.duckdb``; the
  member that owns the partition is its one writer. The stream cursor (the last offset
  stored) is saved in the same transaction as the posts, so whoever owns the partition next
  carries on after it: every post is stored exactly once, in exactly one partition file,
  whichever member dies when (a SIGKILL between the store's commit and the ack is met by the
  cursor, a redelivery inside a batch by the post key). ``check`` counts the union.
- **Commit order.** The backbone is acked (JetStream) or its offset committed (Kafka) only
  after the store's commit.
- **Groups.** Starting more members splits the partitions among them. JetStream: a lease per
  partition in a KV bucket (create-if-absent, renewed by compare-and-set, expiring after
  ``lease`` seconds), each member taking ``ceil(N / members)``; a dead member's leases expire
  and the others take them. Kafka: the consumer-group protocol.
"""

from uproar.bus.address import BusAddress, parse_bus_url
from uproar.bus.check import StoresCheck, check_stores
from uproar.bus.member import MemberLimits, MemberTotals, consume
from uproar.bus.publish import PublishTotals, publish_files
from uproar.bus.routing import partition_of, routing_keys

__all__ = [
    "BusAddress",
    "MemberLimits",
    "MemberTotals",
    "PublishTotals",
    "StoresCheck",
    "check_stores",
    "consume",
    "parse_bus_url",
    "partition_of",
    "publish_files",
    "routing_keys",
]
