"""The graph seam in the scan: linking after part-1 scoring, campaigns, attribution."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from distillguard.cli.main import app
from distillguard.pipeline import link_stage, merge_reasons


def test_linking_never_withdraws_a_part1_verdict(proxy_scan) -> None:
    acc = proxy_scan[0].accounts
    assert (acc.get_column("score") >= acc.get_column("score_part1") - 1e-12).all()
    assert acc.filter(pl.col("flagged_part1") & ~pl.col("flagged")).height == 0
    assert acc.get_column("score").is_between(0, 1).all()


def test_resold_customers_share_the_pool_but_are_not_swept_up(proxy_scan) -> None:
    acc = proxy_scan[0].accounts
    resold = acc.filter(pl.col("account_id").str.starts_with("resold-"))
    assert resold.height == 6
    # they are linked to the operation (same exits and client) ...
    op_clusters = set(acc.filter(pl.col("account_id").str.starts_with("hydra-"))
                      .get_column("cluster_id"))
    assert set(resold.get_column("cluster_id")) & op_clusters
    # ... but sharing infrastructure alone raises nobody
    assert not resold.get_column("flagged").any()
    assert (resold.get_column("score") - resold.get_column("score_part1")).abs().max() < 1e-9


def test_campaigns_are_clusters_of_flagged_accounts(proxy_scan) -> None:
    result = proxy_scan[0]
    acc = result.accounts
    assert result.campaigns
    by_id = dict(zip(acc.get_column("account_id"), acc.iter_rows(named=True), strict=True))
    op = 0
    for c in result.campaigns:
        for a in c["accounts"]:
            assert by_id[a]["flagged"] and by_id[a]["cluster_id"] == c["campaign_id"]
        op += sum(a.startswith(("hydra-", "quiet-")) for a in c["accounts"])
        assert c["tokens"]["output"] > 0 and c["infrastructure"]["shared"]
        assert c["first_seen"] <= c["last_seen"]
    assert op >= 0.9 * 26  # the operation is recovered, in one or a few campaigns


def test_flagged_clustered_accounts_explain_the_link(proxy_scan) -> None:
    acc = proxy_scan[0].accounts.filter(pl.col("flagged") & (pl.col("link_reasons") != ""))
    assert acc.height
    for r in acc.get_column("reasons").to_list():
        assert "linked: cluster C" in r and any(ch.isdigit() for ch in r.split("linked:")[1])


def test_link_stage_raises_accounts_part1_missed(tiny_scan, tiny_world: Path) -> None:
    """Pretend part 1 missed five operation accounts: linking lends them the fleet's
    evidence through the template family they share, and says so.

    (The even accounts are chosen because they also send the grading template; the CoT
    template is used by more than 20% of this tiny world's accounts, which the graph
    treats as too common to link on.)"""
    result, _ = tiny_scan
    missed = [f"hydra-{i:03d}" for i in range(0, 10, 2)]
    scored = result.accounts.select("account_id", "score_part1", "flagged_part1").rename(
        {"score_part1": "score", "flagged_part1": "flagged"}
    ).with_columns(
        pl.when(pl.col("account_id").is_in(missed)).then(0.05).otherwise(pl.col("score"))
        .alias("score"),
        pl.col("flagged") & ~pl.col("account_id").is_in(missed),
    )
    accounts = pl.read_parquet(tiny_world / "accounts.parquet")
    out, camps, link = link_stage(result.events, accounts, scored, result.releases)
    got = out.filter(pl.col("account_id").is_in(missed))
    assert got.get_column("flagged").all()
    assert (got.get_column("score") > got.get_column("score_part1")).all()
    humans = out.filter(pl.col("account_id").str.starts_with("human-"))
    assert not humans.get_column("flagged").any()
    why = merge_reasons(pl.Series([""] * out.height, dtype=pl.String), out)
    assert all(w.startswith("linked: ") for w in
               why.filter(out.get_column("account_id").is_in(missed)).to_list())
    assert set(missed) <= {a for c in camps for a in c["accounts"]}
    assert link.threshold > 0


def test_watchlist_attributes_the_campaign(tiny_world: Path, tmp_path: Path) -> None:
    wl = tmp_path / "wl.yaml"
    wl.write_text("actors:\n  - name: ACTOR-TEST\n    indicators:\n"
                  "      - {kind: ip, value: 100.64.0.0/24}\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["scan", "--input", str(tiny_world), "--output", str(out),
                                   "--watchlist", str(wl)])
    assert res.exit_code == 0, res.output
    assert "more by linking" in res.output
    camps = json.loads((out / "campaigns.json").read_text())
    hit = [c for c in camps if c.get("attribution")]
    assert hit and hit[0]["attribution"][0]["actor"] == "ACTOR-TEST"
    assert hit[0]["attribution"][0]["evidence"][0]["n_accounts"] >= 2
    html = (out / "report.html").read_text()
    assert "ACTOR-TEST" in html and "<section class='campaign'" in html
    bad = tmp_path / "bad.yaml"
    bad.write_text("actors: 3\n")
    res = CliRunner().invoke(app, ["scan", "--input", str(tiny_world), "--output", str(out),
                                   "--watchlist", str(bad)])
    assert res.exit_code == 4


def test_evaluate_reports_what_linking_added(proxy_scan, tmp_path: Path) -> None:
    from distillguard.pipeline import write_outputs
    from distillguard.scoring.evaluate import evaluate_scan

    result, world = proxy_scan
    write_outputs(result, tmp_path)
    m = evaluate_scan(world, tmp_path, baselines=False)
    assert {"distillguard", "part1_only"} <= set(m["detectors"])
    link = m["linking"]
    (camp,) = link["campaigns"]
    assert camp["accounts"] == 26 and camp["low_slow"] == 6
    assert camp["recall"] >= camp["recall_part1"]
    assert link["resold"] == {"accounts": 6, "fpr_part1": 0.0, "fpr": 0.0}
