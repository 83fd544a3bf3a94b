"""Uproar's stages on Apache Spark (``--engine spark``), for archives and brand lists one
machine cannot hold.

Spark runs the same Python functions as the embedded path, through Arrow batch functions:
``mapInArrow`` for parsing, brand matching and labelling (``spark.ingest``), and
``applyInArrow`` grouped by brand family for detection (``spark.detect``). What comes back
goes through the same write path into the DuckDB store or a Parquet folder.
pyspark is an optional extra (``pip install 'uproar[spark]'``) and needs Java 17.
"""

from uproar.spark.session import DEFAULT_MASTER, spark_missing, spark_session

__all__ = ["DEFAULT_MASTER", "spark_missing", "spark_session"]
