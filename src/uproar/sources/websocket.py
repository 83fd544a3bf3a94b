"""WebSocket streams whose messages are bounded without closing the connection.

websockets closes a connection (code 1009) on a message over its ``max_size``, before
reading it; a listener that reconnects then meets the same message again, forever where the
stream resumes from a cursor (Jetstream). Here a message over ``MAX_MESSAGE_BYTES`` is cut
instead, as an archive's overlong line is (``reader.py``):

- a frame whose payload is over the limit is not held: its first ``LINE_SAMPLE`` bytes are
  kept and the rest is let pass as it arrives (``_Reader``);
- a message sent in fragments keeps its fragments until it is over the limit, and drops the
  rest of it;
- ``receive`` then gives the message's first bytes and its real size, and the listener
  quarantines it (``oversized_item``) and goes on reading the same connection, so the
  stream's cursor moves past it with the next batch.

Compression is not offered: a compressed frame could inflate past any limit before it could
be cut.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from uproar.sources.commit import Item, decode
from uproar.sources.fields import RecordError
from uproar.sources.reader import LINE_SAMPLE

# websockets' default is 1 MiB; a Jetstream or Mastodon message is a few KB. A message over
# this is quarantined with its first ``LINE_SAMPLE`` bytes, and the stream goes on.
MAX_MESSAGE_BYTES = 8 << 20
_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


class _Reader(StreamReader):
    """websockets' reader, except that a payload over ``limit`` is not held: its first
    ``LINE_SAMPLE`` bytes are returned and the rest is dropped as it arrives
    (``cut`` then says how long it was)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.cut: int | None = None

    def read_exact(self, n: int) -> Generator[None, None, bytearray]:
        if n <= self.limit:
            return (yield from super().read_exact(n))
        kept = yield from super().read_exact(min(n, LINE_SAMPLE))
        left = n - len(kept)
        while left:
            if not self.buffer:
                if self.eof:
                    raise EOFError(f"stream ends inside a frame of {n} bytes")
                yield
                continue
            drop = min(left, len(self.buffer))
            del self.buffer[:drop]
            left -= drop
        self.cut = n
        return kept

    def sent(self, received: int) -> int:
        """The size the last payload was sent with (``received`` unless it was cut)."""
        size, self.cut = (received if self.cut is None else self.cut), None
        return size


class _Protocol(ClientProtocol):
    """websockets' client protocol with messages bounded by ``_Reader`` and ``recv_frame``.

    ``oversized`` maps a data message's number on this connection (from 1) to its size, for
    each message over the limit; what is delivered of it is its first bytes."""

    reader: _Reader

    def __init__(self, *args: Any, limit: int = MAX_MESSAGE_BYTES, **kwargs: Any) -> None:
        self.limit = limit
        self.messages = 0
        self.oversized: dict[int, int] = {}
        self._size = 0
        kwargs["max_size"] = None  # the limit is enforced here instead
        super().__init__(*args, **kwargs)

    def parse(self) -> Generator[None]:
        # parse() starts in Protocol.__init__, before any byte has arrived
        self.reader = _Reader(self.limit)
        yield from super().parse()

    def recv_frame(self, frame: Frame) -> None:
        size = self.reader.sent(len(frame.data))
        if frame.opcode in _DATA:
            if frame.opcode is not Opcode.CONT:
                self.messages += 1
                self._size = 0
            self._size += size
            if self._size > self.limit:
                self.oversized[self.messages] = self._size
                if frame.opcode is Opcode.CONT:  # past the limit: the rest is dropped
                    frame = dataclasses.replace(frame, data=b"")
        super().recv_frame(frame)


class StreamConnection(ClientConnection):
    """A client connection over ``_Protocol`` (``connect`` builds websockets' own protocol:
    this one is built from its settings before any byte is exchanged)."""

    protocol: _Protocol

    def __init__(self, protocol: ClientProtocol, **kwargs: Any) -> None:
        bounded = _Protocol(
            protocol.uri,
            origin=protocol.origin,
            extensions=protocol.available_extensions,
            subprotocols=protocol.available_subprotocols,
            logger=protocol.logger,
        )
        super().__init__(bounded, **kwargs)
        self.delivered = 0

    async def receive(self) -> tuple[bytes, int | None]:
        """The next message as bytes, and its size if it was over the limit (then the bytes
        are only its first ones). Safe to cancel: a message is counted once returned."""
        raw = await self.recv(decode=False)
        self.delivered += 1
        return raw, self.protocol.oversized.pop(self.delivered, None)


def open_stream(url: str, headers: Mapping[str, str] | None = None) -> connect:
    """``async with open_stream(url) as socket``: a ``StreamConnection`` to ``url``."""
    return connect(
        url,
        additional_headers=dict(headers or {}),
        open_timeout=10,
        compression=None,
        create_connection=StreamConnection,
    )


async def receive(socket: ClientConnection) -> tuple[bytes, int | None]:
    """``StreamConnection.receive`` on a socket from ``open_stream``."""
    assert isinstance(socket, StreamConnection), "open the stream with open_stream()"
    return await socket.receive()


def message_item(number: int, raw: bytes, oversized: int | None) -> Item:
    """A received message as an item: decoded, or (over the limit) quarantined with its
    first bytes, as an archive's overlong line is."""
    if oversized is None:
        return decode(number, raw)
    reason = (
        f"a message of {oversized:,} bytes is over the {MAX_MESSAGE_BYTES >> 20} MiB message "
        f"limit (its first {LINE_SAMPLE >> 10} KiB are kept)"
    )
    return number, bytes(raw[:LINE_SAMPLE]), RecordError(None, reason, kind="bad value")
