"""Validation: each bad-row rule, quarantine content, fatal errors, strict mode."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest

from distillguard.errors import IngestError
from distillguard.ingest import (
    ContractError,
    StrictModeError,
    UnreadableInputError,
    ValidationReport,
    iter_event_batches,
    open_dataset,
    read_table,
    validate_dataset,
)
from distillguard.ingest._convert import convert
from distillguard.ingest._dedupe import SeenKeys
from distillguard.ingest._sources import iter_jsonl

from .conftest import WriteDataset, event, write_jsonl

# line -> (reason, field) in tests/fixtures/ingest/broken_jsonl/events.jsonl
BROKEN = {
    3: ("malformed_json", None),
    4: ("not_an_object", None),
    5: ("wrong_type", "input_tokens"),
    6: ("bad_timestamp", "ts"),
    7: ("null_required", "model"),
    8: ("unknown_account", "account_id"),
    9: ("duplicate_key", "event_id"),
}


@pytest.fixture
def broken(fixtures_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "broken"
    shutil.copytree(fixtures_dir / "ingest" / "broken_jsonl", d)
    return d


def _line_offsets(path: Path) -> dict[int, int]:
    data = path.read_bytes()
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    return {n + 1: s for n, s in enumerate(starts)}


def _quarantine(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def test_each_bad_row_is_counted_located_and_quarantined(broken: Path, tmp_path: Path) -> None:
    q = tmp_path / "q"
    report = validate_dataset(broken, quarantine_dir=q, progress=False)
    events = broken / "events.jsonl"
    offsets = _line_offsets(events)
    lines = events.read_text().splitlines()

    assert report.counts("events").rows_read == 11  # 12 lines, one blank
    assert report.counts("events").rows_ok == 4
    assert dict(report.bad_rows["events"]) == {r: 1 for r, _ in BROKEN.values()}
    rows = _quarantine(q / "events.quarantine.jsonl")
    assert sorted(r["row"] for r in rows) == sorted(BROKEN)  # exactly the bad rows
    for r in rows:
        line = r["row"]
        assert (r["reason"], r["field"]) == BROKEN[line]
        assert r["offset"] == offsets[line]
        assert r["record"] == lines[line - 1]  # original text, untouched
        assert r["file"] == str(events)
    ex = {e.reason: e for e in report.examples}
    assert "'abc'" in ex["wrong_type"].message and ex["wrong_type"].row == 5
    assert "yesterday" in ex["bad_timestamp"].message
    assert "ghost" in ex["unknown_account"].message
    assert report.ok and not report.fatal


def test_good_rows_around_bad_ones_survive(broken: Path) -> None:
    ds = open_dataset(broken)
    known = read_table(ds, "accounts").column("account_id").combine_chunks()
    t = pa.Table.from_batches(list(iter_event_batches(ds, known_accounts=known)))
    assert t.column("event_id").to_pylist() == ["e1", "e2", "e11", "e12"]
    # +02:00 offset normalised, int temperature widened
    assert t.column("ts")[3].as_py().isoformat() == "2025-03-01T10:00:11+00:00"
    assert t.column("temperature").to_pylist()[3] == 1.0


def test_strict_fails_on_first_bad_row(broken: Path) -> None:
    with pytest.raises(StrictModeError) as ei:
        list(iter_event_batches(open_dataset(broken), strict=True))
    assert ei.value.row == 3 and "malformed_json" in str(ei.value)
    report = validate_dataset(broken, strict=True, progress=False)
    assert not report.ok and report.n_bad == len(BROKEN)


def test_malformed_line_deep_in_a_large_file_is_pinned(write_dataset: WriteDataset) -> None:
    rows: list[object] = [event(i) for i in range(20_000)]
    rows[15_000] = "not json at all"  # becomes a JSON string line: not an object
    d = write_dataset(rows)
    raw = (d / "events.jsonl").read_bytes().replace(b'"not json at all"', b"{oops", 1)
    (d / "events.jsonl").write_bytes(raw)
    report = ValidationReport()
    n = sum(b.num_rows for b in iter_event_batches(open_dataset(d), report=report))
    assert n == 19_999
    [issue] = report.examples
    assert issue.row == 15_001 and issue.reason == "malformed_json"
    assert issue.offset == _line_offsets(d / "events.jsonl")[15_001]


def test_line_numbers_and_offsets_stay_exact_across_chunks(write_dataset: WriteDataset) -> None:
    from distillguard.ingest.dataset import DataFile
    from distillguard.ingest.schema import EVENTS

    rows: list[object] = [event(i) for i in range(3_000)]
    rows[10] = [1]
    rows[2_500] = 7
    d = write_dataset(rows)
    f = DataFile("events", d / "events.jsonl", "jsonl")
    chunks = list(iter_jsonl(f, EVENTS, chunk_bytes=4096))  # many small chunks
    assert len(chunks) > 20
    rej = [r for c in chunks for r in c.rejected]
    offsets = _line_offsets(f.path)
    assert [(r.row, r.offset) for r in rej] == [(11, offsets[11]), (2_501, offsets[2_501])]
    assert sum(c.num_rows for c in chunks) == 2_998


def test_parquet_wrong_type_null_and_duplicates(write_dataset: WriteDataset,
                                                tmp_path: Path) -> None:
    table = pa.table({
        "event_id": ["e1", "e2", "e3", "e1", "e5"],
        "ts": pa.array([0, 1, 2, 3, 4], pa.timestamp("s")),
        "account_id": ["a1", "a1", None, "a2", "a2"],
        "model": ["m"] * 5,
        "input_tokens": ["1", "abc", "3", "4", "5"],  # strings: castable except "abc"
        "output_tokens": [1, 2, 3, 4, 5],
    })
    q = tmp_path / "q"
    report = validate_dataset(write_dataset(table, fmt="parquet"), quarantine_dir=q,
                              progress=False)
    assert report.counts("events").rows_ok == 2
    assert dict(report.bad_rows["events"]) == {"wrong_type": 1, "null_required": 1,
                                               "duplicate_key": 1}
    rows = {r["row"]: r for r in _quarantine(q / "events.quarantine.jsonl")}
    assert set(rows) == {2, 3, 4}
    assert rows[2]["field"] == "input_tokens" and rows[2]["record"]["input_tokens"] == "abc"
    assert rows[3]["field"] == "account_id"
    assert rows[4]["reason"] == "duplicate_key"


def test_duplicates_are_found_across_batches(write_dataset: WriteDataset) -> None:
    rows = [event(i) for i in range(1_000)] + [event(i) for i in range(0, 1_000, 10)]
    report = ValidationReport()
    ids = [x for b in iter_event_batches(open_dataset(write_dataset(rows, fmt="parquet")),
                                         batch_rows=128, report=report)
           for x in b.column("event_id").to_pylist()]
    assert ids == [f"e{i}" for i in range(1_000)]  # first occurrence kept, in order
    assert report.bad_rows["events"]["duplicate_key"] == 100


def test_seen_keys_matches_a_reference_on_many_batches() -> None:
    rng = np.random.default_rng(0)
    h = rng.integers(0, 50_000, 300_000).astype(np.uint64)
    seen = SeenKeys()
    dup = np.concatenate([seen.check_and_add(part) for part in np.array_split(h, 37)])
    _, first = np.unique(h, return_index=True)
    want = np.ones(len(h), dtype=bool)
    want[first] = False
    assert np.array_equal(dup, want)
    assert len(seen) == len(first)


def test_convert_isolates_each_bad_value() -> None:
    vals = [str(i) for i in range(1_000)]
    for i in (0, 3, 500, 999):
        vals[i] = "x"
    vals[7] = None  # type: ignore[call-overload]
    out, fail = convert(pa.array(vals), pa.int32())
    assert fail is not None and np.flatnonzero(fail).tolist() == [0, 3, 500, 999]
    assert out.to_pylist()[1] == 1 and out.null_count == 5


def test_missing_required_column_is_fatal_and_named(write_dataset: WriteDataset) -> None:
    rows = [{k: v for k, v in event(i).items() if k != "output_tokens"} for i in range(5)]
    for fmt in ("jsonl", "parquet"):
        d = write_dataset(rows, fmt=fmt, name=fmt)
        with pytest.raises(ContractError, match="output_tokens") as ei:
            list(iter_event_batches(open_dataset(d)))
        assert ei.value.field == "output_tokens" and ei.value.path and "events." in ei.value.path
        report = validate_dataset(d, progress=False)
        assert not report.ok and "output_tokens" in report.fatal[0]


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
@pytest.mark.parametrize("fmt", ["parquet", "jsonl.gz"])
def test_corrupt_or_truncated_file_is_unreadable(write_dataset: WriteDataset, fmt: str,
                                                 damage: str) -> None:
    rows = [event(i) for i in range(2_000)]
    d = write_dataset(rows, fmt=fmt)
    f = d / f"events.{fmt}"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00garbage" * 100)
    with pytest.raises(UnreadableInputError) as ei:
        validate_dataset(d, progress=False)
    assert isinstance(ei.value, IngestError) and str(f) in str(ei.value)


def test_truncated_gzip_keeps_nothing_silently(write_dataset: WriteDataset) -> None:
    d = write_dataset([event(i) for i in range(2_000)], fmt="jsonl.gz")
    f = d / "events.jsonl.gz"
    f.write_bytes(f.read_bytes()[:-20])  # lose only the trailer and a little data
    with pytest.raises(UnreadableInputError, match="truncated"):
        list(iter_event_batches(open_dataset(d)))


def test_labels_outside_the_allowed_values_are_bad(write_dataset: WriteDataset) -> None:
    d = write_dataset([event(1)])
    write_jsonl(d / "labels.jsonl", [{"account_id": "a1", "label": "benign"},
                                     {"account_id": "a2", "label": "evil"}])
    report = ValidationReport()
    labels = read_table(open_dataset(d), "labels", report=report)
    assert labels.column("account_id").to_pylist() == ["a1"]
    assert report.bad_rows["labels"] == {"bad_value": 1}


def test_corrupt_accounts_parquet_is_unreadable(write_dataset: WriteDataset) -> None:
    d = write_dataset([event(1)])
    (d / "accounts.jsonl").unlink()
    (d / "accounts.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(UnreadableInputError, match="accounts.parquet"):
        validate_dataset(d, progress=False)


def test_validation_stats_match_a_polars_reference(sample_dataset: Path) -> None:
    import polars as pl

    report = validate_dataset(sample_dataset, progress=False)
    ev = pl.read_parquet(sample_dataset / "events.parquet")
    s = report.stats
    assert s["events"] == ev.height == 2_000
    assert s["accounts"] == 20
    assert s["distinct_ips"] == ev["client_ip"].n_unique()
    assert s["accounts_with_events"] == ev["account_id"].n_unique()
    assert s["prompt_share"] == pytest.approx(1 - ev["prompt"].null_count() / ev.height)
    assert s["models"] == dict(ev["model"].value_counts().iter_rows())
    assert s["first_ts"] == ev["ts"].min().isoformat()  # type: ignore[union-attr]
    assert s["last_ts"] == ev["ts"].max().isoformat()  # type: ignore[union-attr]


def test_parquet_floats_and_string_timestamps_are_checked_per_value(
        write_dataset: WriteDataset) -> None:
    table = pa.table({
        "event_id": ["e1", "e2", "e3", "e4", "e5"],
        "ts": ["2025-03-01T10:00:00Z", "2025-13-01T00:00:00Z", "soon", "2025-03-01 11:00:00",
               "2025-03-01T10:00:00+01:00"],
        "account_id": ["a1"] * 5, "model": ["m"] * 5,
        "input_tokens": [1.0, 2.0, 3.0, 4.5, 5.0],  # 4.5 is not an integer
        "output_tokens": [1, 2, 3, 4, 5],
        "n_messages": pa.array([1, 2, 3, 4, 1 << 40], pa.int64()),  # overflows int32
    })
    report = ValidationReport()
    t = pa.Table.from_batches(list(iter_event_batches(
        open_dataset(write_dataset(table, fmt="parquet")), report=report)))
    assert t.column("event_id").to_pylist() == ["e1"]
    assert t.column("input_tokens").to_pylist() == [1]
    assert report.bad_rows["events"] == {"bad_timestamp": 2, "wrong_type": 2}
    assert {(e.row, e.field) for e in report.examples} == {
        (2, "ts"), (3, "ts"), (4, "input_tokens"), (5, "n_messages")}


def test_a_column_of_the_wrong_kind_fails_every_row_with_a_clear_reason(
        write_dataset: WriteDataset) -> None:
    table = pa.table({
        "event_id": [f"e{i}" for i in range(10_000)],
        "ts": pa.array(range(10_000), pa.timestamp("s")),
        "account_id": ["a1"] * 10_000, "model": pa.array([[1, 2]] * 10_000),  # lists
        "input_tokens": [1] * 10_000, "output_tokens": [1] * 10_000,
    })
    report = ValidationReport()
    n = sum(b.num_rows for b in iter_event_batches(
        open_dataset(write_dataset(table, fmt="parquet")), report=report))
    assert n == 0
    assert report.bad_rows["events"] == {"wrong_type": 10_000}
    assert report.examples[0].field == "model"


def test_numeric_strings_are_numbers_in_jsonl_as_in_parquet(write_dataset: WriteDataset) -> None:
    # BigQuery's JSON export writes INT64 as strings; Parquet string columns cast the same way
    rows = [event(i, input_tokens=str(i), temperature="0.5") for i in range(1, 200)]
    rows[50]["input_tokens"] = "12.5"  # not an integer
    for fmt in ("jsonl", "parquet"):
        report = ValidationReport()
        ds = open_dataset(write_dataset(rows, fmt=fmt, name=fmt))
        t = pa.Table.from_batches(list(iter_event_batches(ds, report=report)))
        assert t.num_rows == 198
        assert t.column("input_tokens").to_pylist()[:3] == [1, 2, 3]
        assert t.column("temperature").to_pylist()[0] == 0.5
        assert [(e.row, e.field, e.reason) for e in report.examples] == [
            (51, "input_tokens", "wrong_type")]


def test_a_number_where_a_string_belongs_is_a_wrong_type(write_dataset: WriteDataset) -> None:
    rows = [event(i) for i in range(100)]
    rows[60]["account_id"] = 7
    report = ValidationReport()
    n = sum(b.num_rows for b in iter_event_batches(open_dataset(write_dataset(rows)),
                                                   report=report))
    assert n == 99
    assert [(e.row, e.field, e.reason) for e in report.examples] == [
        (61, "account_id", "wrong_type")]


def test_a_clean_rerun_removes_the_stale_quarantine_file(write_dataset: WriteDataset,
                                                         tmp_path: Path) -> None:
    q = tmp_path / "q"
    q.mkdir()
    (q / "events.quarantine.jsonl").write_text('{"stale": true}\n')
    report = validate_dataset(write_dataset([event(i) for i in range(5)]), quarantine_dir=q,
                              progress=False)
    assert report.n_bad == 0 and report.quarantine_files == []
    assert not (q / "events.quarantine.jsonl").exists()


def test_numeric_strings_across_many_chunks_keep_every_row(write_dataset: WriteDataset,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from distillguard.ingest import _sources

    monkeypatch.setattr(_sources, "CHUNK_BYTES", 8 << 10)  # the lenient parse is remembered
    rows = [event(i, input_tokens=str(i)) for i in range(2_000)]
    rows[1_500]["input_tokens"] = "many"
    report = ValidationReport()
    t = pa.Table.from_batches(list(iter_event_batches(open_dataset(write_dataset(rows)),
                                                      report=report)))
    assert t.num_rows == 1_999
    assert t.column("input_tokens").to_pylist()[1_499:1_501] == [1_499, 1_501]
    assert [(e.row, e.field) for e in report.examples] == [(1_501, "input_tokens")]
