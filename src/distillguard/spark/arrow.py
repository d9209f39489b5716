"""Moving polars frames through Spark without changing a value.

Spark has no unsigned integers and no dictionary type, so frames cross the boundary in a
*transport* form: ``UInt64`` hashes are reinterpreted bit for bit as ``Int64`` (a cast
would fail on half of all hashes), smaller unsigned ints widen, categoricals travel as
strings. :func:`from_transport` restores the exact polars schema on the other side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pyarrow as pa

_PLAIN: tuple[tuple[pl.DataType, pa.DataType], ...] = (
    (pl.Boolean(), pa.bool_()), (pl.Date(), pa.date32()),
    (pl.Int8(), pa.int8()), (pl.Int16(), pa.int16()), (pl.Int32(), pa.int32()),
    (pl.Int64(), pa.int64()), (pl.UInt8(), pa.int32()), (pl.UInt16(), pa.int32()),
    (pl.UInt32(), pa.int64()), (pl.UInt64(), pa.int64()),
    (pl.Float32(), pa.float32()), (pl.Float64(), pa.float64()),
    (pl.String(), pa.string()), (pl.Null(), pa.string()),
)


def _arrow_type(t: pl.DataType) -> pa.DataType:
    if isinstance(t, pl.Datetime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(t, pl.Categorical):
        return pa.string()
    for pt, at in _PLAIN:
        if t == pt:
            return at
    raise TypeError(f"no Spark transport for polars type {t}")


def transport_schema(schema: pl.Schema | dict[str, pl.DataType]) -> pa.Schema:
    """The Arrow schema a frame of ``schema`` has on the Spark side."""
    return pa.schema([pa.field(c, _arrow_type(t)) for c, t in dict(schema).items()])


def spark_schema(schema: pl.Schema | dict[str, pl.DataType]) -> Any:
    """The Spark StructType of :func:`transport_schema` (for ``mapInArrow``)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(transport_schema(schema))


def to_transport(df: pl.DataFrame, schema: pl.Schema | dict[str, pl.DataType]) -> pa.Table:
    """``df`` (columns of ``schema``, any order) as an Arrow table for Spark."""
    sch = dict(schema)
    df = df.select([
        (pl.col(c).cast(pl.UInt64).reinterpret(signed=True) if t == pl.UInt64()
         else pl.col(c).cast(pl.String) if isinstance(t, pl.Categorical)
         else pl.col(c).cast(t)).alias(c)
        for c, t in sch.items()
    ])
    return df.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(transport_schema(sch))


def from_transport(tbl: pa.Table | pa.RecordBatch,
                   schema: pl.Schema | dict[str, pl.DataType]) -> pl.DataFrame:
    """Inverse of :func:`to_transport`: the exact polars dtypes of ``schema``."""
    df = pl.from_arrow(tbl)
    assert isinstance(df, pl.DataFrame)
    return df.select([
        (pl.col(c).cast(pl.Int64).reinterpret(signed=False) if t == pl.UInt64()
         else pl.col(c).cast(t)).alias(c)
        for c, t in dict(schema).items()
    ])


def collect(batches: Iterator[pa.RecordBatch], schema: pl.Schema | dict[str, pl.DataType]
            ) -> pl.DataFrame:
    """All of a partition's batches as one polars frame of ``schema`` (empty if none)."""
    parts = [from_transport(b, schema) for b in batches if b.num_rows]
    if not parts:
        return pl.DataFrame(schema=dict(schema))
    return pl.concat(parts, rechunk=True) if len(parts) > 1 else parts[0]


def to_polars(sdf: Any, schema: pl.Schema | dict[str, pl.DataType]) -> pl.DataFrame:
    """Collect a (small, account-level) Spark DataFrame to the driver as polars."""
    return from_transport(sdf.toArrow(), schema)
