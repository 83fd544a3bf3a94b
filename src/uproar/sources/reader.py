"""Read archive files line by line in bounded memory, gzip or not, keeping line numbers.

Lines come out in batches of raw bytes; undecodable UTF-8 is reported per line so one bad
byte costs one line, not the file.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 2 << 20  # per parse job: a parse worker peaks near 140 MB (8 MB: 210 MB)


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Consecutive lines of one file: ``first`` is the 1-based number of ``lines[0]``."""

    first: int
    lines: list[bytes]
    bytes_read: int


@dataclass(frozen=True, slots=True)
class LineSpan:
    """Consecutive whole lines of an uncompressed file, by place: a parse worker reads
    them itself, so the lines need not be split and shipped by the ingesting process."""

    first: int  # the 1-based number of the first line
    offset: int  # where it starts in the file
    length: int  # bytes up to (not including) the last line's newline

    def read(self, path: Path) -> list[bytes]:
        with path.open("rb") as stream:
            stream.seek(self.offset)
            return stream.read(self.length).split(b"\n")


def is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def line_spans(path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineSpan]:
    """The lines of an uncompressed file as spans of about ``chunk_bytes``; the lines
    ``read_lines`` gives, batch for batch."""
    line_no, offset = 1, 0
    with path.open("rb") as stream:
        carry = b""
        while True:
            chunk = stream.read(chunk_bytes)
            if not chunk:
                break
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            yield LineSpan(line_no, offset, cut)
            line_no += data.count(b"\n", 0, cut) + 1
            offset += cut + 1
            carry = data[cut + 1 :]
        if carry:
            yield LineSpan(line_no, offset, len(carry))


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, decompressing gzip transparently (by magic bytes)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def read_lines(path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineBatch]:
    """Yield batches of lines (without their newline) from ``path``."""
    line_no = 1
    with open_binary(path) as stream:
        carry = b""
        compressed_pos = 0
        while True:
            chunk = stream.read(chunk_bytes)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            lines = data[:cut].split(b"\n")
            carry = data[cut + 1 :]
            pos = _position(stream, compressed_pos)
            yield LineBatch(line_no, lines, pos - compressed_pos)
            compressed_pos = pos
            line_no += len(lines)
        if carry:
            pos = _position(stream, compressed_pos)
            yield LineBatch(line_no, [carry], pos - compressed_pos)


def _position(stream: BinaryIO, fallback: int) -> int:
    """Bytes of the file consumed so far (the compressed offset for gzip)."""
    inner = getattr(stream, "fileobj", None)
    try:
        return int((inner or stream).tell())
    except (OSError, ValueError):
        return fallback
