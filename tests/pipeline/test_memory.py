"""The scan's narrow frame and prompt sample must not pin the reader's Arrow buffers."""

from __future__ import annotations

import gc

import polars as pl
import pyarrow as pa

from distillguard.enrich import enrich_frame
from distillguard.pipeline import _compact, _own_strings


def test_compacted_frames_release_reader_memory() -> None:
    n = 20_000
    base = pa.total_allocated_bytes()
    tbl = pa.table({
        "event_id": pa.array([f"event-{i:012d}" for i in range(n)]),
        "account_id": pa.array([f"account-{i % 97:08d}-long-id" for i in range(n)]),
        "ts": pa.array(range(n), pa.timestamp("us", "UTC")),
        "client_ip": pa.array([f"2001:db8::{i % 500:x}:{i % 7}" for i in range(n)]),
        "input_tokens": pa.array(range(n), pa.int64()),
        "prompt": pa.array([f"Solve step by step: problem {i} " + "x" * 400 for i in range(n)]),
    })
    assert pa.total_allocated_bytes() - base > 8_000_000  # the "reader" owns ~9 MB
    frames, samples = [], []
    for batch in tbl.to_batches(max_chunksize=5_000):
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        nf, s = enrich_frame(df)
        frames.append(nf)
        samples.append(_own_strings(s))
    narrow, one = _compact(frames), _compact(frames[:1])
    del tbl, batch, df, nf, s, frames
    gc.collect()
    # everything kept is polars-owned: the Arrow allocations are gone
    assert pa.total_allocated_bytes() - base < 500_000
    assert narrow.height == n and one.height == 5_000
    assert narrow.get_column("account_id").n_unique() == 97
    assert pl.concat(samples).get_column("prompt").str.starts_with("Solve").all()
