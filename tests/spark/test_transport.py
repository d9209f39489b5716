"""Frames cross into Spark and back without changing a value (no Spark needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from distillguard.spark.arrow import from_transport, to_transport, transport_schema


def test_round_trip_keeps_every_value_and_dtype() -> None:
    df = pl.DataFrame({
        "h": pl.Series([0, 2**63, 2**64 - 1, None], dtype=pl.UInt64),  # hashes >= 2**63
        "n": pl.Series([1, 2, None, 4], dtype=pl.UInt32),
        "m": pl.Series(["a", "b", None, "a"], dtype=pl.Categorical),
        "ts": pl.Series([datetime(2026, 1, 1, tzinfo=UTC)] * 4).dt.cast_time_unit("us"),
        "x": [0.5, None, 1.5, 2.0],
    })
    tbl = to_transport(df, df.schema)
    assert tbl.schema == transport_schema(df.schema)
    assert str(tbl.schema.field("h").type) == "int64"  # Spark has no unsigned types
    back = from_transport(tbl, df.schema)
    assert back.schema == df.schema
    assert back.with_columns(pl.col("m").cast(pl.String)).equals(
        df.with_columns(pl.col("m").cast(pl.String)))
