"""Simulator throughput and peak RSS: ``simulate`` at a given event budget.

Size is the target event count (scale = size / 1M; "16M" is the disclosure scale with
~24k distillation accounts). The prompt-pool cache is warmed in ``prepare`` so the timed
part is generation + Parquet writing only. Output goes to
``$DISTILLGUARD_BENCH_CACHE/sim-<size>`` (default ``/tmp/distillguard-bench``).

    .venv/bin/python bench/run.py --only sim --sizes 1M
    .venv/bin/python bench/run.py --only sim --sizes 16M     # ~4-5 min, ~3 GB on disk
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from run import parse_size

SIZES = ["1M"]


def _dir(size: str, what: str) -> Path:
    root = Path(os.environ.get("DISTILLGUARD_BENCH_CACHE", "/tmp/distillguard-bench"))
    return root / f"sim-{what}-{parse_size(size)}"


def prepare(size: str) -> None:
    from distillguard.sim.corpora import load_pools

    load_pools()  # builds the pool cache once (~15 s on a cold machine)


def _run(size: str, labs: int, what: str) -> dict[str, Any]:
    from distillguard.sim import simulate

    out = _dir(size, what)
    shutil.rmtree(out, ignore_errors=True)
    scale = parse_size(size) / 1_000_000
    t0 = time.perf_counter()
    s = simulate(out, scale=scale, seed=1, labs=labs)
    sec = time.perf_counter() - t0
    mb = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 1e6
    acc = sum(lab.accounts for lab in s.labs)
    dist = sum(lab.distillation_accounts for lab in s.labs)
    proj = sec * 16_000_000 / max(s.events, 1) / 60
    return {
        "events": s.events,
        "seconds": sec,
        "note": f"{labs} lab(s), {acc:,} accounts ({dist:,} distillation), {mb:,.0f} MB; "
        f"16M projected {proj:.1f} min",
    }


def simulate_one_lab(size: str) -> dict[str, Any]:
    return _run(size, 1, "lab1")


def simulate_three_labs(size: str) -> dict[str, Any]:
    return _run(size, 3, "lab3")


CASES = [simulate_one_lab, simulate_three_labs]
