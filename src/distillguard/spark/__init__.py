"""Stages 1-2 of the scan on Apache Spark (``distillguard scan --engine spark``).

Stage 1 is a ``mapInArrow`` over the same :func:`distillguard.enrich.enrich_frame`; stage 2
is the same :mod:`distillguard.aggregate` functions called per partition of their group-by
key (skeleton, prompt, template family, account), with the dataset-wide statistics computed
by Spark first and broadcast. Only account-level tables (features, account-entity
incidence, template families, the bottom-k prompt sample) and the events of flagged
campaign accounts come back to the driver, where stages 3-4 run as in the local engine
(:func:`distillguard.pipeline.finish_scan`). See ``docs/spark.md``.

pyspark is an optional dependency (the ``spark`` extra); importing this package does not
import it.
"""

from distillguard.spark.engine import run_scan_spark
from distillguard.spark.session import spark_session

__all__ = ["run_scan_spark", "spark_session"]
