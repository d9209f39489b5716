"""``validate_dataset``: read every table of a dataset once, validating as it streams.

Accounts are read first so events can be checked against them; events are then streamed
in batches and summarised (time span, models, distinct IPs, prompt coverage) with
vectorised Arrow/numpy/polars operations, so 16M events cost a few hundred MB at most.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.ingest._dedupe import hash_keys
from distillguard.ingest._errors import ContractError
from distillguard.ingest._sources import Progress
from distillguard.ingest.dataset import Dataset, open_dataset
from distillguard.ingest.reader import iter_event_batches, progress_total, read_table
from distillguard.ingest.report import ValidationReport

#: Validation needs no big batches; small ones keep 16M events well under 1 GB.
_BATCH = 262_144


def _unique_u64(h: np.ndarray) -> np.ndarray:
    # polars' multi-threaded hash unique; numpy's np.unique sorts or hashes single-threaded
    return pl.Series(h).unique().to_numpy()


class _EventStats:
    def __init__(self) -> None:
        self.n = 0
        self.ts_min: Any = None
        self.ts_max: Any = None
        self.models: Counter[str] = Counter()
        self.ip_hashes: list[np.ndarray] = []
        self.with_prompt = 0
        self.account_hashes: list[np.ndarray] = []

    def update(self, b: pa.RecordBatch) -> None:
        if b.num_rows == 0:
            return
        self.n += b.num_rows
        mm = pc.min_max(b.column("ts"))
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        self.ts_min = lo if self.ts_min is None or lo < self.ts_min else self.ts_min
        self.ts_max = hi if self.ts_max is None or hi > self.ts_max else self.ts_max
        vc = pc.value_counts(b.column("model"))
        for v, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(),
                        strict=True):
            self.models[v] += c
        ips = b.column("client_ip")
        ips = ips.filter(pc.is_valid(ips))
        if len(ips):
            self.ip_hashes.append(_unique_u64(hash_keys(ips)))
        self.account_hashes.append(_unique_u64(hash_keys(b.column("account_id"))))
        self.with_prompt += b.num_rows - b.column("prompt").null_count
        # keep the per-batch unique sets small
        if len(self.ip_hashes) > 8:
            self.ip_hashes = [_unique_u64(np.concatenate(self.ip_hashes))]
        if len(self.account_hashes) > 8:
            self.account_hashes = [_unique_u64(np.concatenate(self.account_hashes))]

    def as_dict(self) -> dict[str, Any]:
        def n_unique(parts: list[np.ndarray]) -> int:
            return len(_unique_u64(np.concatenate(parts))) if parts else 0

        return {
            "events": self.n,
            "first_ts": self.ts_min.isoformat() if self.ts_min is not None else None,
            "last_ts": self.ts_max.isoformat() if self.ts_max is not None else None,
            "models": dict(self.models.most_common()),
            "distinct_ips": n_unique(self.ip_hashes),
            "accounts_with_events": n_unique(self.account_hashes),
            "prompt_share": (self.with_prompt / self.n) if self.n else 0.0,
        }


@contextmanager
def _progress_bar(enabled: bool, description: str, total: int) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    with RichProgress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(description, total=total or None)
        yield lambda done: bar.update(task, completed=done)


def validate_dataset(
    path: str | Path | Dataset,
    strict: bool = False,
    quarantine_dir: str | Path | None = None,
    progress: bool = True,
) -> ValidationReport:
    """Validate every table of the dataset at ``path`` and summarise the events.

    Bad rows never stop the run (they are counted, and written to ``quarantine_dir``);
    ``strict=True`` makes the returned report not ``ok`` if any row was bad. A missing
    required column is recorded in ``report.fatal``. An unreadable directory or file
    raises :class:`UnreadableInputError`.
    """
    ds = path if isinstance(path, Dataset) else open_dataset(path)
    report = ValidationReport(strict=strict)
    q = Path(quarantine_dir) if quarantine_dir is not None else None

    known: pa.Array | None = None
    try:
        accounts = read_table(ds, "accounts", columns=["account_id"], report=report,
                              quarantine=q)
        known = accounts.column("account_id").combine_chunks()
    except ContractError as exc:
        report.fatal.append(str(exc))
    for name in ("releases", "labels"):
        try:
            read_table(ds, name, report=report, quarantine=q)
        except ContractError as exc:
            report.fatal.append(str(exc))

    stats = _EventStats()
    try:
        with _progress_bar(progress, f"validating {ds.events.path.name}",
                           progress_total(ds.events)) as cb:
            for batch in iter_event_batches(ds, report=report, quarantine=q, batch_rows=_BATCH,
                                            known_accounts=known, progress=cb):
                stats.update(batch)
    except ContractError as exc:
        report.fatal.append(str(exc))
    report.stats = stats.as_dict()
    report.stats["accounts"] = report.counts("accounts").rows_ok
    return report
