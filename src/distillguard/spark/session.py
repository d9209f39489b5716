"""The SparkSession the engine uses: an existing one, or a new one for ``master``."""

from __future__ import annotations

import os
import sys
from typing import Any

#: Settings the engine relies on: UTC everywhere (timestamps are UTC by contract), Arrow
#: batches big enough that per-batch Python overhead stays small.
REQUIRED_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(master: str | None = None, *, driver_memory: str = "2g",
                  shuffle_partitions: int | None = None, app_name: str = "distillguard",
                  conf: dict[str, str] | None = None) -> Any:
    """Return the active SparkSession, or build one.

    ``master``: e.g. ``local[2]`` or ``spark://host:7077``; None keeps what ``spark-submit``
    (or an already running session) set, and falls back to ``local[*]``.
    ``driver_memory`` only applies when this call starts the JVM (under ``spark-submit``
    its ``--driver-memory`` applies). :data:`REQUIRED_CONF` is set on the session either
    way.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("the spark engine needs pyspark: pip install 'distillguard[spark]'"
                           ) from exc
    # executors' Python workers must import distillguard: the driver's interpreter
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        spark = active
    else:
        b = SparkSession.builder.appName(app_name)
        # under spark-submit the JVM already runs with its --master / --driver-memory
        submitted = "PYSPARK_GATEWAY_PORT" in os.environ
        if master is not None or not submitted:
            b = b.master(master or "local[*]")
        if not submitted:
            b = b.config("spark.driver.memory", driver_memory)
        b = b.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        if shuffle_partitions is not None:
            b = b.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        for k, v in (conf or {}).items():
            b = b.config(k, v)
        spark = b.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    for k, v in REQUIRED_CONF.items():
        spark.conf.set(k, v)
    return spark
