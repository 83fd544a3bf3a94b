"""``uproar detect --engine spark``: ``detect_store`` per brand family, on Spark.

Brands that name each other as peers are judged together (the detector compares a brand's
surge with its peers' to tell "us" from "everyone"), so the unit of work is a family: the
brands linked through ``peers``. The store's posts (with labels, without the raw records)
are exported to Parquet; Spark reads them, tags each with the families of the brands it
mentions (or that wrote it), and ``groupBy(family).applyInArrow`` hands each family's posts
to a function that loads them into an in-memory store and calls the very same
``detect_store``: the same SQL, the same seasonal baseline learned per brand, the same
incident descriptions and rumours. The incidents come back to the driver, which saves them
through the same ``save_incidents`` as the embedded path.

A family's posts alone would move where the walk over the minutes starts, ends and breaks
(those follow the whole archive), so each family store also gets a few context rows
(``store.scale.context_times``) that mention no family's brand. A family's posts that also
mention brands of other families make those brands (and ``CONTEXT_BRAND``) known to its
detector with part of their mentions: only the family's own brands' findings come back.

What this does not do: save the streaming monitor's state (``uproar watch`` after a Spark
backfill starts its baseline afresh), and the incidents' order is by start, brand and id.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from uproar import plausible
from uproar.config import Brand
from uproar.config import peer_families as brand_families
from uproar.detect.batch import DetectResult, detect_store
from uproar.spark.session import job_failure
from uproar.store import Store
from uproar.store import detect as sql
from uproar.store.parquet import export_parquet
from uproar.store.scale import context_times
from uproar.store.store import POST_COLUMNS, utc

CONTEXT_BRAND = "~context"  # not a brand id a brands file can declare
RESULT_SCHEMA = "family string, result binary"


@dataclass(frozen=True, slots=True)
class FamilyDetect:
    """What each Spark group runs: one family's posts through ``detect_store``."""

    brands: dict[str, Brand]
    families: dict[str, str]
    context: pa.Table  # context_times
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, posts: pa.Table) -> pa.Table:
        family = str(posts.column("family")[0].as_py())
        members = {b: self.brands[b] for b, f in self.families.items() if f == family}
        with Store(":memory:") as store:
            store.save_brands(members)
            store.insert_posts(_naive(posts.select(_present(posts, POST_COLUMNS))))
            store.insert_posts(self._context_rows())
            label_columns = [c for c in _label_columns(store) if c in posts.column_names]
            labels = posts.select(label_columns)
            labels = labels.filter(pc.is_valid(labels.column("complaint")))
            if labels.num_rows:
                store.save_labels(_naive(labels))
            result = detect_store(store, brands=members, save=False, **self.options)
        found = DetectResult(
            incidents=tuple(i for i in result.incidents if i.brand in members),
            rumours=tuple(r for r in result.rumours if r.brand in members),
            clock=result.clock,
            minutes=result.minutes,
            posts=result.posts,
            coverage=tuple(c for c in result.coverage if c.brand in members),
        )
        return pa.table(
            {"family": [family], "result": [pickle.dumps(found)]},
            schema=pa.schema([("family", pa.string()), ("result", pa.binary())]),
        )

    def _context_rows(self) -> pa.Table:
        times = self.context.column("t")
        mention = self.context.column("mention").to_pylist()
        n = len(mention)
        text = pa.array([""] * n, pa.string())
        none = pa.nulls(n, pa.string())
        return pa.table(
            {
                "platform": pa.array(["~"] * n, pa.string()),
                "id": pa.array([f"~{k}" for k in range(n)], pa.string()),
                "created_at": times,
                "text": text,
                "author_id": pa.array([f"~{k}" for k in range(n)], pa.string()),
                "own_brand": none,
                "reposted_id": none,
                "urls": pa.array([[]] * n, pa.list_(pa.string())),
                "brands": pa.array(
                    [[CONTEXT_BRAND] if m else [] for m in mention], pa.list_(pa.string())
                ),
                "ingested_at": times,
            }
        )


def _present(table: pa.Table, names: Iterable[str]) -> list[str]:
    return [n for n in names if n in table.column_names]


def _label_columns(store: Store) -> list[str]:
    return list(store.connection.sql("SELECT * FROM labels LIMIT 0").columns)


def _naive(table: pa.Table) -> pa.Table:
    """Spark's timestamps (UTC, with a zone) as the store's naive UTC."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind):
            column = column.cast(pa.timestamp("us", kind.tz)).cast(pa.timestamp("us"))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def spark_detect(
    spark: Any,
    store: Store,
    *,
    brands: Mapping[str, Brand] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    signal: str = "fresh_complaint",
    save: bool = True,
    details: bool = True,
    history: timedelta = timedelta(days=7),
    hourly: bool = True,
    staging: Path | None = None,
) -> DetectResult:
    """``detect_store`` on ``spark``, family by family; the same incidents and rumours."""
    brands = dict(brands) if brands is not None else store.load_brands()
    families = brand_families(brands)
    options = {"since": since, "until": until, "signal": signal, "details": details,
               "history": history, "hourly": hourly}  # fmt: skip
    task = FamilyDetect(
        brands=brands,
        families=families,
        context=context_times(store, floor=plausible.EARLIEST, ceiling=plausible.LATEST),
        options=options,
    )
    folder = Path(tempfile.mkdtemp(prefix="uproar-spark-", dir=staging))
    try:
        export_parquet(store, folder / "posts", raw=False)
        rows = _run(spark, folder / "posts", families, task) if families else []
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    parts: list[DetectResult] = [pickle.loads(row["result"]) for row in rows]  # our own rows
    incidents = sorted(
        (i for p in parts for i in p.incidents), key=lambda i: (i.start, i.brand, i.id)
    )
    rumours = sorted(
        (r for p in parts for r in p.rumours),
        key=lambda r: (r.detected_at, r.brand, r.kind, r.key),
    )
    clocks = [p.clock for p in parts if p.clock is not None]
    if save:
        sql.save_incidents(
            store,
            incidents,
            replace_brands=sorted(set(brands) | {i.brand for i in incidents}),
            since=utc(since),
            until=utc(until),
        )
    return DetectResult(
        incidents=tuple(incidents),
        rumours=tuple(rumours),
        clock=max(clocks) if clocks else None,
        minutes=max((p.minutes for p in parts), default=0),
        posts=sum(p.posts for p in parts),
        coverage=tuple(c for p in parts for c in p.coverage),
    )


def _run(spark: Any, folder: Path, families: dict[str, str], task: FamilyDetect) -> list[Any]:
    from pyspark.sql import functions as F

    lookup = F.create_map(*[F.lit(x) for pair in sorted(families.items()) for x in pair])
    posts = spark.read.parquet(str(folder))
    mentioned = F.concat(
        F.coalesce(F.col("brands"), F.array().cast("array<string>")),
        F.array(F.col("own_brand")),
    )
    tagged = posts.withColumn(
        "family",
        F.explode(
            F.array_distinct(
                F.filter(F.transform(mentioned, lambda b: lookup[b]), lambda f: f.isNotNull())
            )
        ),
    )

    def run(posts: pa.Table) -> pa.Table:  # Spark reads a function's arity, not a callable's
        return task(posts)

    try:
        return list(tagged.groupBy("family").applyInArrow(run, RESULT_SCHEMA).collect())
    except Exception as exc:  # py4j's own types, wrapping the task's error
        raise job_failure("detect", exc) from exc


__all__ = ["CONTEXT_BRAND", "brand_families", "spark_detect"]
