from __future__ import annotations

import numpy as np
import polars as pl

from distillguard.graph.build import build_graph
from distillguard.graph.cluster import dense_blocks, leiden_membership


def _inc(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "entity": [r[2] for r in rows],
            "n": [1] * len(rows),
            "share": [1.0] * len(rows),
        }
    )


def _two_groups() -> tuple[pl.DataFrame, list[str]]:
    ids = (
        [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)] + [f"z{i}" for i in range(200)]
    )
    rows = []
    for g in ("a", "b"):
        for i in range(20):
            for e in range(4):
                rows.append((f"{g}{i}", "template", f"{g}-tpl{e}"))
            rows.append((f"{g}{i}", "payment_prefix", f"{g}-card"))
    # a weak bridge: a popular ASN shared by one member of each group and 30 others
    rows += [(a, "asn", "64500") for a in ("a0", "b0", *[f"z{i}" for i in range(30)])]
    return _inc(rows), ids


def test_leiden_separates_planted_groups_and_is_deterministic() -> None:
    inc, ids = _two_groups()
    g = build_graph(inc, ids)
    m1 = leiden_membership(g, seed=3)
    m2 = leiden_membership(g, seed=3)
    assert np.array_equal(m1, m2)
    a = {m1[i] for i in range(20)}
    b = {m1[i] for i in range(20, 40)}
    assert len(a) == 1 and len(b) == 1 and a != b


def test_dense_block_survives_camouflage() -> None:
    """Fleet accounts also touch popular honest entities; the fleet block is still found."""
    inc, ids = _two_groups()
    # make fleet a denser than group b, so the densest block is a alone
    inc = pl.concat([inc, _inc([(f"a{i}", "system_prompt", "a-sp") for i in range(20)])])
    rng = np.random.default_rng(0)
    camo = [(f"a{i}", "user_agent", f"popular{int(rng.integers(0, 3))}") for i in range(20)]
    camo += [(f"z{i}", "user_agent", f"popular{i % 3}") for i in range(200)]
    inc = pl.concat([inc, _inc(camo)])
    g = build_graph(inc, ids)
    blocks = dense_blocks(inc, g, n_blocks=2, min_density_ratio=1.5)
    assert blocks
    found = [set(g.account_ids[b.accounts].tolist()) for b in blocks]
    fleet_a = {f"a{i}" for i in range(20)}
    assert any(len(f & fleet_a) >= 18 and not any(x.startswith("z") for x in f) for f in found)
