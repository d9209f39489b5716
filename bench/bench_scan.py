"""``scan`` end to end (ingest + enrich + aggregate + score + account linking + outputs).

Size is the event count; the world is made once by the simulator at scale = size / 1M
(seed 3, default scenario) into ``$DISTILLGUARD_BENCH_CACHE/scan-world-<n>`` (default
``/tmp/distillguard-bench``) in ``prepare`` (untimed). The note carries the per-stage
breakdown from the pipeline's own timers (where the time goes).

    .venv/bin/python bench/run.py --only scan --sizes 1M
    .venv/bin/python bench/bench_scan.py 1M          # standalone, prints a table
    .venv/bin/python bench/bench_scan.py 1M --out /tmp/scan-1M   # keep the outputs
    .venv/bin/python bench/bench_scan.py --compare /tmp/before /tmp/after

``--out DIR`` keeps ``accounts.csv`` / ``campaigns.json`` / ``report.html`` so a speed
change can be checked for identical verdicts with ``--compare`` (accounts.csv and
campaigns.json byte for byte; report.html carries run timings, so it is not compared).
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


def _outputs(result: Any, keep: str | None) -> None:
    """Write the scan's outputs into ``keep`` (to ``--compare`` later) or a temp folder."""
    from distillguard.pipeline import write_outputs

    if keep is not None:
        write_outputs(result, keep)
    else:
        with tempfile.TemporaryDirectory() as out:
            write_outputs(result, out)


def scan(size: str, keep: str | None = None) -> dict[str, Any]:
    from distillguard.pipeline import run_scan

    world = _world(size)
    t0 = time.perf_counter()
    c0 = time.process_time()
    result = run_scan(world)
    _outputs(result, keep)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0  # all threads: what 2 idle cores would need / 2
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items() if k != "total")
    if result.link is not None and result.link.timings:
        stages += " (link: " + ", ".join(
            f"{k[:-3]} {v:,.0f} MB" if k.endswith("_mb") else f"{k[:-2]} {v:.1f}s"
            for k, v in result.link.timings.items() if k != "total_s") + ")"
    return {"events": result.n_events, "seconds": seconds,
            "note": f"{result.accounts.height:,} accounts; CPU {cpu:.1f}s; {stages}; outputs "
                    f"{seconds - result.timings['total']:.1f}s"}


CASES = [scan]


def compare(before: str, after: str) -> bool:
    """True when both scans wrote byte-identical accounts.csv and campaigns.json."""
    same = True
    for name in ("accounts.csv", "campaigns.json"):
        a, b = Path(before, name).read_bytes(), Path(after, name).read_bytes()
        if a != b:
            same = False
            la, lb = a.splitlines(), b.splitlines()
            diff = [i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y]
            print(f"{name}: DIFFERENT ({len(la)} vs {len(lb)} lines, "
                  f"first differing line {diff[0] + 1 if diff else min(len(la), len(lb)) + 1})")
        else:
            print(f"{name}: identical ({len(a):,} bytes)")
    return same


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        sys.exit(0)
    if args[:1] == ["--compare"]:
        sys.exit(0 if compare(args[1], args[2]) else 1)
    keep = None
    if "--out" in args:
        i = args.index("--out")
        keep = args[i + 1]
        del args[i:i + 2]
    for size in args or SIZES:
        prepare(size)
        row = scan(size, keep if len(args or SIZES) == 1 else None)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # the Leiden child (big graphs) runs beside the scan: its own peak is in the note
        # ("leiden_peak_rss"); RUSAGE_CHILDREN would count the forked copy of this process
        print(f"scan  {size:>5}  {row['seconds']:7.1f} s  {row['events'] / row['seconds']:>10,.0f} "
              f"events/s  peak RSS {rss:,.0f} MB\n  {row['note']}")
