"""``scan --engine spark`` in local mode (``local[2]``) next to the local engine.

Same world as ``bench_scan.py`` (simulator, seed 3, scale = size / 1M, cached in
``$DISTILLGUARD_BENCH_CACHE/scan-world-<n>``). Both cases run here so that one command
measures them under the same load. Spark's work happens in a JVM and in Python worker
processes, which ``run.py``'s own CPU / RSS columns (this process only) do not see: the
note carries the CPU seconds and the peak RSS summed over the whole process tree
(sampled every 0.2 s with psutil), and the JVM start, which a long-lived cluster pays
once.

    .venv/bin/python bench/run.py --only spark --sizes 1M
    .venv/bin/python bench/bench_spark.py 1M --out /tmp/spark-1M   # also compare verdicts
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_scan import _outputs, _world, prepare  # the scan bench's world and outputs

SIZES = ["1M"]


class _Tree:
    """CPU seconds and peak RSS of this process and all its descendants (JVM, workers)."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.peak = 0
        self.cpu_dead = 0.0
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._sample, daemon=True)

    def _procs(self) -> list[Any]:
        return [self.me, *self.me.children(recursive=True)]

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.poll()

    def poll(self) -> None:
        rss, live = 0, {}
        for p in self._procs():
            try:
                rss += p.memory_info().rss
                c = p.cpu_times()
                live[p.pid] = c.user + c.system + (c.children_user + c.children_system
                                                   if p.pid == self.me.pid else 0.0)
            except Exception:  # noqa: BLE001 - a worker exited between listing and reading
                continue
        for pid, cpu in self._seen.items():  # exited since the last sample: keep its time
            if pid not in live:
                self.cpu_dead += cpu
        self._seen = live
        self.peak = max(self.peak, rss)

    def cpu(self) -> float:
        self.poll()
        return self.cpu_dead + sum(self._seen.values())

    def __enter__(self) -> _Tree:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def scan_spark_local2(size: str, keep: str | None = None) -> dict[str, Any]:
    from distillguard.spark import run_scan_spark, spark_session

    world = _world(size)
    with _Tree() as tree:
        t0 = time.perf_counter()
        spark = spark_session("local[2]", driver_memory="2g")
        start = time.perf_counter() - t0
        c0, t1 = tree.cpu(), time.perf_counter()
        result = run_scan_spark(world, spark=spark)
        _outputs(result, keep)
        seconds = time.perf_counter() - t1
        cpu = tree.cpu() - c0
        spark.stop()
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items() if k != "total")
    return {"events": result.n_events, "seconds": seconds,
            "note": f"local[2]; tree CPU {cpu:.1f}s, tree peak RSS {tree.peak / 2**30:.2f} GB; "
                    f"JVM start {start:.1f}s (not in wall); {stages}"}


def scan_local_engine(size: str, keep: str | None = None) -> dict[str, Any]:
    from distillguard.pipeline import run_scan

    world = _world(size)
    with _Tree() as tree:
        t0, c0 = time.perf_counter(), tree.cpu()
        result = run_scan(world)
        _outputs(result, keep)
        seconds, cpu = time.perf_counter() - t0, tree.cpu() - c0
    return {"events": result.n_events, "seconds": seconds,
            "note": f"same world, same load; tree CPU {cpu:.1f}s, tree peak RSS "
                    f"{tree.peak / 2**30:.2f} GB"}


CASES = [scan_spark_local2, scan_local_engine]


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("size", nargs="?", default="1M")
    ap.add_argument("--out", help="keep both engines' outputs under OUT/{spark,local} and "
                                  "compare accounts.csv / campaigns.json byte for byte")
    a = ap.parse_args()
    prepare(a.size)
    rows = []
    for case in CASES:
        keep = str(Path(a.out) / case.__name__) if a.out else None
        rows.append((case.__name__, case(a.size, keep)))
    for name, r in rows:
        print(f"{name}: {r['events']:,} events, {r['seconds']:.1f} s wall; {r['note']}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    if a.out:
        for f in ("accounts.csv", "campaigns.json"):
            same = (Path(a.out, "scan_spark_local2", f).read_bytes()
                    == Path(a.out, "scan_local_engine", f).read_bytes())
            print(f"{f}: {'identical' if same else 'DIFFERENT'}")
