"""Statistical realism of simulated worlds: the properties detectors will be judged on."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from distillguard.sim.corpora import load_pools
from distillguard.sim.infra import COUNTRY_TZ

DAY_US = 86_400_000_000


def _local_hour(df: pl.DataFrame) -> pl.Series:
    tz = df["country"].replace_strict(COUNTRY_TZ, default=0.0, return_dtype=pl.Float64)
    h = df["ts"].dt.hour().cast(pl.Float64) + df["ts"].dt.minute().cast(pl.Float64) / 60
    return ((h + tz) % 24).floor()


def test_humans_follow_a_daily_rhythm_and_dedicated_harvesters_do_not(world_frames: dict[str, pl.DataFrame]) -> None:
    j = world_frames["joined"].join(world_frames["accounts"].select("account_id", "country"), on="account_id")

    def night_over_day(persona: str) -> float:
        h = _local_hour(j.filter(pl.col("persona") == persona))
        night = h.is_between(2, 5).sum() / 4
        day = h.is_between(13, 16).sum() / 4
        return float(night / max(day, 1))

    assert night_over_day("casual_chat") < 0.25
    assert night_over_day("education") < 0.3
    assert night_over_day("hydra_dedicated") > 0.4


def test_proxy_accounts_mix_attack_and_resold_honest_traffic(world_frames: dict[str, pl.DataFrame]) -> None:
    j = world_frames["joined"]
    share = j.group_by("account_id", "persona").agg(
        (pl.col("source") == "attack").mean().alias("attack"), pl.len().alias("n")
    ).filter(pl.col("n") >= 20)
    mixed = share.filter(pl.col("persona") == "hydra_mixed")["attack"]
    assert mixed.len() >= 5
    assert 0.3 < mixed.median() < 0.8
    assert mixed.min() > 0.05 and mixed.max() < 0.99
    assert share.filter(pl.col("persona") == "resold_customer")["attack"].max() == 0.0
    assert share.filter(pl.col("persona") == "hydra_dedicated")["attack"].min() == 1.0
    # honest resold customers really share the reseller's infrastructure
    attack_ips = set(j.filter(pl.col("label") == "distillation")["client_ip"].unique())
    resold = j.filter(pl.col("persona") == "resold_customer").group_by("account_id").agg(
        pl.col("client_ip").is_in(list(attack_ips)).any().alias("shares")
    )
    assert resold["shares"].mean() > 0.5


def test_big_campaign_pivots_to_the_new_model_within_a_day(world_frames: dict[str, pl.DataFrame]) -> None:
    ev = world_frames["joined"]
    rel = world_frames["releases"].sort("released_at")[-1]
    new, t_rel = rel["model"][0], rel["released_at"][0]

    def new_share(persona_or_campaign: pl.Expr, lo_h: float, hi_h: float) -> float:
        w = ev.filter(persona_or_campaign).filter(
            (pl.col("ts") >= t_rel + pl.duration(hours=lo_h)) & (pl.col("ts") < t_rel + pl.duration(hours=hi_h))
        )
        return float((w["model"] == new).mean())

    sweep = (pl.col("campaign") == "capability-sweep") & (pl.col("source") == "attack")
    assert new_share(sweep, -72, 0) == 0.0
    assert new_share(sweep, 0, 24) > 0.3
    assert 0.4 < new_share(sweep, 24, 96) < 0.8
    casual = new_share(pl.col("persona") == "casual_chat", 0, 24)
    assert casual < 0.1
    # ... while benchmark evaluators legitimately jump on it too (a hard negative)
    assert new_share(pl.col("persona") == "benchmark_eval", 0, 48) > max(0.1, 2 * casual)


def test_attacker_infrastructure_overlaps_across_labs_but_accounts_do_not(labs3: Path) -> None:
    labs = sorted(p for p in labs3.iterdir() if p.is_dir())
    assert len(labs) == 3
    frames = {}
    for p in labs:
        ev = pl.read_parquet(p / "events.parquet", columns=["account_id", "client_ip", "tls_fingerprint", "user_agent"])
        lab = pl.read_parquet(p / "labels.parquet")
        acc = pl.read_parquet(p / "accounts.parquet")
        frames[p.name] = (ev.join(lab, on="account_id"), acc.join(lab, on="account_id"))
    ids = [set(f[1]["account_id"]) for f in frames.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])

    def blocks(df: pl.DataFrame) -> set[str]:
        v4 = df.filter(~pl.col("client_ip").str.contains(":"))
        return set(v4["client_ip"].str.replace(r"\.\d+$", "").unique())

    names = list(frames)
    for camp in ("capability-sweep", "agentic-harvest"):
        att = [blocks(frames[n][0].filter(pl.col("campaign") == camp)) for n in names]
        present = [a for a in att if a]
        assert len(present) >= 2
        assert len(present[0] & present[1]) >= 3, camp
    # benign residential users of different labs hardly ever share a /24
    ben = [blocks(frames[n][0].filter(pl.col("persona") == "casual_chat")) for n in names]
    att_all = [blocks(frames[n][0].filter(pl.col("label") == "distillation")) for n in names]
    j_ben = len(ben[0] & ben[1]) / max(1, len(ben[0] | ben[1]))
    j_att = len(att_all[0] & att_all[1]) / max(1, len(att_all[0] | att_all[1]))
    assert j_att > 5 * j_ben
    # the same client stacks show up in every lab the operation hits
    ja4 = [set(frames[n][0].filter(pl.col("label") == "distillation")["tls_fingerprint"]) for n in names]
    assert ja4[0] & ja4[1] & ja4[2]
    # cards from the same virtual-card ranges (BIN) at several labs
    bins = [set(frames[n][1].filter(pl.col("label") == "distillation")["payment_fingerprint"].drop_nulls().str.slice(0, 6)) for n in names]
    assert bins[0] & bins[1]


def test_no_prompt_is_shared_across_populations_except_public_problem_sets(world_frames: dict[str, pl.DataFrame]) -> None:
    j = world_frames["joined"].filter(pl.col("prompt").is_not_null())
    attack = set(j.filter(pl.col("source") == "attack")["prompt"].unique())
    benign = set(j.filter(pl.col("source") == "benign")["prompt"].unique())
    shared = attack & benign
    pools = load_pools()
    public = set(pools.text["humaneval_pub"].to_pylist()) | set(pools.text["rg_pub"].to_pylist()) | set(
        pools.text["tools_pub"].to_pylist())
    assert shared <= public, list(shared - public)[:3]


def test_no_single_field_value_separates_attackers(world_frames: dict[str, pl.DataFrame]) -> None:
    """For every metadata field, no value seen only on distillation accounts covers even a
    third of them (infrastructure is shared with or mimics honest users)."""
    j = world_frames["joined"]
    acc = world_frames["accounts"].join(world_frames["labels"], on="account_id")
    n_att = acc.filter(pl.col("label") == "distillation").height
    ev_fields = ["user_agent", "tls_fingerprint", "asn", "model", "max_tokens", "temperature", "system_prompt", "n_tools"]
    acc_fields = ["email_domain", "country", "tier"]
    checks = [(j, f) for f in ev_fields] + [(acc, f) for f in acc_fields]
    for df, f in checks:
        per = df.select("account_id", "label", f).unique().drop_nulls(f)
        v = per.group_by(f).agg(
            (pl.col("label") == "distillation").sum().alias("att"), (pl.col("label") == "benign").sum().alias("ben")
        )
        only = v.filter(pl.col("ben") == 0)
        worst = only["att"].max() if only.height else 0
        assert (worst or 0) < n_att / 3, (f, only.sort("att")[-1])


def test_labs_see_the_same_operation_at_different_times_and_volumes(labs3: Path) -> None:
    start = None
    seen = {}
    for p in sorted(x for x in labs3.iterdir() if x.is_dir()):
        ev = pl.read_parquet(p / "events.parquet", columns=["account_id", "ts", "prompt"])
        lab = pl.read_parquet(p / "labels.parquet")
        j = ev.join(lab, on="account_id").filter(pl.col("campaign") == "capability-sweep")
        start = ev["ts"].min() if start is None else min(start, ev["ts"].min())
        seen[p.name] = j
    early, late, slow = seen["lab-aurora"], seen["lab-corvid"], seen["lab-lumen"]
    assert early.height > late.height > slow.height > 0
    assert (late["ts"].min() - start).total_seconds() > 9 * 86_400
    assert set(slow["persona"].unique()) == {"low_and_slow"}
    # the same template families: instruction lines recur across labs
    def lines(df: pl.DataFrame) -> set[str]:
        return set(df["prompt"].drop_nulls().str.split("\n").list.first().str.slice(0, 60))

    a, b = lines(early), lines(late)
    assert len(a & b) / len(b) > 0.1


def test_no_single_account_aggregate_separates_attackers(world_frames: dict[str, pl.DataFrame]) -> None:
    """Volume, output length, max_tokens, tool use, IP spread, ... each overlap: a detector
    has to combine evidence, as in production."""
    from sklearn.metrics import roc_auc_score

    ev = world_frames["events"]
    f = ev.group_by("account_id").agg(
        pl.len().alias("events"),
        pl.col("output_tokens").mean().alias("mean_output"),
        pl.col("max_tokens").fill_null(0).mean().alias("mean_max_tokens"),
        (pl.col("output_tokens").sum() / pl.col("input_tokens").sum().clip(1)).alias("out_in_ratio"),
        pl.col("client_ip").n_unique().alias("ips"),
        pl.col("user_agent").n_unique().alias("user_agents"),
        (pl.col("n_tools") > 0).mean().alias("tool_share"),
        pl.col("n_messages").mean().alias("mean_messages"),
        pl.col("temperature").is_null().mean().alias("no_temperature"),
        pl.col("ts").dt.hour().std().alias("hour_spread"),
        (pl.col("prompt").n_unique() / pl.len()).alias("unique_prompts"),
    ).join(world_frames["labels"], on="account_id")
    y = (f["label"] == "distillation").to_numpy()
    for c in f.columns:
        if c in ("account_id", "label", "campaign", "actor", "persona"):
            continue
        auc = roc_auc_score(y, f[c].fill_null(0).to_numpy())
        assert max(auc, 1 - auc) < 0.95, c


def test_low_and_slow_accounts_stay_under_rate_limits(world_frames: dict[str, pl.DataFrame]) -> None:
    j = world_frames["joined"]
    slow = j.filter(pl.col("persona") == "low_and_slow")
    assert slow.height > 0
    assert (slow["status"] == 429).sum() == 0
    per_day = slow.group_by("account_id", pl.col("ts").dt.date()).len()["len"]
    assert per_day.max() <= 25 and per_day.median() <= 6
    # while bursty dedicated accounts send far more per account-day
    ded = j.filter(pl.col("persona") == "hydra_dedicated").group_by("account_id", pl.col("ts").dt.date()).len()["len"]
    assert ded.median() > 2 * per_day.median()


def test_sign_up_bursts_for_resellers_and_for_classes_not_for_the_public(world_frames: dict[str, pl.DataFrame]) -> None:
    acc = world_frames["accounts"].join(world_frames["labels"], on="account_id").sort("created_at")
    t = acc["created_at"].dt.epoch("s").to_numpy()
    import numpy as np

    # accounts created within 30 minutes of at least two other accounts
    lo = np.searchsorted(t, t - 1800)
    hi = np.searchsorted(t, t + 1800, side="right")
    acc = acc.with_columns(pl.Series("burst", (hi - lo) >= 3))
    share = dict(acc.group_by("persona").agg(pl.col("burst").mean()).iter_rows())
    assert share["casual_chat"] < 0.1
    assert share["hydra_dedicated"] > max(0.25, 4 * share["casual_chat"])
    assert share["education"] > 2 * share["casual_chat"]  # a class signing up together
