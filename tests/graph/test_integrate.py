from __future__ import annotations

import polars as pl

from distillguard.graph.integrate import apply_linking


def test_apply_linking_keeps_scan_columns_and_adds_linked_verdicts(world) -> None:  # type: ignore[no-untyped-def]
    scored = world.scores.with_columns(
        pl.lit("part-1 reason").alias("reasons"), pl.lit(1.5).alias("some_feature")
    )
    out, camps, _res = apply_linking(world.events, world.accounts, scored, None)
    assert out.height == scored.height
    assert {"some_feature", "part1_score", "part1_flagged", "cluster_id", "link_reasons"} <= set(
        out.columns
    )
    raised = out.filter(pl.col("flagged") & ~pl.col("part1_flagged"))
    assert raised.height > 0
    assert raised.get_column("reasons").str.starts_with("part-1 reason").all()
    assert raised.get_column("reasons").str.contains("linked: cluster").all()
    assert out.get_column("cluster_id").null_count() == 0
    flagged = set(out.filter("flagged").get_column("account_id"))
    assert all(set(c["accounts"]) <= flagged for c in camps)
