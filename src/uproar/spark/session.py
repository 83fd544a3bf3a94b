"""One SparkSession per command: started quietly, stopped when the command ends.

The JVM start is the fixed cost of every Spark command (about 5 s here), so a command
starts one session and runs all its stages in it. The session is tuned for Uproar's jobs:
no web UI, no console progress bars, few shuffle partitions (a group per brand family is
small), UTC as the session time zone (the store's times are naive UTC), and Arrow for the
Python functions.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from uproar.errors import EngineError

DEFAULT_MASTER = "local[2]"

# Settings every session gets; a cluster's own spark-defaults.conf adds to them.
SETTINGS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # a Python function's batch: a few thousand posts (the parse jobs are one row each)
    "spark.sql.execution.arrow.maxRecordsPerBatch": "10000",
}
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def spark_missing() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java), or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: pip install 'uproar[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        return "no Java runtime: install Java 17 (apt-get install openjdk-17-jre-headless)"
    return None


def job_failure(stage: str, exc: BaseException) -> EngineError:
    """An ``EngineError`` for a failed Spark job, naming the Python error behind it (py4j
    wraps a task's traceback in pages of JVM stack)."""
    lines = [line.strip() for line in str(exc).splitlines()]
    found = [line for line in lines if _ERROR.match(line) and "PythonException" not in line]
    reason = found[0] if found else next((line for line in lines if line), repr(exc))
    return EngineError(f"the Spark {stage} job failed: {reason}")


_ERROR = re.compile(r"^[\w.]*(Error|Exception|Exit): ")


@contextmanager
def spark_session(master: str | None = None, *, app: str = "uproar") -> Iterator[Any]:
    """A SparkSession on ``master`` (``local[N]``, ``spark://host:7077``, ``yarn``,
    ``k8s://...``; default ``local[2]``), stopped on leaving. A session already active in
    this process is used instead (and left running)."""
    why = spark_missing()
    if why is not None:
        raise EngineError(f"--engine spark: {why}")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:  # a notebook's, or a test module's: used, and left running
        yield active
        return
    target = master or DEFAULT_MASTER
    if target.startswith("local"):
        # no lookup of this machine's outside address (and no warning about it)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    quiet = f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"
    builder = SparkSession.builder.master(target).appName(app)
    for key, value in {**SETTINGS, "spark.driver.extraJavaOptions": quiet,
                       "spark.executor.extraJavaOptions": quiet}.items():  # fmt: skip
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j and the JVM raise their own types
        raise EngineError(f"cannot start Spark on {master or DEFAULT_MASTER}: {exc}") from exc
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
