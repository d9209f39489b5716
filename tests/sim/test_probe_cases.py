"""The generalisation probe's opt-in cases (docs/detection.md "Generalisation probe (round 4)"):
an honest company on SSO that shares infrastructure *and* templates like a fleet, and a
campaign that paraphrases every prompt and hides behind one residential address per
account. Neither is in the bundled scenarios; these tests pin what the simulator makes."""

from __future__ import annotations

import polars as pl
import pytest
from pipeline.worlds import PARAPHRASE_CAMPAIGN, default_plus

from distillguard.enrich._skeleton import head_skeleton_expr, tail_skeleton_expr
from distillguard.sim.templates import INTERNAL_ASSISTANT_SYSTEM

PARA = {**PARAPHRASE_CAMPAIGN, "accounts": 300, "events": 60000}


@pytest.fixture(scope="module")
def probe_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    w = default_plus(tmp_path_factory.mktemp("probe-sim"), seed=12,
                     personas={"sso_employee": {"accounts": 2400, "events": 200000}},
                     campaigns={"para-harvest": PARA})
    labels = pl.read_parquet(w / "labels.parquet")
    return {
        "events": pl.read_parquet(w / "events.parquet").join(labels, on="account_id"),
        "accounts": pl.read_parquet(w / "accounts.parquet").join(labels, on="account_id"),
    }


def test_sso_org_shares_domain_card_egress_and_templates(probe_world: dict[str, pl.DataFrame]) -> None:
    acc = probe_world["accounts"].filter(pl.col("persona") == "sso_employee")
    orgs = acc.group_by("org_id").agg(
        pl.len().alias("n"), pl.col("email_domain").n_unique().alias("domains"),
        pl.col("payment_fingerprint").n_unique().alias("cards"),
        (pl.col("created_at").max() - pl.col("created_at").min()).alias("spread"))
    # 50-300 employees per company (the last company drawn is cut to the persona's count)
    assert orgs.filter(pl.col("n") >= 50)["n"].sum() >= 0.6 * acc.height
    assert (orgs["domains"] == 1).all() and (orgs["cards"] == 1).all()  # SSO, one corporate card
    ev = probe_world["events"].filter(pl.col("persona") == "sso_employee")
    per_org = ev.join(acc.select("account_id", "org_id"), on="account_id").group_by("org_id").agg(
        pl.col("client_ip").n_unique().alias("ips"), pl.col("account_id").n_unique().alias("n"))
    assert (per_org["ips"] <= 6).all()  # one egress block for the whole company
    assert ev["system_prompt"].is_in(list(INTERNAL_ASSISTANT_SYSTEM)).mean() > 0.6  # type: ignore[operator]
    # office hours: weekends and nights are quiet
    wk = ev.select((pl.col("ts").dt.weekday() >= 6).mean()).item()
    assert wk < 0.1


def test_sso_org_rolled_out_during_the_timeline_is_provisioned_in_hours(probe_world: dict[str, pl.DataFrame]) -> None:
    acc = probe_world["accounts"].filter(pl.col("persona") == "sso_employee")
    t0 = probe_world["events"]["ts"].min()
    new = acc.filter(pl.col("created_at") > t0).group_by("org_id").agg(
        pl.len().alias("n"), (pl.col("created_at").quantile(0.9) - pl.col("created_at").min()).alias("p90"))
    if new.height == 0:
        pytest.skip("no org rolled out during this world's timeline")
    assert (new["p90"].dt.total_hours() <= 12).all()


def test_paraphrased_campaign_never_repeats_a_wrapper(probe_world: dict[str, pl.DataFrame]) -> None:
    ev = probe_world["events"].filter(pl.col("campaign") == "para-harvest").filter(pl.col("prompt").is_not_null())
    assert ev.height > 500
    sk = ev.select(head_skeleton_expr(pl.col("prompt")).alias("h"), tail_skeleton_expr(pl.col("prompt")).alias("t"))
    # almost every request has its own head window (the rest: raw payloads, short prompts)
    assert sk["h"].n_unique() > 0.9 * ev.height
    other = probe_world["events"].filter(pl.col("campaign") == "cot-harvest").filter(pl.col("prompt").is_not_null())
    osk = other.select(head_skeleton_expr(pl.col("prompt")).alias("h"))
    assert osk["h"].n_unique() < 0.9 * other.height  # the templated campaign does repeat


def test_paraphrased_campaign_has_no_shared_infrastructure(probe_world: dict[str, pl.DataFrame]) -> None:
    ev = probe_world["events"].filter(pl.col("campaign") == "para-harvest")
    acc = probe_world["accounts"].filter(pl.col("campaign") == "para-harvest")
    n = acc.height
    assert n >= 10
    shared_ip = ev.group_by("client_ip").agg(pl.col("account_id").n_unique().alias("k")).filter(pl.col("k") > 1)
    assert shared_ip.height <= max(1, n // 10)  # one residential address (or three) per account
    assert acc["payment_fingerprint"].n_unique() == n
    assert acc["org_id"].n_unique() == n
    assert ev["user_agent"].str.contains("Mozilla").all()
    t0 = probe_world["events"]["ts"].min()
    from datetime import timedelta

    assert (acc["created_at"] < t0 - timedelta(days=60)).all()  # aged accounts
