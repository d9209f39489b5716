"""Tradecraft our default worlds lack: an operation that runs every prompt through a
paraphrasing model (no wrapper is ever sent twice, so no shared skeleton or template
family), one residential proxy address per account, browser user agents, human rhythm,
aged consumer accounts with their own cards. Only content (reasoning elicitation, long
outputs, high max_tokens) and volume remain. Beside it, a low-and-slow fleet at scale
(hundreds of accounts at 8-28 requests a day for the whole timeline), which we do catch.

Measured in docs/detection.md "Generalisation probe (round 4)": part 1 flags about a fifth
of the paraphrasing fleet on content and linking adds nothing (there is no shared
template or infrastructure to lend through). The xfail pins that known miss.
docs/linking.md "Paraphrasing fleets" measured what could tie such a fleet (request
profile, co-activity, model switch, evidence read on the anchors only): nothing that
honest research labs, classes or agent developers do not share as well."""

from __future__ import annotations

import polars as pl
import pytest

from pipeline.worlds import PARAPHRASE_CAMPAIGN, default_plus

PARAPHRASE = {**PARAPHRASE_CAMPAIGN, "accounts": 600, "events": 240000, "mimic_tz": 1.0,
              "office_hours": 0.0, "system": {"none": 1.0}, "keys": [1, 1]}
LOW_AND_SLOW_AT_SCALE = {
    "actor": "ACTOR-MOTH", "accounts": 2000, "events": 1, "resellers": 3,
    "families": {"cot": 0.5, "thorough": 0.3, "code": 0.2},
    "roles": {"low_and_slow": 1.0}, "lso_rate": [8.0, 28.0],
}


@pytest.fixture(scope="module")
def tradecraft_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from distillguard.pipeline import run_scan

    world = default_plus(tmp_path_factory.mktemp("paraphrase"), seed=8, campaigns={
        "para-harvest": PARAPHRASE, "lss-fleet": LOW_AND_SLOW_AT_SCALE})
    labels = pl.read_parquet(world / "labels.parquet")
    return labels, run_scan(world)


def _recall(tradecraft_world, campaign: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    labels, result = tradecraft_world
    members = set(labels.filter(pl.col("campaign") == campaign)["account_id"])
    flagged = set(result.accounts.filter(pl.col("flagged"))["account_id"])
    return len(members & flagged) / max(1, len(members)), len(members)


def test_low_and_slow_at_scale_is_caught(tradecraft_world) -> None:  # type: ignore[no-untyped-def]
    recall, n = _recall(tradecraft_world, "lss-fleet")
    assert n >= 50
    assert recall >= 0.8


@pytest.mark.xfail(strict=True, reason="known miss (docs/detection.md, round 4 probe): with no "
                   "shared skeleton or infrastructure only content remains, which research "
                   "and tutoring traffic share; linking has nothing operation-specific to lend through "
                   "(docs/linking.md, 'Paraphrasing fleets': a request-profile tie kind "
                   "reaches 0.8 recall but flags 26-29 of 90 agent developers)")
def test_paraphrasing_fleet_is_mostly_caught(tradecraft_world) -> None:  # type: ignore[no-untyped-def]
    recall, n = _recall(tradecraft_world, "para-harvest")
    assert n >= 20
    assert recall >= 0.5
