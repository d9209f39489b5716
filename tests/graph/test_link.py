from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from distillguard.errors import ConfigError
from distillguard.graph import GraphConfig, LinkResult, link_accounts
from distillguard.graph.synth import SynthWorld


def _lab(linked: LinkResult, world: SynthWorld) -> pl.DataFrame:
    return linked.accounts.join(world.labels, on="account_id")


def test_output_has_one_row_per_account_and_scores_in_range(linked, world) -> None:  # type: ignore[no-untyped-def]
    acc = linked.accounts
    assert acc.height == world.accounts.height
    assert acc.get_column("account_id").n_unique() == acc.height
    assert {"account_id", "cluster_id", "score", "link_reasons"} <= set(acc.columns)
    s = acc.get_column("score")
    assert s.min() >= 0.0 and s.max() <= 1.0
    # propagation only raises scores
    assert (acc.get_column("score") >= acc.get_column("own_score") - 1e-9).all()


def test_each_campaign_lands_in_one_pure_cluster(linked, world) -> None:  # type: ignore[no-untyped-def]
    lab = _lab(linked, world).filter(pl.col("flagged"))
    for camp in ("camp0", "camp1"):
        cids = lab.filter(pl.col("campaign") == camp).get_column("cluster_id").unique()
        assert cids.len() == 1 and cids[0] is not None
        members = lab.filter(pl.col("cluster_id") == cids[0])
        assert (members.get_column("campaign") == camp).mean() >= 0.9


def test_low_and_slow_accounts_are_raised_by_their_fleet(linked, world) -> None:  # type: ignore[no-untyped-def]
    slow = _lab(linked, world).filter(pl.col("persona") == "low_and_slow")
    assert slow.height > 10
    assert (slow.get_column("own_score") < linked.threshold).all()  # part 1 missed them all
    assert slow.get_column("flagged").mean() >= 0.9
    raised = slow.filter(pl.col("flagged")).get_column("link_reasons")
    assert raised.str.contains("score raised").all()


def test_resold_customers_sharing_the_proxy_pool_are_not_swept_up(linked, world) -> None:  # type: ignore[no-untyped-def]
    lab = _lab(linked, world)
    resold = lab.filter(pl.col("persona") == "resold_customer")
    assert resold.height == 30
    # they do sit in the fleet's clusters (same IPs) ...
    fleet_clusters = set(lab.filter(pl.col("label") == "distillation").get_column("cluster_id"))
    assert resold.get_column("cluster_id").is_in(list(fleet_clusters)).mean() > 0.5
    # ... but are not flagged
    assert resold.get_column("flagged").sum() == 0


def test_clusters_carry_shared_entity_evidence(linked) -> None:  # type: ignore[no-untyped-def]
    top = linked.clusters[0]
    assert top.score > 0.8 and top.n_flagged > 10
    kinds = {e.kind for e in top.evidence}
    assert {"template", "ip_block"} <= kinds
    assert all(e.n_accounts >= 2 for e in top.evidence)
    assert "accts" in top.describe()


def test_deterministic(world, linked) -> None:  # type: ignore[no-untyped-def]
    again = link_accounts(world.events, world.accounts, world.scores)
    assert again.accounts.equals(linked.accounts)


def test_degrades_gracefully_without_optional_columns(world) -> None:  # type: ignore[no-untyped-def]
    ev = world.events.select("account_id", "ts")
    acc = world.accounts.select("account_id")
    res = link_accounts(ev, acc, world.scores)
    assert res.accounts.height == world.accounts.height


def test_empty_input() -> None:
    ev = pl.DataFrame(schema={"account_id": pl.String, "ts": pl.Datetime("us", "UTC")})
    acc = pl.DataFrame(schema={"account_id": pl.String})
    sc = pl.DataFrame(schema={"account_id": pl.String, "score": pl.Float64, "flagged": pl.Boolean})
    res = link_accounts(ev, acc, sc)
    assert res.accounts.height == 0 and res.clusters == []


def test_one_flagged_account_does_not_taint_its_org() -> None:
    """A single part-1 false positive in a 30-account company lends nothing to colleagues."""
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids = [f"c{i:02d}" for i in range(30)]
    ev = pl.DataFrame(
        {
            "account_id": [a for a in ids for _ in range(5)],
            "ts": [t0 + dt.timedelta(minutes=7 * j + i) for i in range(30) for j in range(5)],
            "client_ip": ["10.0.0.1"] * 150,
            "template_id": ["corp-template"] * 150,
        }
    )
    acc = pl.DataFrame({"account_id": ids, "org_id": ["acme"] * 30})
    sc = pl.DataFrame(
        {"account_id": ids, "score": [0.9] + [0.1] * 29, "flagged": [True] + [False] * 29}
    )
    res = link_accounts(ev, acc, sc)
    assert res.accounts.get_column("flagged").sum() == 1


def test_invalid_config_fails_loudly(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        link_accounts(world.events, world.accounts, world.scores, config=GraphConfig(min_ref=0.0))
