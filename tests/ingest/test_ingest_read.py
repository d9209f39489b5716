"""Reading: formats, canonical types, timestamps, projection, optional/extra columns."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.ingest import (
    EVENTS,
    UnreadableInputError,
    ValidationReport,
    iter_event_batches,
    open_dataset,
    read_table,
)
from distillguard.ingest.schema import TS
from distillguard.ingest.synthetic import write_synthetic_dataset

from .conftest import WriteDataset, event, write_jsonl

UTC = dt.UTC


def _events(d: Path, **kw: object) -> pa.Table:
    ds = open_dataset(d)
    batches = list(iter_event_batches(ds, **kw))  # type: ignore[arg-type]
    schema = batches[0].schema if batches else EVENTS.schema
    return pa.Table.from_batches(batches, schema=schema)


def test_open_dataset_names_missing_directory_and_table(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="does not exist"):
        open_dataset(tmp_path / "nope")
    write_jsonl(tmp_path / "accounts.jsonl", [])
    with pytest.raises(UnreadableInputError, match="required table 'events' is missing"):
        open_dataset(tmp_path)


def test_open_dataset_rejects_a_table_in_two_formats(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "accounts.jsonl", [])
    write_jsonl(tmp_path / "events.jsonl", [])
    write_jsonl(tmp_path / "events.jsonl", [], gz=True)
    with pytest.raises(UnreadableInputError, match="several formats"):
        open_dataset(tmp_path)


def test_open_dataset_finds_every_format(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "events.jsonl", [], gz=True)
    pq.write_table(pa.table({"account_id": ["a"]}), tmp_path / "accounts.parquet")
    write_jsonl(tmp_path / "labels.jsonl", [])
    ds = open_dataset(tmp_path)
    assert (ds.events.format, ds.accounts.format) == ("jsonl.gz", "parquet")
    assert ds.releases is None and ds.labels is not None and ds.labels.format == "jsonl"


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "jsonl.gz"])
def test_every_format_yields_the_same_canonical_events(tmp_path: Path, fmt: str) -> None:
    ref = _events(write_synthetic_dataset(tmp_path / "ref", 3_000, fmt="parquet", seed=1))
    got = _events(write_synthetic_dataset(tmp_path / fmt, 3_000, fmt=fmt, seed=1))  # type: ignore[arg-type]
    assert got.schema == EVENTS.schema
    assert got.num_rows == 3_000
    assert got.equals(ref)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_batches_have_batch_rows_rows_except_the_last(tmp_path: Path, fmt: str) -> None:
    d = write_synthetic_dataset(tmp_path, 2_000, fmt=fmt)  # type: ignore[arg-type]
    sizes = [b.num_rows for b in iter_event_batches(open_dataset(d), batch_rows=700)]
    assert sizes == [700, 700, 600]


def test_timestamps_in_every_form_normalise_to_utc(write_dataset: WriteDataset) -> None:
    want = dt.datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    forms = ["2025-03-01T10:00:00.123456Z", "2025-03-01T12:00:00.123456+02:00",
             "2025-03-01T05:00:00.123456-05:00", "2025-03-01 10:00:00.123456Z",
             "2025-03-01T10:00:00.123456"]
    d = write_dataset([event(i, ts=f) for i, f in enumerate(forms)])
    t = _events(d, columns=["ts"])
    assert t.schema.field("ts").type == TS
    assert t.column("ts").to_pylist() == [want] * len(forms)


@pytest.mark.parametrize("stored", [
    pa.timestamp("ns"), pa.timestamp("ms", tz="Europe/Berlin"), pa.timestamp("s", tz="UTC"),
])
def test_parquet_timestamps_of_any_unit_and_zone_become_us_utc(
        write_dataset: WriteDataset, stored: pa.DataType) -> None:
    instant = dt.datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)
    ts = pa.array([instant], type=pa.timestamp("us", tz="UTC")).cast(stored)
    table = pa.table({"event_id": ["e1"], "ts": ts, "account_id": ["a1"], "model": ["m"],
                      "input_tokens": pa.array([1], pa.int32()),
                      "output_tokens": pa.array([2], pa.int16())})
    t = _events(write_dataset(table, fmt="parquet"))
    assert t.schema == EVENTS.schema
    assert t.column("ts").to_pylist() == [instant]
    assert t.column("input_tokens").type == pa.int64()


def test_missing_nullable_columns_are_null_and_extra_columns_ignored(
        write_dataset: WriteDataset) -> None:
    rows = [{"event_id": "e1", "ts": "2025-03-01T10:00:00Z", "account_id": "a1", "model": "m",
             "input_tokens": 1, "output_tokens": 2, "gateway": "eu", "nested": {"x": [1]}}]
    for fmt in ("jsonl", "parquet"):
        t = _events(write_dataset(rows, fmt=fmt, name=fmt))
        assert t.schema == EVENTS.schema
        assert t.num_rows == 1
        assert t.column("prompt").null_count == 1 and t.column("asn").null_count == 1


def test_columns_projection_returns_canonical_order(sample_dataset: Path) -> None:
    t = _events(sample_dataset, columns=["prompt", "account_id", "ts"])
    assert t.column_names == ["ts", "account_id", "prompt"]
    with pytest.raises(ValueError, match="unknown events column"):
        _events(sample_dataset, columns=["nope"])


def test_row_validity_does_not_depend_on_projection(write_dataset: WriteDataset) -> None:
    # n_messages stored as strings: "abc" cannot become int32, so that row is bad whether
    # or not the caller asked for n_messages.
    rows = [event(i, n_messages=v) for i, v in enumerate(["1", "abc", "3"])]
    d = write_dataset(rows, fmt="parquet")
    full, only_prompt = ValidationReport(), ValidationReport()
    a = _events(d, report=full)
    b = _events(d, columns=["prompt"], report=only_prompt)
    assert a.column("prompt").to_pylist() == b.column("prompt").to_pylist() == ["p0", "p2"]
    assert a.column("n_messages").to_pylist() == [1, 3]
    assert full.bad_rows == only_prompt.bad_rows == {"events": {"wrong_type": 1}}


def test_read_table_returns_canonical_accounts_and_empty_optional_tables(
        write_dataset: WriteDataset) -> None:
    ds = open_dataset(write_dataset([event(1)]))
    acc = read_table(ds, "accounts")
    assert acc.num_rows == 2 and acc.schema.field("created_at").type == TS
    rel = read_table(ds, "releases")
    assert rel.num_rows == 0 and rel.schema == read_table(ds, "releases").schema
    assert rel.schema.field("released_at").type == TS
    assert read_table(ds, "labels").num_rows == 0


def test_gzip_and_plain_jsonl_agree(tmp_path: Path, write_dataset: WriteDataset) -> None:
    rows = [event(i) for i in range(50)]
    a = _events(write_dataset(rows, fmt="jsonl", name="plain"))
    b = _events(write_dataset(rows, fmt="jsonl.gz", name="gz"))
    assert a.equals(b) and a.num_rows == 50
    assert gzip.decompress((tmp_path / "gz" / "events.jsonl.gz").read_bytes()).count(b"\n") == 50


def test_crlf_line_endings_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    rows = [event(i) for i in range(3)]
    data = b"\xef\xbb\xbf" + b"".join(orjson.dumps(r) + b"\r\n" for r in rows)
    (tmp_path / "events.jsonl").write_bytes(data)
    write_jsonl(tmp_path / "accounts.jsonl", [{"account_id": "a1", "created_at": "2025-01-01Z"}])
    report = ValidationReport()
    t = _events(tmp_path, report=report)
    assert t.column("event_id").to_pylist() == ["e0", "e1", "e2"]
    assert report.n_bad == 0


def test_stopping_early_releases_the_reader_thread(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from distillguard.ingest import _sources

    monkeypatch.setattr(_sources, "CHUNK_BYTES", 64 << 10)  # many chunks: the thread blocks
    d = write_synthetic_dataset(tmp_path, 5_000, fmt="jsonl.gz")
    it = iter_event_batches(open_dataset(d), batch_rows=100)
    next(it)
    it.close()  # type: ignore[attr-defined]
    assert not any(t.name == "distillguard-prefetch" and t.is_alive()
                   for t in threading.enumerate())
