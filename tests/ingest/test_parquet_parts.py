"""A Parquet table may be a directory of part files (what Spark, Hive and pyarrow write:
``events.parquet/part-*.parquet`` beside ``_SUCCESS`` and ``.crc`` files). It reads as the
one-file table would, row numbers count across parts, and a bad directory says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.ingest import (
    UnreadableInputError,
    ValidationReport,
    iter_event_batches,
    open_dataset,
)
from distillguard.ingest.synthetic import write_synthetic_dataset


def _split(table_file: Path, n_parts: int) -> Path:
    """Rewrite ``events.parquet`` as a Spark-style directory of ``n_parts`` parts."""
    table = pq.read_table(table_file)
    table_file.unlink()
    table_file.mkdir()
    step = -(-table.num_rows // n_parts)
    for k in range(n_parts):
        pq.write_table(table.slice(k * step, step), table_file / f"part-{k:05d}-abc.snappy.parquet")
        (table_file / f".part-{k:05d}-abc.snappy.parquet.crc").write_bytes(b"\x00crc")
    (table_file / "_SUCCESS").write_bytes(b"")
    return table_file


def _read(d: Path, report: ValidationReport | None = None) -> pa.Table:
    kw = {"report": report} if report is not None else {}
    return pa.Table.from_batches(list(iter_event_batches(open_dataset(d), **kw)))


def test_a_directory_of_parts_reads_as_the_single_file(tmp_path: Path) -> None:
    one = write_synthetic_dataset(tmp_path / "one", n_events=3_000, seed=4)
    parts = tmp_path / "parts"
    shutil.copytree(one, parts)
    _split(parts / "events.parquet", 3)
    ds = open_dataset(parts)
    assert len(ds.events.parts) == 3 and ds.events.format == "parquet"
    assert _read(parts).equals(_read(one))


def test_a_scan_of_parts_gives_the_single_file_verdicts(tmp_path: Path) -> None:
    from pipeline.tiny_world import write_tiny_world

    from distillguard.pipeline import run_scan

    one = write_tiny_world(tmp_path / "one")
    parts = tmp_path / "parts"
    shutil.copytree(one, parts)
    _split(parts / "events.parquet", 4)
    a, b = run_scan(one).accounts, run_scan(parts).accounts
    cols = ["account_id", "score", "flagged", "cluster_id", "reasons"]
    assert a.select(cols).equals(b.select(cols))


def test_a_bad_row_in_a_later_part_is_counted_across_parts(tmp_path: Path) -> None:
    d = write_synthetic_dataset(tmp_path / "d", n_events=1_000, seed=2)
    table = pq.read_table(d / "events.parquet")
    ids = table.column("account_id").to_pylist()
    ids[750] = None  # account_id is required: row 751 of the table, in the second part
    table = table.set_column(table.schema.get_field_index("account_id"), "account_id",
                             pa.array(ids, pa.string()))
    pq.write_table(table, d / "events.parquet")
    _split(d / "events.parquet", 2)
    report = ValidationReport()
    got = _read(d, report)
    assert got.num_rows == 999  # the rest is read
    assert report.n_bad == 1 and [i.row for i in report.examples] == [751]


def test_parts_with_different_columns_or_no_parts_are_refused_clearly(tmp_path: Path) -> None:
    d = write_synthetic_dataset(tmp_path / "d", n_events=500, seed=1)
    _split(d / "events.parquet", 2)
    first = d / "events.parquet" / "part-00001-abc.snappy.parquet"
    pq.write_table(pq.read_table(first).drop_columns(["user_agent"]), first)
    with pytest.raises(UnreadableInputError, match="same schema") as err:
        _read(d)
    assert "part-00001" in str(err.value)
    empty = write_synthetic_dataset(tmp_path / "e", n_events=50, seed=1)
    (empty / "events.parquet").unlink()
    (empty / "events.parquet").mkdir()
    (empty / "events.parquet" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(UnreadableInputError, match="without .parquet part files"):
        open_dataset(empty)
