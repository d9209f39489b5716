"""Ingest + validate throughput on synthetic events (Parquet and JSONL.gz).

The dataset is generated once per size by ``prepare`` (untimed, separate process) into
``$DISTILLGUARD_BENCH_CACHE`` (default: ``/tmp/distillguard-bench``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from run import parse_size

SIZES = ["1M"]
FORMATS = ("parquet", "jsonl.gz")


def _dir(size: str, fmt: str) -> Path:
    root = Path(os.environ.get("DISTILLGUARD_BENCH_CACHE", "/tmp/distillguard-bench"))
    return root / f"ingest-{parse_size(size)}-{fmt.replace('.', '_')}"


def prepare(size: str) -> None:
    from distillguard.ingest.synthetic import write_synthetic_dataset

    for fmt in FORMATS:
        d = _dir(size, fmt)
        if not (d / f"events.{fmt}").exists():
            write_synthetic_dataset(d, n_events=parse_size(size), fmt=fmt)  # type: ignore[arg-type]


def _validate(size: str, fmt: str) -> dict[str, Any]:
    from distillguard.ingest import validate_dataset

    d = _dir(size, fmt)
    t0 = time.perf_counter()
    report = validate_dataset(d, progress=False)
    sec = time.perf_counter() - t0
    n = report.counts("events").rows_read
    assert n == parse_size(size), (n, size)
    mb = (d / f"events.{fmt}").stat().st_size / 1e6
    return {"events": n, "seconds": sec, "note": f"{fmt}, {mb:.0f} MB on disk, all columns"}


def _scan(size: str, fmt: str, columns: list[str] | None) -> dict[str, Any]:
    from distillguard.ingest import iter_event_batches, open_dataset, read_table

    d = _dir(size, fmt)
    t0 = time.perf_counter()
    ds = open_dataset(d)
    known = read_table(ds, "accounts", columns=["account_id"]).column("account_id")
    n = sum(b.num_rows for b in iter_event_batches(ds, columns=columns,
                                                   known_accounts=known.combine_chunks()))
    sec = time.perf_counter() - t0
    what = "all columns" if columns is None else ",".join(columns)
    return {"events": n, "seconds": sec, "note": f"{fmt}, {what}"}


def validate_parquet(size: str) -> dict[str, Any]:
    return _validate(size, "parquet")


def validate_jsonl_gz(size: str) -> dict[str, Any]:
    return _validate(size, "jsonl.gz")


def ingest_parquet(size: str) -> dict[str, Any]:
    return _scan(size, "parquet", None)


def ingest_parquet_projected(size: str) -> dict[str, Any]:
    return _scan(size, "parquet", ["account_id", "ts", "prompt"])


def ingest_jsonl_gz(size: str) -> dict[str, Any]:
    return _scan(size, "jsonl.gz", None)


CASES = [validate_parquet, validate_jsonl_gz, ingest_parquet, ingest_parquet_projected,
         ingest_jsonl_gz]
