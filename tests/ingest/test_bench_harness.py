"""bench/run.py: discovers CASES, runs each in a subprocess, reports rate and peak RSS."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def test_parse_size() -> None:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert [mod.parse_size(s) for s in ("500", "100K", "1M", "2.5M")] == [
        500, 100_000, 1_000_000, 2_500_000]


def test_harness_runs_cases_in_fresh_processes(tmp_path: Path) -> None:
    (tmp_path / "bench_toy.py").write_text(
        "from run import parse_size\n"
        "SIZES = ['2K']\n"
        "def prepare(size):\n"
        "    open(__file__ + '.prepared', 'w').write(size)\n"
        "def alloc(size):\n"
        "    n = parse_size(size)\n"
        "    blob = bytearray(200 * 1024 * 1024)  # shows up in this case's peak RSS only\n"
        "    blob[::4096] = b'x' * len(blob[::4096])\n"
        "    return {'events': n, 'seconds': 0.5, 'note': 'toy'}\n"
        "def small(size):\n"
        "    return {'events': parse_size(size), 'seconds': 0.25}\n"
        "CASES = [alloc, small]\n")
    out = tmp_path / "rows.json"
    p = subprocess.run([sys.executable, str(RUN), "--dir", str(tmp_path), "--json", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(out.read_text())}
    assert set(rows) == {"toy.alloc", "toy.small"}
    assert rows["toy.alloc"]["events"] / rows["toy.alloc"]["seconds"] == 4_000
    assert rows["toy.alloc"]["peak_rss_mb"] > rows["toy.small"]["peak_rss_mb"] + 150
    assert (tmp_path / "bench_toy.py.prepared").read_text() == "2K"
    assert "toy.alloc" in p.stdout and "4,000" in p.stdout
    assert rows["toy.small"]["cpu_seconds"] >= 0


def test_only_selects_an_area_or_globs_over_area_dot_case() -> None:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod._selected("ingest", "ingest", "validate_parquet")
    assert not mod._selected("ingest", "hub", "ingest_medallion")  # area, not substring
    assert mod._selected("ingest.validate_*,scan", "scan", "scan")
    assert not mod._selected("ingest.validate_*", "ingest", "ingest_parquet")
    assert mod._selected(None, "any", "case")
