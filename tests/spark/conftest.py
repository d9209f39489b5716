"""One local[2] SparkSession for the whole session; every test here skips without Java or
pyspark (CI has Java 17 and installs the ``spark`` extra with ``test``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: the spark engine tests need one (CI has Java 17)")
    pytest.importorskip("pyspark")
    from distillguard.spark import spark_session

    s = spark_session("local[2]", driver_memory="1g", shuffle_partitions=2)
    yield s
    s.stop()
