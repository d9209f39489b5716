#!/usr/bin/env python
"""Graph stage benchmark: incidence + graph build + Leiden + dense blocks + propagation.

Size = number of accounts (``160Kx80``: 80 events per benign account and 160 per attacker
instead of the default 12/40, the scan's 16M-event shape); 24% of them are attacker
accounts in three campaigns (16k/6k/2k at 100K, the disclosure's ~24k), with 300 resold honest customers per campaign,
~1.7M events at 100K. The frame is synthesised (``distillguard.graph.synth``) outside the
timed part.

    .venv/bin/python bench/bench_graph.py [100K ...]      # standalone table
    .venv/bin/python bench/bench_graph.py 160Kx80         # 160k accounts, 14.4M events
    .venv/bin/python bench/run.py --only graph --sizes 100K
"""

from __future__ import annotations

import os
import resource
import sys
import time
from typing import Any

SIZES = ["100K"]


def _accounts(size: str) -> int:
    s = size.strip().upper().split("X")[0]
    mult = {"K": 1_000, "M": 1_000_000}.get(s[-1:], 1)
    return int(float(s[:-1] if s[-1:] in "KM" else s) * mult)


def link_accounts_case(size: str) -> dict[str, Any]:
    from distillguard.graph import link_accounts
    from distillguard.graph.synth import synth_world

    n = _accounts(size)
    att = int(n * 0.24)
    camps = (att * 2 // 3, att // 4, att - att * 2 // 3 - att // 4)
    ev_kw: dict[str, int] = {}
    if "X" in size.upper():  # "160Kx80": 80 events per benign account, 160 per attacker
        be = int(size.upper().split("X")[1])
        ev_kw = {"benign_events": be, "attack_events": 2 * be}
    w = synth_world(
        n_benign=n - att - 900, campaigns=camps, n_resold_per_campaign=300, seed=1, **ev_kw
    )
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    res = link_accounts(w.events, w.accounts, w.scores)
    secs = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    load = os.getloadavg()[0]
    lab = res.accounts.join(w.labels, on="account_id")
    att_recall = lab.filter(lab["label"] == "distillation")["flagged"].mean()
    resold_fpr = lab.filter(lab["persona"] == "resold_customer")["flagged"].mean()
    t = {k: round(v, 2) for k, v in res.timings.items()}
    return {
        "name": "link_accounts",
        "events": w.events.height,
        "seconds": secs,
        "note": (
            f"{res.accounts.height:,} accounts ({att:,} attackers), {res.graph.n_edges if res.graph else 0:,} edges, "
            f"CPU {cpu:.1f}s at load {load:.1f}, {t}; attacker recall {att_recall:.3f}, resold FPR {resold_fpr:.4f}"
        ),
    }


CASES = [link_accounts_case]


if __name__ == "__main__":
    sizes = sys.argv[1:] or SIZES
    print(f"{'name':<16}{'size':>8}{'wall s':>9}{'events/s':>12}{'peak RSS MB':>13}  note")
    for size in sizes:
        r = link_accounts_case(size)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{r['name']:<16}{size:>8}{r['seconds']:>9.2f}{r['events'] / r['seconds']:>12,.0f}{rss:>13,.0f}  {r['note']}"
        )
