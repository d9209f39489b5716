from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from distillguard.errors import ConfigError
from distillguard.graph import summarize_campaigns
from distillguard.graph.campaigns import load_price_table, price_for


def test_campaign_items_have_contract_fields_and_only_flagged_accounts(linked, world) -> None:  # type: ignore[no-untyped-def]
    camps = summarize_campaigns(linked, world.events, world.accounts, None)
    assert len(camps) == 2
    flagged = set(linked.accounts.filter(pl.col("flagged")).get_column("account_id"))
    for c in camps:
        for key in (
            "campaign_id",
            "accounts",
            "first_seen",
            "last_seen",
            "n_events",
            "score",
            "summary",
        ):
            assert key in c
        assert set(c["accounts"]) <= flagged
        assert c["first_seen"] <= c["last_seen"]
        assert c["tokens"]["output"] > 0 and c["estimated_value_usd"] > 0
        assert c["summary"].endswith(".")
    big = max(camps, key=lambda c: len(c["accounts"]))
    ev = world.events.filter(pl.col("account_id").is_in(big["accounts"]))
    assert big["n_events"] == ev.height
    assert big["tokens"]["output"] == ev.get_column("output_tokens").sum()


def test_value_uses_price_table(linked, world) -> None:  # type: ignore[no-untyped-def]
    table = {"default": 0.0, "models": {"m-1": 10.0}}
    camps = summarize_campaigns(linked, world.events, world.accounts, None, price_table=table)
    c = camps[0]
    assert c["estimated_value_usd"] == pytest.approx(c["tokens"]["output"] / 1e6 * 10.0, abs=0.01)


def test_release_pivot_is_reported(linked, world) -> None:  # type: ignore[no-untyped-def]
    camps = summarize_campaigns(linked, world.events, world.accounts, None)
    accts = camps[0]["accounts"]
    rel_at = dt.datetime(2026, 3, 8, tzinfo=dt.UTC)
    ev = world.events.with_columns(
        pl.when(pl.col("account_id").is_in(accts) & (pl.col("ts") >= rel_at))
        .then(pl.lit("m-2"))
        .otherwise(pl.col("model"))
        .alias("model")
    )
    rel = pl.DataFrame({"model": ["m-2"], "released_at": [rel_at]})
    camps2 = summarize_campaigns(linked, ev, world.accounts, rel)
    piv = next(c for c in camps2 if c["campaign_id"] == camps[0]["campaign_id"])["release_pivots"]
    assert piv and piv[0]["model"] == "m-2" and piv[0]["share_after_release"] == 1.0
    assert piv[0]["first_use_after_h"] < 24


def test_shipped_price_table_and_matching(tmp_path: Path) -> None:
    t = load_price_table()
    assert t["default"] > 0
    assert price_for("aurora-3-flash", t) == t["models"]["flash"]
    assert price_for("totally-unknown", t) == t["default"]
    bad = tmp_path / "p.yaml"
    bad.write_text("models: {a: 1}\n")
    with pytest.raises(ConfigError):
        load_price_table(bad)
