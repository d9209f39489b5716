"""Evaluate linking on a simulated world (labels are read HERE ONLY, never when scoring).

    python -m distillguard.graph.evaluate --world DIR [--scores OUT/accounts.csv] [--json F]

Metrics (issue 5):

* **purity** per campaign: share of its flagged accounts that sit in clusters whose flagged
  members are >= 90% that campaign (flagged accounts in no cluster count as impure);
* **recall** per campaign: share of its accounts flagged after linking, overall and for its
  low-and-slow accounts (persona containing ``slow`` if labels carry a persona, else the
  campaign's accounts in the bottom fifth by event count);
* **resold FPR**: share of benign accounts whose persona names them resold / proxy customers
  that are flagged after linking; plus FPR per benign persona and overall.

Part-1 scores: ``--scores`` reads the scan's ``accounts.csv``. Without it a *stand-in* is
drawn from the labels (evaluation only, printed as such): non-low-and-slow campaign accounts
are detected with probability ``--part1-tpr`` (score U(0.7, 1)), everything else gets
U(0, 0.4) and benign accounts a ``--part1-fpr`` false-positive rate. This measures what
linking adds on top of a part 1 of that quality.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

import numpy as np
import polars as pl

EVENT_COLS = (
    "account_id",
    "ts",
    "model",
    "client_ip",
    "asn",
    "user_agent",
    "tls_fingerprint",
    "input_tokens",
    "output_tokens",
    "template_id",
    "system_prompt_hash",
    "capability",
)


def _read(world: Path, stem: str) -> pl.LazyFrame | None:
    for suf, fn in (
        (".parquet", pl.scan_parquet),
        (".jsonl", pl.scan_ndjson),
        (".jsonl.gz", pl.scan_ndjson),
    ):
        p = world / f"{stem}{suf}"
        if p.exists():
            return fn(p)
    return None


def load_world(world: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None, pl.DataFrame]:
    """Narrow events frame (+ crude template hash from prompt text), accounts, releases, labels."""
    ev = _read(world, "events")
    if ev is None:
        raise SystemExit(f"{world}: no events file")
    names = ev.collect_schema().names()
    cols = [c for c in EVENT_COLS if c in names]
    exprs: list[pl.Expr] = [pl.col(c) for c in cols]
    if "template_id" not in names and "prompt" in names:
        # eval-only crude template family: lower case, digits folded, first 48 chars
        exprs.append(
            pl.col("prompt")
            .str.to_lowercase()
            .str.replace_all(r"\d+", "0")
            .str.replace_all(r"\s+", " ")
            .str.slice(0, 48)
            .hash(seed=5)
            .cast(pl.String())
            .alias("template_id")
        )
    if "system_prompt_hash" not in names and "system_prompt" in names:
        exprs.append(
            pl.col("system_prompt").hash(seed=7).cast(pl.String()).alias("system_prompt_hash")
        )
    events = ev.select(exprs).collect()
    if events.schema["ts"] == pl.String():
        events = events.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))
    acc = _read(world, "accounts")
    rel = _read(world, "releases")
    lab = _read(world, "labels")
    if acc is None or lab is None:
        raise SystemExit(f"{world}: needs accounts and labels")
    return events, acc.collect(), rel.collect() if rel is not None else None, lab.collect()


def _mean(s: pl.Series) -> float:
    """Mean of a bool/number column, 0.0 when empty (polars types ``mean()`` as any literal)."""
    return cast("float | None", s.mean()) or 0.0


def low_slow_mask(labels: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """account_id -> is_low_slow for campaign accounts (persona if present, else volume)."""
    camp = labels.filter(pl.col("label") == "distillation")
    if (
        "persona" in labels.columns
        and camp.get_column("persona").cast(pl.String()).str.contains("(?i)slow").any()
    ):
        return camp.select(
            "account_id",
            pl.col("persona")
            .cast(pl.String())
            .str.contains("(?i)slow")
            .fill_null(False)
            .alias("low_slow"),
        )
    n = events.group_by("account_id").agg(pl.len().alias("n"))
    c = camp.join(n, on="account_id", how="left").with_columns(pl.col("n").fill_null(0))
    return c.with_columns(
        (pl.col("n") <= pl.col("n").quantile(0.2).over("campaign")).alias("low_slow")
    ).select("account_id", "low_slow")


def standin_scores(
    labels: pl.DataFrame, ls: pl.DataFrame, tpr: float, fpr: float, seed: int
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    lab = labels.join(ls, on="account_id", how="left").with_columns(
        pl.col("low_slow").fill_null(False)
    )
    n = lab.height
    is_att = (lab.get_column("label") == "distillation").to_numpy()
    slow = lab.get_column("low_slow").to_numpy()
    det = np.where(is_att & ~slow, rng.random(n) < tpr, rng.random(n) < fpr)
    sc = np.where(det, rng.uniform(0.7, 1.0, n), rng.uniform(0.0, 0.4, n))
    return pl.DataFrame({"account_id": lab.get_column("account_id"), "score": sc, "flagged": det})


def metrics(
    acc: pl.DataFrame, labels: pl.DataFrame, ls: pl.DataFrame, resold_pattern: str
) -> dict[str, Any]:
    """acc: account_id, cluster_id, flagged, part1_flagged."""
    d = acc.join(labels, on="account_id", how="left").join(ls, on="account_id", how="left")
    d = d.with_columns(pl.col("low_slow").fill_null(False), pl.col("label").fill_null("benign"))
    fl = d.filter(pl.col("flagged") & pl.col("cluster_id").is_not_null())
    comp = (
        fl.group_by("cluster_id", "campaign")
        .agg(pl.len().alias("k"))
        .with_columns((pl.col("k") / pl.col("k").sum().over("cluster_id")).alias("frac"))
    )
    out: dict[str, Any] = {"campaigns": []}
    for camp in sorted(
        d.filter(pl.col("label") == "distillation")
        .get_column("campaign")
        .unique()
        .drop_nulls()
        .to_list()
    ):
        cd = d.filter(pl.col("campaign") == camp)
        cf = cd.filter(pl.col("flagged"))
        pure_clusters = comp.filter(
            (pl.col("campaign") == camp) & (pl.col("frac") >= 0.9)
        ).get_column("cluster_id")
        n_pure = cf.filter(pl.col("cluster_id").is_in(pure_clusters.implode())).height
        slow = cd.filter(pl.col("low_slow"))
        out["campaigns"].append(
            {
                "campaign": camp,
                "accounts": cd.height,
                "recall_part1": round(_mean(cd.get_column("part1_flagged")), 4),
                "recall": round(cf.height / max(1, cd.height), 4),
                "low_slow": slow.height,
                "low_slow_recall_part1": round(_mean(slow.get_column("part1_flagged")), 4)
                if slow.height
                else None,
                "low_slow_recall": round(_mean(slow.get_column("flagged")), 4)
                if slow.height
                else None,
                "purity": round(n_pure / max(1, cf.height), 4),
                "n_clusters": int(cf.get_column("cluster_id").n_unique()),
            }
        )
    ben = d.filter(pl.col("label") == "benign")
    per = []
    if "persona" in ben.columns:
        for p, g in sorted(ben.group_by("persona"), key=lambda t: str(t[0][0])):
            per.append(
                {
                    "persona": p[0],
                    "accounts": g.height,
                    "fpr_part1": round(_mean(g.get_column("part1_flagged")), 5),
                    "fpr": round(_mean(g.get_column("flagged")), 5),
                }
            )
        rs = ben.filter(pl.col("persona").cast(pl.String()).str.contains(resold_pattern))
        out["resold"] = {
            "accounts": rs.height,
            "fpr_part1": round(_mean(rs.get_column("part1_flagged")), 5)
            if rs.height
            else None,
            "fpr": round(_mean(rs.get_column("flagged")), 5) if rs.height else None,
        }
    out["benign_personas"] = per
    out["benign_fpr_part1"] = round(_mean(ben.get_column("part1_flagged")), 5)
    out["benign_fpr"] = round(_mean(ben.get_column("flagged")), 5)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--scores", type=Path, help="scan accounts.csv (part-1 scores)")
    ap.add_argument(
        "--scan",
        action="store_true",
        help="run the part-1 scan (distillguard.pipeline.run_scan) for the stage-1 "
        "events frame (template families) and part-1 scores",
    )
    ap.add_argument("--part1-tpr", type=float, default=0.8)
    ap.add_argument("--part1-fpr", type=float, default=0.001)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resold-pattern", default="(?i)resold|resale|proxy_customer|reseller")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    import time

    from distillguard.graph import link_accounts, summarize_campaigns

    events, accounts, releases, labels = load_world(a.world)
    ls = low_slow_mask(labels, events)
    if a.scan:
        from distillguard.pipeline import run_scan

        sr = run_scan(a.world)
        events = sr.events
        scores = sr.accounts.select("account_id", "score", "flagged")
        src = "distillguard scan (part 1)"
    elif a.scores:
        scores = pl.read_csv(a.scores, schema_overrides={"account_id": pl.String}).select(
            "account_id",
            "score",
            pl.col("flagged")
            .cast(pl.String)
            .str.to_lowercase()
            .is_in(["true", "1"])
            .alias("flagged"),
        )
        src = str(a.scores)
    else:
        scores = standin_scores(labels, ls, a.part1_tpr, a.part1_fpr, a.seed)
        src = f"stand-in (TPR {a.part1_tpr} on non-low-and-slow, FPR {a.part1_fpr})"
    t = time.perf_counter()
    res = link_accounts(events, accounts, scores)
    wall = time.perf_counter() - t
    camps = summarize_campaigns(res, events, accounts, releases)
    acc = res.accounts.join(
        scores.select("account_id", pl.col("flagged").alias("part1_flagged")),
        on="account_id",
        how="left",
    ).with_columns(pl.col("part1_flagged").fill_null(False))
    m = metrics(acc, labels, ls, a.resold_pattern)
    m.update(
        {
            "world": str(a.world),
            "part1": src,
            "events": events.height,
            "accounts": res.accounts.height,
            "link_wall_s": round(wall, 2),
            "timings": {k: round(v, 2) for k, v in res.timings.items()},
            "n_campaigns_reported": len(camps),
            "threshold": round(res.threshold, 4),
            "graph_edges": res.graph.n_edges if res.graph else 0,
        }
    )
    print(
        f"world {a.world}  events {events.height:,}  accounts {res.accounts.height:,}  part-1: {src}"
    )
    print(
        f"linking {wall:.1f}s {m['timings']}  edges {m['graph_edges']:,}  campaigns reported {len(camps)}"
    )
    print(
        f"{'campaign':<28}{'accts':>7}{'recall p1':>10}{'recall':>8}{'slow':>6}{'slow p1':>8}{'slow rec':>9}{'purity':>8}{'clusters':>9}"
    )
    for c in m["campaigns"]:
        print(
            f"{c['campaign']!s:<28}{c['accounts']:>7}{c['recall_part1']:>10.3f}{c['recall']:>8.3f}{c['low_slow']:>6}"
            f"{(c['low_slow_recall_part1'] or 0):>8.3f}{(c['low_slow_recall'] or 0):>9.3f}{c['purity']:>8.3f}{c['n_clusters']:>9}"
        )
    if "resold" in m:
        r = m["resold"]
        print(
            f"resold honest customers: {r['accounts']}  FPR part-1 {r['fpr_part1']}  FPR after linking {r['fpr']}"
        )
    for p in m["benign_personas"]:
        print(
            f"  benign {p['persona']!s:<26}{p['accounts']:>7}  FPR p1 {p['fpr_part1']:.4f}  after {p['fpr']:.4f}"
        )
    print(f"all benign FPR part-1 {m['benign_fpr_part1']:.4f} after linking {m['benign_fpr']:.4f}")
    if a.json:
        a.json.write_text(json.dumps(m, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
