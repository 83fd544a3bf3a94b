"""Where pages go: a JSONL file, gzip-compressed when its name ends in ``.gz``.

Compression runs on a helper thread (zlib releases the GIL), so generating the next
pages overlaps with compressing the last ones; chunks are written strictly in order and
at most two are in flight, so memory stays bounded. The gzip header has no file name and
a zero mtime: the same pages always give the same bytes.
"""

from __future__ import annotations

import gzip
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO

CHUNK = 4 << 20  # bytes handed to the writer thread at a time


class PageSink:
    """Buffered, ordered, optionally gzip-compressed writer of JSONL lines."""

    def __init__(self, path: Path, *, compresslevel: int = 3) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._out: IO[bytes] = self._raw
        if path.name.endswith(".gz"):
            self._out = gzip.GzipFile(  # type: ignore[assignment]
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=compresslevel
            )
        self._buffer = bytearray()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uproar-sink")
        self._pending: Future[int] | None = None

    def write(self, line: bytes) -> None:
        self._buffer += line
        if len(self._buffer) >= CHUNK:
            self._handoff()

    def _handoff(self) -> None:
        if self._pending is not None:
            self._pending.result()
        data = bytes(self._buffer)
        self._buffer.clear()
        self._pending = self._pool.submit(self._out.write, data)

    def close(self) -> None:
        try:
            if self._buffer:
                self._handoff()
            if self._pending is not None:
                self._pending.result()
        finally:
            self._pool.shutdown(wait=True)
            if self._out is not self._raw:
                self._out.close()
            self._raw.close()

    def __enter__(self) -> PageSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
