"""Baselines: a tier rate limit and a PRADA-style distance-normality test."""

from __future__ import annotations

import datetime as dt

import polars as pl

from distillguard.baselines import prada_scores, rate_limit_scores

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_rate_limit_flags_only_accounts_over_their_tier_limit() -> None:
    ev = pl.DataFrame({
        "account_id": ["fast"] * 50 + ["slow"] * 50,
        "ts": [T0 + dt.timedelta(seconds=i) for i in range(50)]
        + [T0 + dt.timedelta(minutes=10 * i) for i in range(50)],
    })
    acc = pl.DataFrame({"account_id": ["fast", "slow", "idle"], "tier": ["free", "free", None]})
    out = {r["account_id"]: r for r in rate_limit_scores(ev, acc).iter_rows(named=True)}
    assert out["fast"]["flagged"] and not out["slow"]["flagged"] and not out["idle"]["flagged"]
    assert out["fast"]["score"] > out["slow"]["score"] >= out["idle"]["score"] == 0.0


def test_prada_scores_every_account_in_unit_interval(tiny_world) -> None:
    ev = pl.read_parquet(tiny_world / "events.parquet", columns=["account_id", "ts", "prompt"])
    acc = pl.read_parquet(tiny_world / "accounts.parquet", columns=["account_id", "tier"])
    out = prada_scores(ev, acc)
    assert out.height == acc.height
    assert out.get_column("score").is_between(0, 1).all()
    # a stream of near-identical templated queries is less "natural" than human chat
    s = dict(zip(out["account_id"], out["score"], strict=True))
    assert s["hydra-001"] > 0.0
