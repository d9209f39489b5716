"""The opt-in ``aggregator`` persona (issue #4, docs/detection.md "Generalisation probe 2
(round 6)"): an honest API router / reseller whose few aged, high-tier accounts carry
thousands of end users' traffic. These tests pin what the simulator makes of it, and that
the bundled default world does not change when the persona exists but is not used."""

from __future__ import annotations

import polars as pl
import pytest
import yaml
from pipeline.worlds import default_plus

from distillguard.sim.scenario import SCENARIO_DIR

#: a fleet dressed as a router: aged accounts, one fixed address each, a system prompt drawn
#: per request (``system_per_request``), to take a multi-tenant service's benefit of the doubt
MIMIC = {
    "actor": "ACTOR-MIMIC", "accounts": 600, "events": 200000, "resellers": 1,
    "families": {"cot": 0.4, "thorough": 0.3, "code": 0.15, "synth": 0.15}, "roles": {"dedicated": 1.0},
    "aged_share": 1.0, "ip": {"home": 1.0}, "system": {"none": 0.4, "generic": 1.0, "app": 1.0},
    "system_per_request": True, "rhythm": {"flat": 1.0}, "ban_share": 0.0, "tiers": {"scale": 1.0},
}


@pytest.fixture(scope="module")
def agg(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    w = default_plus(tmp_path_factory.mktemp("agg-sim"), seed=13,
                     personas={"aggregator": {"accounts": 160, "events": 400000}},
                     campaigns={"router-mimic": MIMIC})
    labels = pl.read_parquet(w / "labels.parquet")
    return {
        "events": pl.read_parquet(w / "events.parquet").join(labels, on="account_id"),
        "accounts": pl.read_parquet(w / "accounts.parquet").join(labels, on="account_id"),
        "releases": pl.read_parquet(w / "releases.parquet"),
    }


def test_aggregator_is_few_heavy_aged_high_tier_honest_accounts(agg: dict[str, pl.DataFrame]) -> None:
    acc = agg["accounts"].filter(pl.col("persona") == "aggregator")
    assert acc.height == 8
    assert (acc["label"] == "benign").all()
    assert acc["tier"].is_in(["enterprise", "scale"]).all()
    ev = agg["events"]
    per = ev.group_by("persona").agg((pl.len() / pl.col("account_id").n_unique()).alias("per_acct"))
    mean = dict(zip(per["persona"], per["per_acct"], strict=True))
    # heavier per account than any other honest persona, app backends included
    others = [v for k, v in mean.items() if k not in ("aggregator", None)]
    assert mean["aggregator"] > max(others)
    t0 = agg["events"]["ts"].min()
    assert (acc["created_at"] < t0).all()  # no sign-up during the timeline


def test_aggregator_mixes_many_apps_capabilities_and_clocks(agg: dict[str, pl.DataFrame]) -> None:
    ev = agg["events"].filter(pl.col("persona") == "aggregator")
    per = ev.group_by("account_id").agg(
        pl.col("system_prompt").n_unique().alias("systems"),
        pl.col("ts").dt.hour().n_unique().alias("hours"),
        (pl.col("n_tools") > 0).mean().alias("tools"),
        (pl.col("max_tokens") >= 16384).mean().alias("long"),
        pl.col("temperature").n_unique().alias("temps"),
    )
    assert (per["systems"] >= 15).all()  # a different customer app per request
    assert (per["hours"] == 24).all()  # around the clock
    assert (per["tools"] > 0.02).all() and (per["long"] > 0.1).all() and (per["temps"] >= 3).all()
    step = ev["prompt"].str.contains("(?i)step by step").mean()
    assert step is not None and step > 0.02  # type: ignore[operator]
    assert set(ev["user_agent"].str.extract(r"^([A-Za-z-]+)")).isdisjoint({"Mozilla"})


def test_aggregator_moves_to_the_new_model_on_release_day(agg: dict[str, pl.DataFrame]) -> None:
    ev = agg["events"].filter(pl.col("persona") == "aggregator")
    rel = agg["releases"]
    new = rel.sort("released_at")[-1]
    name, at = new["model"].item(), new["released_at"].item()
    first = ev.filter(pl.col("model") == name).group_by("account_id").agg(pl.col("ts").min())
    assert first.height == ev["account_id"].n_unique()
    late = (first["ts"] - at).dt.total_hours()
    assert (late < 48).mean() >= 0.75  # type: ignore[operator]


def test_default_world_does_not_know_the_aggregator() -> None:
    raw = yaml.safe_load((SCENARIO_DIR / "default.yaml").read_text())
    assert "aggregator" not in raw["personas"]


def test_router_mimic_campaign_draws_system_prompts_per_request(agg: dict[str, pl.DataFrame]) -> None:
    ev = agg["events"].filter(pl.col("campaign") == "router-mimic")
    per = ev.group_by("account_id").agg(pl.col("system_prompt").n_unique().alias("systems"), pl.len())
    busy = per.filter(pl.col("len") >= 100)
    assert busy.height >= 10
    assert (busy["systems"] >= 12).all()
    # the bundled campaigns keep one gateway configuration (system prompt) per account
    other = agg["events"].filter(pl.col("campaign") == "cot-harvest").group_by("account_id").agg(
        pl.col("system_prompt").n_unique().alias("systems"))
    assert other["systems"].max() <= 10  # type: ignore[operator]
