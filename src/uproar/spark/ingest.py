"""``uproar ingest --engine spark``: the parse stage on Spark, the write stage unchanged.

The driver cuts each file into the jobs the embedded path's workers get (``LineSpan``s of
an uncompressed JSON Lines file; a whole gzip, CSV or JSON document otherwise, which cannot
be split), and Spark runs them through ``mapInArrow``: each task calls the very same
``ChunkParser`` (parsing, the plausible-time gate, brand matching, regions and the
classifier's labels) and writes the chunks it made to a staging folder. The driver then
streams the chunks, file by file and in order, into ``Ingestor.store_chunks``: the same
batches, deduplication, quarantine and labels as ``uproar ingest`` without Spark, into
the DuckDB store or a Parquet folder (``ParquetIngestor``).

Executors read the input and write the staging folder by path, so on a cluster both must
be on storage every machine sees (a shared mount); in ``local[N]`` mode that holds already.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from uproar.errors import EngineError, InputError
from uproar.sources.ingestor import (
    Chunk,
    ChunkParser,
    Ingestor,
    IngestResult,
    Progress,
    file_chunks,
    whole_document,
)
from uproar.sources.reader import LineSpan, is_gzip, line_spans
from uproar.spark.session import job_failure

# One row per parse job: "source" names the file as the user did (posts.source_file),
# "path" is where executors read it; "first" is a span's first line, or -1 when the whole
# file is one job (gzip, CSV, a JSON document).
JOB_COLUMNS = ("seq", "source", "path", "format", "first", "offset", "length", "overlong")
JOB_SCHEMA = (
    "seq long, source string, path string, format string, first long, offset long, "
    "length long, overlong boolean"
)
DONE_SCHEMA = "seq long, chunks long, posts long, quarantined long"


@dataclass(frozen=True, slots=True)
class ParseJob:
    """What one Spark task parses, and where it leaves the chunks."""

    parser: ChunkParser
    staging: str
    batch_size: int
    job_bytes: int
    csv_mapping: dict[str, str]

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for job in batch.to_pylist():
                yield self._run(job)

    def _run(self, job: dict[str, Any]) -> pa.RecordBatch:
        counts = [0, 0, 0]
        final = staged_file(self.staging, job["seq"])
        partial = final.with_suffix(".part")  # a retried task starts the file afresh
        with partial.open("wb") as out:
            try:
                for chunk in self._chunks(job):
                    pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
                    counts[0] += 1
                    counts[1] += chunk.posts.num_rows
                    counts[2] += chunk.quarantine.num_rows
            except InputError as exc:
                # what the embedded path does: keep what was read before the fault and
                # then fail, naming the file and line (the driver raises it in order)
                pickle.dump(_Failure(exc.message), out, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(final)
        row = {"seq": [job["seq"]], "chunks": [counts[0]], "posts": [counts[1]],
               "quarantined": [counts[2]]}  # fmt: skip
        return pa.RecordBatch.from_pydict(row)

    def _chunks(self, job: dict[str, Any]) -> Iterator[Chunk]:
        source, at, name = job["source"], Path(job["path"]), job["format"]
        if job["first"] < 0:
            yield from file_chunks(
                self.parser, at, name, _whole(at, name), batch_size=self.batch_size,
                job_bytes=self.job_bytes, csv_mapping=self.csv_mapping, source=source,
            )  # fmt: skip
            return
        span = LineSpan(job["first"], job["offset"], job["length"], job["overlong"])
        chunk = self.parser.parse_span(source, name, span, at=at)
        chunk.bytes_read = span.length + 1
        yield chunk


@dataclass(frozen=True, slots=True)
class _Failure:
    message: str


def _whole(path: Path, name: str) -> list[Any] | None:
    return None if name == "csv" else whole_document(path)


def staged_file(staging: str, seq: int) -> Path:
    return Path(staging) / f"{seq:09d}.chunks"


def read_staged(path: Path) -> Iterator[Chunk]:
    """The chunks a task left in ``path``, in order (a read fault is raised where it was)."""
    with path.open("rb") as stream:
        while True:
            try:
                item = pickle.load(stream)  # our own staging file, written by ParseJob
            except EOFError:
                return
            if isinstance(item, _Failure):
                raise InputError(item.message)
            yield item


def spark_ingest(
    spark: Any,
    ingestor: Ingestor,
    paths: Iterable[str | Path],
    *,
    format: str = "auto",
    staging: Path | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest ``paths`` as ``ingestor.ingest`` does, parsing on ``spark``.

    ``staging`` is where tasks leave their chunks until the driver writes them (default: a
    temporary folder beside the current directory's temp space); it is removed after.
    """
    ingestor.start(format)
    result = IngestResult()
    files: list[tuple[Path, list[int]]] = []
    jobs: list[dict[str, Any]] = []
    for path in map(Path, paths):
        name, whole = ingestor.resolve(path, format, result)
        absolute = str(path.resolve())
        seqs: list[int] = []
        split = name != "csv" and whole is None and not is_gzip(path)
        spans = line_spans(path, chunk_bytes=ingestor.job_bytes) if split else [None]
        for span in spans:
            seqs.append(len(jobs))
            jobs.append({
                "seq": len(jobs), "source": str(path), "path": absolute, "format": name,
                "first": span.first if span else -1, "offset": span.offset if span else 0,
                "length": span.length if span else 0, "overlong": bool(span and span.overlong),
            })  # fmt: skip
        files.append((path, seqs))
    folder = Path(tempfile.mkdtemp(prefix="uproar-spark-", dir=staging))
    try:
        if jobs:
            _run_jobs(spark, ingestor, jobs, folder)
        for path, seqs in files:
            chunks = (c for seq in seqs for c in read_staged(staged_file(str(folder), seq)))
            ingestor.store_chunks(path, chunks, result, progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _run_jobs(spark: Any, ingestor: Ingestor, jobs: list[dict[str, Any]], folder: Path) -> None:
    task = ParseJob(
        parser=ingestor.parser,
        staging=str(folder),
        batch_size=ingestor.batch_size,
        job_bytes=ingestor.job_bytes,
        csv_mapping=dict(ingestor.csv_mapping),
    )
    slices = max(1, min(len(jobs), 4 * int(spark.sparkContext.defaultParallelism)))
    rows = [tuple(job[name] for name in JOB_COLUMNS) for job in jobs]
    frame = spark.createDataFrame(rows, JOB_SCHEMA).repartition(slices, "seq")
    try:
        done = frame.mapInArrow(task, DONE_SCHEMA).collect()
    except Exception as exc:  # py4j's own types, wrapping the task's error
        raise job_failure("parse", exc) from exc
    missing = {job["seq"] for job in jobs} - {row["seq"] for row in done}
    if missing or not os.path.isdir(folder):
        raise EngineError(f"the Spark parse job left {len(missing)} job(s) without output")
