"""Bus URLs: ``nats://HOST:PORT[,HOST:PORT]/STREAM?partitions=N`` (NATS JetStream) and
``kafka://HOST:PORT[,HOST:PORT]/TOPIC?partitions=N`` (Kafka)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from uproar.errors import ConfigError

SCHEMES = ("nats", "kafka")
DEFAULT_STREAM = "uproar-posts"
DEFAULT_PARTITIONS = 8
# JetStream stream and KV bucket names, and Kafka topics, share this alphabet.
NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
MAX_PARTITIONS = 1024


@dataclass(frozen=True, slots=True)
class BusAddress:
    """Where the log is: the backbone, its servers, the stream (topic) and, when given, how
    many partitions a new stream gets (an existing stream keeps its own)."""

    scheme: str
    servers: tuple[str, ...]
    stream: str
    partitions: int | None

    @property
    def url(self) -> str:
        query = f"?partitions={self.partitions}" if self.partitions else ""
        return f"{self.scheme}://{','.join(self.servers)}/{self.stream}{query}"


def parse_bus_url(url: str) -> BusAddress:
    """Parse a bus URL; a mistake is a ``ConfigError`` that shows the expected form."""
    form = "expected nats://HOST:PORT/STREAM?partitions=N or kafka://HOST:PORT/TOPIC"
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ConfigError(f"bus URL {url!r}: unknown scheme {parts.scheme!r}; {form}")
    servers = tuple(s for s in parts.netloc.split(",") if s)
    if not servers:
        raise ConfigError(f"bus URL {url!r}: no server; {form}")
    stream = parts.path.strip("/") or DEFAULT_STREAM
    if not NAME.fullmatch(stream):
        raise ConfigError(
            f"bus URL {url!r}: stream name {stream!r} may hold only letters, digits, '_', '-'"
        )
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"partitions"})
    if unknown:
        raise ConfigError(f"bus URL {url!r}: unknown parameter {unknown[0]!r}; {form}")
    partitions: int | None = None
    if "partitions" in query:
        text = query["partitions"][-1]
        if not text.isdigit() or not 1 <= int(text) <= MAX_PARTITIONS:
            raise ConfigError(
                f"bus URL {url!r}: partitions must be a whole number from 1 to {MAX_PARTITIONS}"
            )
        partitions = int(text)
    return BusAddress(parts.scheme, servers, stream, partitions)


def check_name(kind: str, name: str) -> str:
    """A group (or member) name, checked against the alphabet the backbones accept."""
    if not NAME.fullmatch(name):
        raise ConfigError(f"{kind} {name!r} may hold only letters, digits, '_' and '-'")
    return name
