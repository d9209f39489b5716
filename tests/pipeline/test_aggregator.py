"""A hard negative that looks like a capability sweep by volume and breadth: an honest API
aggregator / router (OpenRouter-, LiteLLM-proxy-like, or a B2B app reselling model
access). A few aged, high-tier accounts carry thousands of end users' traffic: around the
clock from datacenter addresses, router / SDK user agents, a different customer app's
system prompt on almost every request, every capability area (chat, code, tools, RAG,
homework and "step by step" research prompts), high max_tokens, and the new model on
release day because its users ask for it. It is not distillation.

Measured in docs/detection.md "Generalisation probe 2 (round 6)": part 1 flags 3 and 5 of
8 aggregator accounts (scale 0.2, seeds 3 and 5) on capability_sweep + output_harvesting
(content) and automation + release_pivot + volume (operation); ``established_app``, the
dampener for product backends, does not apply because the traffic carries many system
prompts, not one. Linking then puts the aggregators into one cluster with the research,
agent_dev, rag_app and judge_service accounts (the system prompts and research templates
their end users share with those customers) and a flagged aggregator lends to research
accounts (seed 5: 5 research accounts raised by linking). On this test's world (scale
0.05, seed 5) 5 of 8 aggregators are flagged (4 by part 1, 1 by linking) and linking raises
1 research account. Both failures are pinned below as strict xfails until a fix lands."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.worlds import default_plus


@pytest.fixture(scope="module")
def agg_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from distillguard.pipeline import run_scan

    # 8 aggregator accounts at this scale, ~3,750 requests each (as at scale 0.2)
    world = default_plus(tmp_path_factory.mktemp("aggregator"), seed=5,
                         personas={"aggregator": {"accounts": 160, "events": 600000}})
    return world, run_scan(world)


def _labels(world: Path) -> pl.DataFrame:
    return pl.read_parquet(world / "labels.parquet")


def _aggregators(world: Path) -> list[str]:
    return _labels(world).filter(pl.col("persona") == "aggregator")["account_id"].to_list()


def test_the_trap_is_real_heavy_broad_automated_and_many_apps(agg_world) -> None:  # type: ignore[no-untyped-def]
    world, result = agg_world
    ids = _aggregators(world)
    assert len(ids) == 8
    acc = result.accounts.filter(pl.col("account_id").is_in(ids))
    assert (acc["n_events"] >= 1000).all()
    assert (acc["n_system_prompts"] >= 12).all()  # its customers' apps
    assert (acc["quiet_hours"] <= 1).all()  # around the clock
    assert (acc["high_max_tokens_share"] >= 0.5).all()


def test_the_detector_is_not_asleep_on_the_same_world(agg_world) -> None:  # type: ignore[no-untyped-def]
    world, result = agg_world
    distill = set(_labels(world).filter(pl.col("label") == "distillation")["account_id"])
    flagged = set(result.accounts.filter(pl.col("flagged"))["account_id"])
    assert len(flagged & distill) >= 0.5 * len(distill)


@pytest.mark.xfail(strict=True, reason="known failure (docs/detection.md, Generalisation probe 2): "
                   "part 1 reads an aggregator's mixed end-user traffic as a capability sweep "
                   "(breadth, long outputs, 24/7 automation, release-day pivot, volume)")
def test_aggregators_are_not_flagged(agg_world) -> None:  # type: ignore[no-untyped-def]
    world, result = agg_world
    acc = result.accounts.filter(pl.col("account_id").is_in(_aggregators(world)))
    flagged = acc.filter(pl.col("flagged"))
    assert flagged.height <= 1, flagged.select("account_id", "score", "reasons")


@pytest.mark.xfail(strict=True, reason="known failure (docs/detection.md, Generalisation probe 2): "
                   "aggregators cluster with the honest customers whose system prompts and "
                   "templates their end users share, and a flagged aggregator lends to them")
def test_linking_lends_nothing_from_aggregators_to_other_customers(agg_world) -> None:  # type: ignore[no-untyped-def]
    world, result = agg_world
    labels = _labels(world)
    acc = result.accounts.join(labels.select("account_id", "label", "persona"), on="account_id")
    clusters = acc.filter(pl.col("persona") == "aggregator")["cluster_id"].drop_nulls().unique()
    raised = acc.filter(pl.col("cluster_id").is_in(clusters.to_list()) & (pl.col("label") == "benign")
                        & (pl.col("persona") != "aggregator") & pl.col("flagged") & ~pl.col("flagged_part1"))
    assert raised.height == 0, raised.select("account_id", "persona", "link_reasons")
