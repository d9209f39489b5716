#!/usr/bin/env python
"""Run every benchmark and print one table: name, size, wall time, events/s, peak RSS.

    .venv/bin/python bench/run.py                      # all bench/bench_*.py, their sizes
    .venv/bin/python bench/run.py --only ingest --sizes 100K,1M   # one area
    .venv/bin/python bench/run.py --only 'ingest.validate_*,scan'  # glob over AREA.CASE
    .venv/bin/python bench/run.py --json results.json  # also write the rows as JSON
    .venv/bin/python bench/run.py --dir other/folder   # bench_*.py modules elsewhere

Convention (see bench/README.md): a module ``bench/bench_<area>.py`` exposes ``CASES``, a
list of functions ``case(size: str) -> dict`` returning at least ``{"events": int}`` and
optionally ``"seconds"`` (the timed part; default: the whole call), ``"name"`` and
``"note"``. Optional ``SIZES`` (default sizes, e.g. ``["1M"]``) and ``prepare(size)``
(untimed set-up such as generating data, run in its own process first). Every case runs
in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = ["1M"]


def parse_size(size: str) -> int:
    """'100K' -> 100_000, '1M' -> 1_000_000, '2.5M' -> 2_500_000, '500' -> 500."""
    s = size.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(s[-1:], 1)
    num = s[:-1] if s[-1:] in "KMG" else s
    return int(float(num) * mult)


def load(path: Path) -> ModuleType:
    for d in (str(HERE), str(path.parent)):  # `from run import parse_size` + module siblings
        if d not in sys.path:
            sys.path.insert(0, d)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(bench_dir: Path, module: str, case: str, size: str) -> None:
    """Run one case in this (fresh) process and print its result as one JSON line."""
    mod = load(bench_dir / f"{module}.py")
    fn = next(c for c in mod.CASES if c.__name__ == case)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    res: dict[str, Any] = dict(fn(size))
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    res.setdefault("seconds", wall)
    # CPU time of the whole call, all threads: unlike wall time, barely affected by other
    # load on a shared machine
    res["cpu_seconds"] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    res["peak_rss_mb"] = _peak_rss_mb()
    print("BENCH-RESULT " + json.dumps(res, default=str), flush=True)


def _selected(only: str | None, area: str, case: str) -> bool:
    """``--only ingest`` picks the whole area; ``--only 'ingest.validate_*'`` (fnmatch on
    ``area.case``) picks cases. Several patterns may be comma-separated."""
    if not only:
        return True
    return any(p == area or fnmatch.fnmatchcase(f"{area}.{case}", p)
               for p in (x.strip() for x in only.split(",")) if p)


def _run(bench_dir: Path, args: list[str]) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--dir", str(bench_dir),
                        *args],
                       capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return p.returncode, p.stdout, p.stderr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated areas or glob patterns over AREA.CASE, "
                                   "e.g. 'ingest', 'ingest.validate_*', '*parquet*'")
    ap.add_argument("--sizes", help="comma-separated sizes, e.g. 100K,1M (default per module)")
    ap.add_argument("--json", dest="json_out", help="also write the rows to this JSON file")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each case N times (fresh process each) and keep the fastest; "
                         "useful on a shared machine")
    ap.add_argument("--dir", type=Path, default=HERE,
                    help="folder of bench_*.py modules (default: this one)")
    ap.add_argument("--child", nargs=3, metavar=("MODULE", "CASE", "SIZE"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--prepare", nargs=2, metavar=("MODULE", "SIZE"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.dir, *a.child)
        return 0
    if a.prepare:
        mod = load(a.dir / f"{a.prepare[0]}.py")
        mod.prepare(a.prepare[1])
        return 0

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(140, Console().width))
    rows: list[dict[str, Any]] = []
    failed = 0
    for path in sorted(Path(a.dir).glob("bench_*.py")):
        mod = load(path)
        cases = getattr(mod, "CASES", None)
        if not cases:
            console.print(f"[yellow]skip {path.name}: no CASES (standalone script?)[/]")
            continue
        sizes = a.sizes.split(",") if a.sizes else list(getattr(mod, "SIZES", DEFAULT_SIZES))
        area = path.stem.removeprefix("bench_")
        selected = [c for c in cases if _selected(a.only, area, c.__name__)]
        if not selected:
            continue
        for size in sizes:
            if hasattr(mod, "prepare"):
                with console.status(f"{path.stem}: preparing {size}"):
                    rc, out, err = _run(a.dir, ["--prepare", path.stem, size])
                if rc:
                    console.print(f"[red]{path.stem} prepare({size}) failed:[/]\n{err[-2000:]}")
                    failed += 1
                    continue
            for case in selected:
                best: dict[str, Any] | None = None
                for _ in range(max(1, a.repeat)):
                    with console.status(f"{path.stem}.{case.__name__} [{size}]"):
                        rc, out, err = _run(a.dir, ["--child", path.stem, case.__name__, size])
                    line = next((x for x in out.splitlines()
                                 if x.startswith("BENCH-RESULT ")), None)
                    if rc or line is None:
                        console.print(f"[red]{case.__name__}({size}) failed:[/]\n{err[-2000:]}")
                        break
                    res = json.loads(line.removeprefix("BENCH-RESULT "))
                    if best is None or res["seconds"] < best["seconds"]:
                        best = res
                if best is None:
                    failed += 1
                    continue
                res = best
                res.setdefault("name", f"{path.stem.removeprefix('bench_')}.{case.__name__}")
                res["size"] = size
                rows.append(res)

    table = Table(title="distillguard benchmarks")
    for col, just in (("name", "left"), ("size", "right"), ("wall s", "right"),
                      ("events/s", "right"), ("cpu s", "right"), ("peak RSS MB", "right"),
                      ("note", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        ev, sec = r.get("events"), r["seconds"]
        rate = f"{ev / sec:,.0f}" if ev and sec > 0 else "-"
        table.add_row(r["name"], r["size"], f"{sec:.2f}", rate, f"{r['cpu_seconds']:.2f}",
                      f"{r['peak_rss_mb']:,.0f}", str(r.get("note", "")))
    console.print(table)
    loadavg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"machine: {os.cpu_count()} CPUs, load average {loadavg:.1f} at the end, "
                  f"python {sys.version.split()[0]}; cpu s = CPU time of the call, all threads")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(rows, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
