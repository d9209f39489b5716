"""``scan`` end to end (ingest + enrich + aggregate + score + account linking + outputs).

Size is the event count; the world is made once by the simulator at scale = size / 1M
(seed 3, default scenario) into ``$DISTILLGUARD_BENCH_CACHE/scan-world-<n>`` (default
``/tmp/distillguard-bench``) in ``prepare`` (untimed). The note carries the per-stage
breakdown from the pipeline's own timers (where the time goes).

    .venv/bin/python bench/run.py --only scan --sizes 1M
    .venv/bin/python bench/bench_scan.py 1M          # standalone, prints a table
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from run import parse_size  # noqa: E402

SIZES = ["1M"]


def _world(size: str) -> Path:
    root = Path(os.environ.get("DISTILLGUARD_BENCH_CACHE", "/tmp/distillguard-bench"))
    return root / f"scan-world-{parse_size(size)}"


def prepare(size: str) -> None:
    world = _world(size)
    if (world / "events.parquet").exists() and (world / "accounts.parquet").exists():
        return
    from distillguard.sim import simulate

    simulate(world, scale=parse_size(size) / 1_000_000, seed=3, labs=1, scenario=None)


def scan(size: str) -> dict[str, Any]:
    from distillguard.pipeline import run_scan, write_outputs

    world = _world(size)
    t0 = time.perf_counter()
    c0 = time.process_time()
    result = run_scan(world)
    with tempfile.TemporaryDirectory() as out:
        write_outputs(result, out)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0  # all threads: what 2 idle cores would need / 2
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items() if k != "total")
    return {"events": result.n_events, "seconds": seconds,
            "note": f"{result.accounts.height:,} accounts; CPU {cpu:.1f}s; {stages}; outputs "
                    f"{seconds - result.timings['total']:.1f}s"}


CASES = [scan]


if __name__ == "__main__":
    for size in sys.argv[1:] or SIZES:
        prepare(size)
        row = scan(size)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"scan  {size:>5}  {row['seconds']:7.1f} s  {row['events'] / row['seconds']:>10,.0f} "
              f"events/s  peak RSS {rss:,.0f} MB\n  {row['note']}")
