"""Streaming Parquet output in the contract's Arrow schemas.

Events go out one day-chunk at a time as row groups, so memory is bounded by a day of
traffic whatever the scale. Files are byte-identical for identical input (no timestamps or
host names in the metadata).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.ingest.schema import ACCOUNTS, EVENTS, LABELS, RELEASES

LABELS_SCHEMA = LABELS.schema.append(pa.field("persona", pa.string(), nullable=True))
TRUTH_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # attack | benign
        pa.field("group", pa.string(), nullable=False),
        pa.field("recipe", pa.string(), nullable=False),
        pa.field("area", pa.string(), nullable=False),
    ]
)
_DICT_COLS = [
    "account_id", "api_key_id", "model", "client_ip", "user_agent", "tls_fingerprint",
    "system_prompt",
]
ROW_GROUP = 131_072


class EventWriter:
    """Append day-chunks of events to ``events.parquet``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._w = pq.ParquetWriter(
            str(path),
            EVENTS.schema,
            compression="zstd",
            use_dictionary=_DICT_COLS,
            write_statistics=["ts", "account_id", "model"],
        )
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._w.write_table(table.cast(EVENTS.schema), row_group_size=ROW_GROUP)
            self.rows += table.num_rows

    def close(self) -> None:
        self._w.close()


class TruthWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._w = pq.ParquetWriter(str(path), TRUTH_SCHEMA, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._w.write_table(table.cast(TRUTH_SCHEMA), row_group_size=ROW_GROUP)

    def close(self) -> None:
        self._w.close()


def write_table(path: Path, table: pa.Table, schema: pa.Schema) -> None:
    pq.write_table(table.cast(schema), str(path), compression="zstd")


__all__ = ["EventWriter", "TruthWriter", "write_table", "ACCOUNTS", "RELEASES", "LABELS_SCHEMA"]
