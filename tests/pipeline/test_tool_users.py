"""A hard negative that looks like an agentic harvesting fleet on content alone: the
customers of a bring-your-own-key coding tool share one system prompt, one wrapper
template and one user agent across many unrelated accounts, run tools in long loops at
temperature 0 with high max_tokens, and move to a new model on release day. They are not
one operation: their infrastructure, payment and rhythm are their own."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from distillguard.sim.templates import IDE_AGENT_SYSTEM
from pipeline.worlds import default_plus


@pytest.fixture(scope="module")
def tool_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from distillguard.pipeline import run_scan

    world = default_plus(tmp_path_factory.mktemp("tool-users"), seed=21,
                         personas={"tool_user": {"accounts": 1200, "events": 90000}})
    return world, run_scan(world)


def _tool_users(world: Path) -> list[str]:
    labels = pl.read_parquet(world / "labels.parquet")
    return labels.filter(pl.col("persona") == "tool_user")["account_id"].to_list()


def test_the_trap_is_real_one_system_prompt_and_client_across_many_accounts(tool_world) -> None:  # type: ignore[no-untyped-def]
    world, _ = tool_world
    users = _tool_users(world)
    assert len(users) >= 40
    ev = pl.read_parquet(world / "events.parquet").filter(pl.col("account_id").is_in(users))
    assert ev["system_prompt"].is_in(list(IDE_AGENT_SYSTEM)).mean() > 0.8  # type: ignore[operator]
    assert ev["user_agent"].str.starts_with("Quill/").all()
    assert ev.select(pl.col("client_ip").n_unique()).item() > len(users)  # their own networks


def test_tool_users_are_not_swept_up_as_a_campaign(tool_world) -> None:  # type: ignore[no-untyped-def]
    world, result = tool_world
    users = set(_tool_users(world))
    acc = result.accounts
    flagged_users = acc.filter(pl.col("flagged") & pl.col("account_id").is_in(list(users)))
    assert flagged_users.height <= max(1, round(0.01 * len(users)))
    distill = set(pl.read_parquet(world / "labels.parquet")
                  .filter(pl.col("label") == "distillation")["account_id"])
    flagged = set(acc.filter(pl.col("flagged"))["account_id"])
    assert len(flagged & distill) >= 0.5 * len(distill)  # the detector is not simply asleep
