"""A hard negative that shares infrastructure *and* templates the way a fleet does: a large
company on SSO. Its employees' accounts (50-300 per company) sit under one e-mail domain,
one corporate card and one egress block, are provisioned together by the identity provider
when the company rolls the assistant out, send the internal assistant's system prompt and a
few shared prompt templates (ticket summaries, code review, "think step by step" analyses),
and move to a new model when IT switches the default. Honest: office hours, modest volume,
ordinary content for a company.

Measured in docs/detection.md "Generalisation probe (round 4)": part 1 flags ~10% of a
freshly provisioned company (fresh accounts, a sign-up burst, an org-wide template family
"used mostly by fresh accounts", an org-wide model switch, step-by-step prompts with long
answers) and linking then lends those flags to the whole company through its shared
templates. Since template families count customers (a declared organisation once), not
accounts (``aggregate.features.account_owners``), linking lends nothing across the
company (194 -> 5 of 200 employees flagged at scale 0.2, seed 5): pinned below. Part 1
still flagged a few employees (~4%) on the org-wide model switch read as each seat's release
pivot (plus long step-by-step answers, fresh accounts); since round 5 the release pivot of
an organisation's account is read over the organisation's accounts (one customer's choice
of model, ``signals.builtin.release_pivot``; docs/detection.md "Round 5"). With the
organisation *capping* a seat's pivot (it never raises one; the lead's follow-up) part 1
still flags 2 of this world's 100 employees on content alone (step-by-step prompts with
long answers, just over the threshold): over the 1% the last test asks, so it is a strict
xfail again, pinning that residue."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.worlds import default_plus


@pytest.fixture(scope="module")
def sso_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from distillguard.pipeline import run_scan

    # every company rolls the assistant out during the timeline (provisioned together)
    world = default_plus(tmp_path_factory.mktemp("sso-employees"), seed=5, personas={
        "sso_employee": {"accounts": 2000, "events": 200000, "new_accounts": 1.0}})
    return world, run_scan(world)


def _employees(world: Path) -> list[str]:
    labels = pl.read_parquet(world / "labels.parquet")
    return labels.filter(pl.col("persona") == "sso_employee")["account_id"].to_list()


def test_the_trap_is_real_one_company_one_domain_card_and_egress(sso_world) -> None:  # type: ignore[no-untyped-def]
    world, _ = sso_world
    staff = _employees(world)
    assert len(staff) >= 80
    acc = pl.read_parquet(world / "accounts.parquet").filter(pl.col("account_id").is_in(staff))
    per_org = acc.group_by("org_id").agg(pl.len(), pl.col("email_domain").n_unique().alias("d"),
                                         pl.col("payment_fingerprint").n_unique().alias("c"))
    assert (per_org["d"] == 1).all() and (per_org["c"] == 1).all()
    assert per_org["len"].max() >= 50  # type: ignore[operator]


def test_the_detector_is_not_asleep_on_the_same_world(sso_world) -> None:  # type: ignore[no-untyped-def]
    world, result = sso_world
    distill = set(pl.read_parquet(world / "labels.parquet")
                  .filter(pl.col("label") == "distillation")["account_id"])
    flagged = set(result.accounts.filter(pl.col("flagged"))["account_id"])
    assert len(flagged & distill) >= 0.5 * len(distill)


def test_linking_lends_nothing_across_the_company(sso_world) -> None:  # type: ignore[no-untyped-def]
    """The company's shared prompt library is one customer's tooling: no employee is
    flagged by linking that part 1 did not flag on its own traffic."""
    world, result = sso_world
    staff = result.accounts.filter(pl.col("account_id").is_in(_employees(world)))
    assert staff.height >= 80
    raised = staff.filter(pl.col("flagged") & ~pl.col("flagged_part1"))
    assert raised.height == 0, raised.select("account_id", "score", "link_reasons")


@pytest.mark.xfail(strict=True, reason="known residue (docs/detection.md, Round 5 follow-up): "
                   "part 1 flags 2 of 100 employees on content alone (step-by-step prompts, "
                   "long answers), just over the threshold")
def test_employees_are_not_swept_up_as_a_campaign(sso_world) -> None:  # type: ignore[no-untyped-def]
    world, result = sso_world
    staff = set(_employees(world))
    flagged = result.accounts.filter(pl.col("flagged") & pl.col("account_id").is_in(list(staff)))
    assert flagged.height <= max(1, round(0.01 * len(staff))), flagged.select("account_id", "reasons")
