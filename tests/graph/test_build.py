from __future__ import annotations

import polars as pl

from distillguard.graph.build import build_graph


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


def test_common_entity_is_discounted_by_idf() -> None:
    ids = [f"u{i}" for i in range(200)]
    rows = [(a, "email_domain", "big.example") for a in ids[:30]]  # shared by 30 accounts
    rows += [("u0", "email_domain_rare", "x"), ("u1", "email_domain_rare", "x")]
    rows += [("u0", "payment_prefix", "p1"), ("u1", "payment_prefix", "p1")]
    g = build_graph(_inc(rows), ids, kind_weights={"email_domain": 1.0, "payment_prefix": 1.0})
    ents = {e: idf for e, idf in g.entities.select("entity", "idf").iter_rows()}
    assert ents["p1"] > ents["big.example"] > 0


def test_entity_above_max_share_makes_no_edges() -> None:
    ids = [f"u{i}" for i in range(100)]
    rows = [(a, "email_domain", "gmail.example") for a in ids[:60]]
    g = build_graph(_inc(rows), ids, max_entity_share=0.2)
    assert g.n_edges == 0


def test_huge_entity_is_projected_without_quadratic_blowup() -> None:
    ids = [f"u{i}" for i in range(6000)]
    rows = [(a, "asn", "64500") for a in ids[:3000]]
    g = build_graph(_inc(rows), ids, clique_max=24, ring_k=2, max_entity_share=1.0)
    assert g.n_edges <= 3000 * 2  # ring, not 4.5M clique edges
    assert g.n_edges > 2000
    # every member keeps (about) the same strength: unit mass per entity
    e = g.edges
    deg = (
        pl.concat(
            [
                e.select(pl.col("src").alias("v"), "weight"),
                e.select(pl.col("dst").alias("v"), "weight"),
            ]
        )
        .group_by("v")
        .agg(pl.col("weight").sum())
    )
    w = deg.get_column("weight")
    assert w.min() > 0.5 * w.max()


def test_lockstep_pairs_need_repetition() -> None:
    ids = ["a", "b", "c"]
    rows = [("a", "lockstep", str(t)) for t in range(5)] + [
        ("b", "lockstep", str(t)) for t in range(5)
    ]
    rows += [("c", "lockstep", "0")]  # c co-occurs with a and b once: chance
    g = build_graph(_inc(rows), ids, kind_weights={"lockstep": 1.0})
    pairs = set(g.edges.select("src", "dst").iter_rows())
    assert pairs == {(0, 1)}
