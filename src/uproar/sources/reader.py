"""Read archive files line by line in bounded memory, gzip or not, keeping line numbers.

Lines come out in batches of raw bytes; undecodable UTF-8 is reported per line so one bad
byte costs one line, not the file.

Every read is bounded, whatever the file holds:

- a line longer than ``LINE_LIMIT`` is not held: its first ``LINE_SAMPLE`` bytes are kept
  for the quarantine and the rest is skipped, in time linear in its length;
- runs of blank lines are counted, not split into lines;
- a gzip file that inflates to more than ``GZIP_RATIO`` times the compressed bytes read
  (beyond the first ``GZIP_RATIO_FLOOR`` bytes) is a gzip bomb and stops with an error;
- a truncated or corrupt gzip stops with an ``InputError`` naming the file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from uproar.errors import InputError

CHUNK_BYTES = 2 << 20  # per parse job: a parse worker peaks near 140 MB (8 MB: 210 MB)
# The longest line read as a record: a 500-tweet X v2 page with its expansions is about
# 1.5 MB; a longer line is quarantined with its first ``LINE_SAMPLE`` bytes.
LINE_LIMIT = 16 << 20
LINE_SAMPLE = 4 << 10
# JSON archives inflate 5-15x under gzip; gzip's own ceiling is about 1,032x. A stream past
# 100x (once over 32 MiB) is a bomb: a 4 MB file of 4 GiB of newlines, say.
GZIP_RATIO = 100
GZIP_RATIO_FLOOR = 32 << 20


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Consecutive lines of one file: ``first`` is the 1-based number of ``lines[0]``.

    ``overlong`` maps the index of each line over ``LINE_LIMIT`` to its full length; such
    a line holds only its first ``LINE_SAMPLE`` bytes.
    """

    first: int
    lines: list[bytes]
    bytes_read: int
    overlong: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineSpan:
    """Consecutive whole lines of an uncompressed file, by place: a parse worker reads
    them itself, so the lines need not be split and shipped by the ingesting process.
    An ``overlong`` span is one line over ``LINE_LIMIT``, of which only the first
    ``LINE_SAMPLE`` bytes are read."""

    first: int  # the 1-based number of the first line
    offset: int  # where it starts in the file
    length: int  # bytes up to (not including) the last line's newline
    overlong: bool = False

    def read(self, path: Path) -> list[bytes]:
        with path.open("rb") as stream:
            stream.seek(self.offset)
            if self.overlong:
                return [stream.read(min(LINE_SAMPLE, self.length))]
            return stream.read(self.length).split(b"\n")


GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == GZIP_MAGIC


class _Unreadable(InputError):
    """The file cannot be read on (corrupt or truncated gzip, a gzip bomb); ``detail``
    says why, without the file and line that the message adds."""

    def __init__(self, detail: str, *, file: str, line: int | None = None) -> None:
        super().__init__(detail, file=file, line=line)
        self.detail = detail


class _GuardedGzip(io.RawIOBase):
    """A gzip stream that stops at a bomb and turns decompression failures into an
    ``InputError`` naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("rb")
        self._gzip = gzip.GzipFile(fileobj=self._file, mode="rb")
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def compressed(self) -> int:
        """Compressed bytes consumed so far."""
        return self._file.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._gzip.read(len(buffer))
        except EOFError:
            raise _Unreadable(
                "truncated gzip: the file ends before its end-of-stream marker",
                file=str(self.path),
            ) from None
        except (gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise _Unreadable(f"corrupt gzip: {exc}", file=str(self.path)) from None
        size = len(data)
        buffer[:size] = data
        self.inflated += size
        if self.inflated > GZIP_RATIO_FLOOR and self.inflated > GZIP_RATIO * self.compressed():
            raise _Unreadable(
                f"gzip bomb: {self.inflated:,} bytes inflated from {self.compressed():,}, "
                f"over {GZIP_RATIO}x; not read further",
                file=str(self.path),
            )
        return size

    def close(self) -> None:
        if not self.closed:
            self._gzip.close()
            self._file.close()
        super().close()


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, decompressing gzip transparently (by magic bytes)."""
    if is_gzip(path):
        return io.BufferedReader(_GuardedGzip(path), buffer_size=1 << 20)
    return path.open("rb")


def read_limited(stream: BinaryIO, limit: int) -> bytes | None:
    """All of ``stream`` if it holds at most ``limit`` bytes (decompressed), else None."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def line_spans(
    path: Path, *, chunk_bytes: int = CHUNK_BYTES, line_limit: int = LINE_LIMIT
) -> Iterator[LineSpan]:
    """The lines of an uncompressed file as spans of about ``chunk_bytes``; the lines
    ``read_lines`` gives, batch for batch. Nothing is held across chunks, so a line with
    no end costs one pass; a span of blank lines only is counted, not yielded."""
    chunk_bytes = min(chunk_bytes, line_limit)  # so only a carried line can be overlong
    line_no = 1
    start = 0  # where the line that runs into the next chunk began
    blank = True  # whether that line is blank so far
    pos = 0  # the file offset of ``chunk``
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(chunk_bytes)
            if not chunk:
                break
            first = chunk.find(b"\n")
            if first < 0:
                blank = blank and chunk.isspace()
                pos += len(chunk)
                continue
            cut = chunk.rfind(b"\n")
            head = pos + first - start  # the carried line's length
            lines = chunk.count(b"\n", 0, cut) + 1
            if head > line_limit:
                yield LineSpan(line_no, start, head, overlong=True)
                line_no, start = line_no + 1, pos + first + 1
                lines -= 1
            if lines and not (blank and chunk[: cut + 1].isspace()):
                yield LineSpan(line_no, start, pos + cut - start)
            line_no += lines
            start = pos + cut + 1
            blank = chunk[cut + 1 :].isspace() or cut + 1 == len(chunk)
            pos += len(chunk)
        if pos > start:
            length = pos - start
            if length > line_limit:
                yield LineSpan(line_no, start, length, overlong=True)
            elif not blank:
                yield LineSpan(line_no, start, length)


def read_lines(
    path: Path, *, chunk_bytes: int = CHUNK_BYTES, line_limit: int = LINE_LIMIT
) -> Iterator[LineBatch]:
    """Yield batches of lines (without their newline) from ``path``.

    Time is linear in the file's size and memory bounded by ``chunk_bytes`` and
    ``line_limit``. A batch of blank lines only comes out with no lines (its bytes still
    count). A gzip that cannot be read on raises an ``InputError`` naming the line.
    """
    line_no = 1
    with open_binary(path) as stream:
        parts: list[bytes] = []  # the line that runs on from earlier chunks
        size = 0  # its length so far (only its sample is kept once it is over the limit)
        compressed_pos = 0
        while True:
            try:
                chunk = stream.read(chunk_bytes)
            except _Unreadable as exc:
                raise InputError(exc.detail, file=str(path), line=line_no) from None
            if not chunk:
                break
            first = chunk.find(b"\n")
            if first < 0:
                size = _carry(parts, size, chunk, line_limit)
                continue
            cut = chunk.rfind(b"\n")
            size = _carry(parts, size, chunk[:first], line_limit)
            head = b"".join(parts)
            lines = [head]
            overlong = {0: size} if size > line_limit else {}
            if cut > first:
                body = chunk[first + 1 : cut]
                if body.isspace() and not head.strip():
                    # blank lines only: count them without making a list of them
                    line_no += body.count(b"\n") + 2
                    lines = []
                else:
                    lines += body.split(b"\n")
                    if len(body) > line_limit:
                        overlong = {**_cut_overlong(lines, line_limit), **overlong}
            elif not head.strip():
                line_no += 1
                lines = []
            parts = []
            size = _carry(parts, 0, chunk[cut + 1 :], line_limit)
            pos = _position(stream, compressed_pos)
            yield LineBatch(line_no, lines, pos - compressed_pos, overlong)
            compressed_pos = pos
            line_no += len(lines)
        if size:
            pos = _position(stream, compressed_pos)
            overlong = {0: size} if size > line_limit else {}
            yield LineBatch(line_no, [b"".join(parts)], pos - compressed_pos, overlong)


def _carry(parts: list[bytes], size: int, piece: bytes, line_limit: int) -> int:
    """Add ``piece`` to the unfinished line in ``parts``; past ``line_limit`` only its
    first ``LINE_SAMPLE`` bytes are kept. Returns the line's full length so far."""
    if not piece:
        return size
    if size + len(piece) <= line_limit:
        parts.append(piece)
    else:
        kept = b"".join(parts) if size <= line_limit else (parts[0] if parts else b"")
        if len(kept) < LINE_SAMPLE:
            kept += piece[: LINE_SAMPLE - len(kept)]
        parts[:] = [kept[:LINE_SAMPLE]]
    return size + len(piece)


def _cut_overlong(lines: list[bytes], line_limit: int) -> dict[int, int]:
    """Trim lines over the limit (only when a chunk is larger than the limit) to their
    sample, in place; returns their indexes and full lengths."""
    found = {i: len(line) for i, line in enumerate(lines) if len(line) > line_limit}
    for i in found:
        lines[i] = lines[i][:LINE_SAMPLE]
    return found


def _position(stream: BinaryIO, fallback: int) -> int:
    """Bytes of the file consumed so far (the compressed offset for gzip)."""
    raw = getattr(stream, "raw", None)
    if isinstance(raw, _GuardedGzip):
        return raw.compressed()
    try:
        return int(stream.tell())
    except (OSError, ValueError):
        return fallback
