"""``uproar classify --engine spark``: the understand stage's ``Classifier`` in
``mapInArrow``, over a file too big to label on one machine in good time.

The driver reads the texts (``understand.io.read_batches``, as the embedded command does)
and sends them to Spark a group of batches at a time; each task builds the ``Classifier``
once and labels its texts; the labels come back in input order, for the command to print
exactly as it prints the embedded path's.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from uproar.records import Labels
from uproar.spark.session import job_failure
from uproar.understand import Classifier
from uproar.understand.io import REACH_FIELDS, Batch

TEXTS_SCHEMA = "seq long, text string, " + ", ".join(f"{n} long" for n in REACH_FIELDS)
LABELS_SCHEMA = "seq long, labels binary"
GROUP = 200_000  # texts per Spark job: bounds what the driver holds at once


@dataclass(frozen=True, slots=True)
class LabelTexts:
    """What each Spark task runs: the classifier over its batches of texts."""

    model: str
    config: Path | None

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        classifier = Classifier(self.model, self.config)
        for batch in batches:
            counts = {n: batch.column(n).to_pylist() for n in REACH_FIELDS}
            labels = classifier.classify(batch.column("text").to_pylist(), counts=counts)
            yield pa.RecordBatch.from_pydict(
                {"seq": batch.column("seq"), "labels": [pickle.dumps(x) for x in labels]},
                schema=pa.schema([("seq", pa.int64()), ("labels", pa.binary())]),
            )


def spark_classify(
    spark: Any, batches: Iterable[Batch], *, model: str = "fast", config: Path | None = None
) -> Iterator[list[Labels]]:
    """Labels for each of ``batches``' texts, in input order, a group of batches at a time."""
    task = LabelTexts(model, config)
    slices = max(1, 2 * int(spark.sparkContext.defaultParallelism))
    group: list[Batch] = []
    for batch in batches:
        group.append(batch)
        if sum(len(b) for b in group) >= GROUP:
            yield from _label(spark, task, group, slices)
            group = []
    if group:
        yield from _label(spark, task, group, slices)


def _label(spark: Any, task: LabelTexts, group: list[Batch], slices: int) -> Iterator[list[Labels]]:
    rows: list[tuple[Any, ...]] = []
    for batch in group:
        columns = [batch.counts[n] for n in REACH_FIELDS]
        for k, text in enumerate(batch.texts):
            rows.append((len(rows), text, *(c[k] for c in columns)))
    frame = spark.createDataFrame(rows, TEXTS_SCHEMA).repartition(slices)

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return task(batches)  # Spark reads a function's arity, not a callable's

    try:
        found = frame.mapInArrow(run, LABELS_SCHEMA).collect()
    except Exception as exc:  # py4j's own types, wrapping the task's error
        raise job_failure("classify", exc) from exc
    labels: list[Labels | None] = [None] * len(rows)
    for row in found:
        labels[row["seq"]] = pickle.loads(row["labels"])  # our own task's rows
    start = 0
    for batch in group:
        piece = labels[start : start + len(batch)]
        start += len(batch)
        yield [x for x in piece if x is not None]
