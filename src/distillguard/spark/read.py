"""Reading the contract's events table on Spark, with the contract's bad-row rules.

Formats: ``events.parquet`` (split by row group) and ``events.jsonl`` /
``events.jsonl.gz`` (Spark reads gzip natively; a ``.gz`` file is one task). Each column
is cast to its contract type (``try_cast``: a value that does not fit is a bad row, not an
exception); naive Parquet timestamps are UTC; RFC 3339 strings are parsed with their
offset. Rows are rejected, counted by reason and left out exactly as the local reader
does: ``malformed_json``, ``null_required``, ``bad_timestamp``, ``wrong_type``,
``unknown_account``, ``duplicate_key`` (the first occurrence of an ``event_id`` in file
order is kept). With a quarantine directory the rejected rows are written there by Spark
(:func:`write_quarantine`): the local engine's record format, as a directory of part
files ``events.quarantine.jsonl/`` rather than one file, so no bad row has to pass
through the driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from distillguard.ingest import StrictModeError, ValidationReport
from distillguard.ingest.dataset import DataFile
from distillguard.ingest.report import Issue
from distillguard.ingest.schema import EVENTS

CORRUPT = "_corrupt_record"
#: Example rows kept per reason in the report.
EXAMPLES = 3
#: Up to this many repeated event ids are broadcast to mark the repeats (else a join).
BROADCAST_DUPS = 1_000_000


def _spark_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "timestamp"
    return {pa.string(): "string", pa.int64(): "bigint", pa.int32(): "int",
            pa.float64(): "double"}[t]


def _raw_events(spark: Any, f: DataFile) -> Any:
    if f.format == "parquet":
        return spark.read.parquet(str(f.path))
    from pyspark.sql.types import StringType, StructField, StructType

    # every field read as its JSON text: numbers-as-strings and RFC 3339 strings are then
    # cast by the same rules as Parquet columns, and a malformed line lands in CORRUPT
    fields = [StructField(c.name, StringType()) for c in EVENTS.columns]
    fields.append(StructField(CORRUPT, StringType()))
    return (spark.read.schema(StructType(fields)).option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT).json(str(f.path)))


def read_events(spark: Any, f: DataFile, known_accounts: pa.Array, report: ValidationReport,
                *, strict: bool = False, quarantine: Path | None = None) -> Any:
    """The valid events of ``f`` as a Spark DataFrame in the contract's canonical types
    (plus ``_mid``, increasing in file order). Bad rows are counted into ``report`` (or
    raise in ``strict`` mode).

    Nothing wide is cached or shuffled here: the verdict of a row needs only the columns
    whose cast can fail (prompt text is never cast, so a Parquet read prunes it), and
    duplicates are found on ``(event_id, _mid)`` alone.

    ``quarantine``: a directory; the bad rows (if any) go to
    ``<quarantine>/events.quarantine.jsonl/`` (see :func:`write_quarantine`) and the
    report names it.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    raw = _raw_events(spark, f).withColumn("_mid", F.monotonically_increasing_id())
    cols, checks = [], []
    for c in EVENTS.columns:
        typ = _spark_type(c.type)
        if c.name not in raw.columns:
            cols.append(F.lit(None).cast(typ).alias(c.name))
            if not c.nullable:
                checks.append((F.lit(True), "null_required", c.name))
            continue
        src = F.col(c.name)
        dtype = dict(raw.dtypes)[c.name]
        if typ == "timestamp" and dtype == "timestamp_ntz":
            cast = src.cast("timestamp")  # naive = UTC (the session time zone is UTC)
        elif dtype == typ:
            cast = src
        else:
            cast = F.expr(f"try_cast(`{c.name}` as {typ})")
        cols.append(cast.alias(c.name))
        if not c.nullable:
            checks.append((src.isNull(), "null_required", c.name))
        if cast is not src:
            checks.append((src.isNotNull() & cast.isNull(),
                           "bad_timestamp" if typ == "timestamp" else "wrong_type", c.name))
    reason = F.lit(None).cast("string")
    field = F.lit(None).cast("string")
    for cond, why, name in reversed(checks):
        reason = F.when(cond, F.lit(why)).otherwise(reason)
        field = F.when(cond, F.lit(name)).otherwise(field)
    if CORRUPT in raw.columns:
        reason = F.when(F.col(CORRUPT).isNotNull(), F.lit("malformed_json")).otherwise(reason)
        field = F.when(F.col(CORRUPT).isNotNull(), F.lit(None)).otherwise(field)
    ev = raw.select(*cols, "_mid", reason.alias("_bad"), field.alias("_field"))
    known = spark.createDataFrame(
        pa.table({"account_id": known_accounts.cast(pa.string())})
    ).withColumn("_known", F.lit(True))
    ev = (ev.join(F.broadcast(known), "account_id", "left")
          .withColumn("_bad", F.when(F.col("_bad").isNull() & F.col("_known").isNull(),
                                     F.lit("unknown_account")).otherwise(F.col("_bad")))
          .withColumn("_field", F.when(F.col("_bad") == "unknown_account",
                                       F.lit("account_id")).otherwise(F.col("_field")))
          .drop("_known"))
    # repeated event ids among otherwise valid rows: the first in file order is kept
    dups = (ev.filter(F.col("_bad").isNull()).groupBy("event_id")
            .agg(F.count("*").alias("_n"), F.min("_mid").alias("_keep"))
            .filter(F.col("_n") > 1).select("event_id", "_keep"))
    n_dups = dups.count()
    if n_dups:
        ev = (ev.join(F.broadcast(dups) if n_dups <= BROADCAST_DUPS else dups, "event_id",
                      "left")
              .withColumn("_bad", F.when(F.col("_bad").isNull() & F.col("_keep").isNotNull()
                                         & (F.col("_mid") != F.col("_keep")),
                                         F.lit("duplicate_key")).otherwise(F.col("_bad")))
              .withColumn("_field", F.when(F.col("_bad") == "duplicate_key", F.lit("event_id"))
                          .otherwise(F.col("_field")))
              .drop("_keep"))
    counts = {r["_bad"]: r["n"] for r in ev.groupBy("_bad").agg(F.count("*").alias("n")).collect()}
    n_ok = int(counts.pop(None, 0))
    n_bad = sum(int(v) for v in counts.values())
    report.add_rows("events", read=n_ok + n_bad, ok=n_ok)
    examples: dict[str, list[Issue]] = {}
    if counts:  # the first few bad rows of each reason in file order, in one job
        w = Window.partitionBy("_bad").orderBy("_mid")
        rows = (ev.filter(F.col("_bad").isNotNull())
                .withColumn("_i", F.row_number().over(w)).filter(F.col("_i") <= EXAMPLES)
                .select("_bad", "event_id", "_field", "_mid").collect())
        for r in sorted(rows, key=lambda r: r["_mid"]):
            examples.setdefault(r["_bad"], []).append(Issue(
                "events", str(f.path), None, None, r["_field"], r["_bad"],
                f"{r['_bad']} (event_id {r['event_id']!r})"))
    for why, n in sorted(counts.items()):
        issues = examples.get(why, [])
        if strict:
            first_issue = issues[0] if issues else Issue("events", str(f.path), None, None,
                                                         None, why, why)
            raise StrictModeError(f"{why}: {first_issue.message} (strict mode)",
                                  path=str(f.path), field=first_issue.field)
        report.add_bad("events", why, int(n), issues)
    if quarantine is not None and n_bad:
        out = write_quarantine(raw, ev, f, quarantine)
        report.quarantine_files.append(str(out))
    return ev.filter(F.col("_bad").isNull()).drop("_bad", "_field")


def write_quarantine(raw: Any, ev: Any, f: DataFile, directory: Path) -> Path:
    """Write ``ev``'s rejected rows as the local engine's quarantine records.

    One JSON object per bad row, the keys of ``ingest._quarantine`` (``table, file, row,
    offset, field, reason, message, record``): ``record`` is the original line for
    malformed JSON, else the row's values as read (JSON text fields stay text); ``row`` and
    ``offset`` are null (Spark does not know a row's position in its file; ``spark_row``
    is the reader's increasing row id, which orders the records as the file does). Spark
    writes them as part files into ``<directory>/events.quarantine.jsonl/``, replacing what
    an earlier run left there.
    """
    from pyspark.sql import functions as F

    value_cols = [c for c in raw.columns if c not in ("_mid", CORRUPT)]
    record = F.to_json(F.struct(*[F.col(f"r.{c}").alias(c) for c in value_cols]))
    if CORRUPT in raw.columns:
        record = F.coalesce(F.col(f"r.{CORRUPT}"), record)
    message = F.concat(F.col("b._bad"), F.lit(" (event_id "),
                       F.coalesce(F.col("r.event_id").cast("string"), F.lit("null")),
                       F.lit(")"))
    out = directory / "events.quarantine.jsonl"
    bad = ev.filter(F.col("_bad").isNotNull()).select("_mid", "_bad", "_field")
    (bad.alias("b").join(raw.alias("r"), F.col("b._mid") == F.col("r._mid"))
     .orderBy(F.col("b._mid"))
     .select(F.lit("events").alias("table"), F.lit(str(f.path)).alias("file"),
             F.lit(None).cast("long").alias("row"), F.lit(None).cast("long").alias("offset"),
             F.col("b._field").alias("field"), F.col("b._bad").alias("reason"),
             message.alias("message"), record.alias("record"),
             F.col("b._mid").alias("spark_row"))
     .write.mode("overwrite").option("ignoreNullFields", "false").json(str(out)))
    return out
