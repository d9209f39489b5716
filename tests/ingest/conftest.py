"""Helpers to hand-make small contract files in ``tmp_path``."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ACCOUNTS = [
    {"account_id": "a1", "created_at": "2025-01-01T00:00:00Z"},
    {"account_id": "a2", "created_at": "2025-01-02T00:00:00Z"},
]


def event(i: int, **over: Any) -> dict[str, Any]:
    """A valid event row with JSON-friendly values."""
    row: dict[str, Any] = {
        "event_id": f"e{i}", "ts": f"2025-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "account_id": "a1" if i % 2 else "a2", "model": "m", "input_tokens": i,
        "output_tokens": 2 * i, "prompt": f"p{i}",
    }
    row.update(over)
    return row


def write_jsonl(path: Path, rows: list[Any], gz: bool = False) -> Path:
    data = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


WriteDataset = Callable[..., Path]


@pytest.fixture
def write_dataset(tmp_path: Path) -> WriteDataset:
    """``write_dataset(events, accounts=ACCOUNTS, fmt="jsonl", name="ds")`` -> directory.

    For ``fmt="parquet"`` pass ``events`` as a ``pa.Table`` (to control the stored types)
    or a list of dicts (inferred types)."""

    def make(events: list[dict[str, Any]] | pa.Table, accounts: list[dict[str, Any]] | None = None,
             fmt: str = "jsonl", name: str = "ds") -> Path:
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        accounts = ACCOUNTS if accounts is None else accounts
        if fmt == "parquet":
            t = events if isinstance(events, pa.Table) else pa.Table.from_pylist(events)
            pq.write_table(t, d / "events.parquet")
            write_jsonl(d / "accounts.jsonl", accounts)
        else:
            assert isinstance(events, list)
            write_jsonl(d / "events.jsonl", events, gz=fmt == "jsonl.gz")
            write_jsonl(d / "accounts.jsonl", accounts)
        return d

    return make
