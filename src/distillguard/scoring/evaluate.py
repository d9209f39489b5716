"""Measure scan verdicts (and the baselines) against a world's labels. Evaluation only.

Metrics (account level): ROC-AUC; TPR at FPR 0.1% (threshold set on the labelled benign
scores -- an oracle operating point, to compare rankings); TPR/FPR at the scan's own
label-free ``flagged`` point; FPR per benign persona and recall per campaign at that point.
Run: ``distillguard evaluate --world DIR --scan OUT`` or
``python -m distillguard.scoring.evaluate DIR OUT``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from distillguard.ingest import open_dataset, read_table

if TYPE_CHECKING:
    from rich.console import Console


def _read_labels(world: Path) -> pl.DataFrame:
    ds = open_dataset(world)
    f = ds.file("labels")
    if f is None:
        from distillguard.errors import IngestError

        raise IngestError("no labels.* file: cannot evaluate", path=world)
    if f.format == "parquet":  # keep extra columns (persona) the canonical reader drops
        lab = pl.concat([pl.read_parquet(p) for p in f.parts], how="diagonal_relaxed")
    else:
        lab = pl.read_ndjson(f.path)
    if "persona" not in lab.columns:
        lab = lab.with_columns(pl.lit(None, dtype=pl.String).alias("persona"))
    return lab.with_columns(
        pl.when(pl.col("label") == "benign")
        .then(pl.col("persona").fill_null("benign"))
        .otherwise(pl.col("persona")).alias("persona"))


def metrics_for(scores: pl.DataFrame, labels: pl.DataFrame, fpr_target: float = 0.001
                ) -> dict[str, Any]:
    """Metrics of one detector: ``scores`` has ``account_id, score, flagged``."""
    from sklearn.metrics import roc_auc_score

    df = labels.join(scores.select("account_id", "score", "flagged"), on="account_id",
                     how="left").with_columns(pl.col("score").fill_null(0.0),
                                              pl.col("flagged").fill_null(False))
    y = (df.get_column("label") == "distillation").to_numpy()
    s = df.get_column("score").to_numpy().astype(float)
    fl = df.get_column("flagged").to_numpy().astype(bool)
    out: dict[str, Any] = {"n_accounts": int(len(y)), "n_positive": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = float(roc_auc_score(y, s))
        neg = np.sort(s[~y])
        k = int(np.floor(fpr_target * len(neg)))  # benign allowed above the threshold
        thr = neg[len(neg) - k - 1] if k < len(neg) else -np.inf
        out["tpr_at_fpr_0.1%"] = float(np.mean(s[y] > thr))
    out["tpr_at_flag"] = float(fl[y].mean()) if y.any() else None
    out["fpr_at_flag"] = float(fl[~y].mean()) if (~y).any() else None
    out["n_flagged"] = int(fl.sum())
    per_persona = (df.filter(pl.col("label") == "benign").group_by("persona")
                   .agg(pl.len().alias("n"), pl.col("flagged").mean().alias("fpr"))
                   .sort("persona"))
    out["fpr_by_persona"] = {r["persona"]: {"n": r["n"], "fpr": r["fpr"]}
                             for r in per_persona.iter_rows(named=True)}
    per_camp = (df.filter(pl.col("label") == "distillation").group_by("campaign")
                .agg(pl.len().alias("n"), pl.col("flagged").mean().alias("recall"))
                .sort("campaign"))
    out["recall_by_campaign"] = {str(r["campaign"]): {"n": r["n"], "recall": r["recall"]}
                                 for r in per_camp.iter_rows(named=True)}
    return out


def evaluate_scan(world: str | Path, scan_dir: str | Path, *, baselines: bool = True
                  ) -> dict[str, Any]:
    world, scan_dir = Path(world), Path(scan_dir)
    labels = _read_labels(world)
    scan = pl.read_csv(scan_dir / "accounts.csv", schema_overrides={"account_id": pl.String})
    result: dict[str, Any] = {"world": str(world), "detectors": {}}
    result["detectors"]["distillguard"] = metrics_for(scan, labels)
    if {"score_part1", "flagged_part1"} <= set(scan.columns):
        # the same scan before account linking: what the graph stage added
        part1 = scan.select("account_id", pl.col("score_part1").alias("score"),
                            pl.col("flagged_part1").alias("flagged"))
        result["detectors"]["part1_only"] = metrics_for(part1, labels)
        result["linking"] = linking_metrics(world, scan, labels)
    if baselines:
        from distillguard.baselines import prada_scores, rate_limit_scores

        ds = open_dataset(world)
        accounts = pl.from_arrow(read_table(ds, "accounts", columns=["account_id", "tier"]))
        ev = pl.from_arrow(read_table(ds, "events", columns=["account_id", "ts", "prompt"]))
        assert isinstance(accounts, pl.DataFrame) and isinstance(ev, pl.DataFrame)
        result["detectors"]["rate_limit"] = metrics_for(rate_limit_scores(ev, accounts), labels)
        result["detectors"]["prada"] = metrics_for(prada_scores(ev, accounts), labels)
    return result


def linking_metrics(world: Path, scan: pl.DataFrame, labels: pl.DataFrame) -> dict[str, Any]:
    """Issue-5 numbers for a linked scan, with the graph package's own definitions
    (:func:`distillguard.graph.evaluate.metrics`): per campaign recall before/after linking
    (overall and low-and-slow), purity (share of a campaign's flagged accounts in clusters
    whose flagged members are >= 90% that campaign), resold-customer FPR."""
    from distillguard.graph.evaluate import low_slow_mask, metrics

    ev = pl.DataFrame(schema={"account_id": pl.String})
    if "persona" not in labels.columns or not labels.get_column("persona").cast(pl.String) \
            .str.contains("(?i)slow").any():  # low-and-slow by volume needs the events
        loaded = pl.from_arrow(read_table(open_dataset(world), "events", columns=["account_id"]))
        assert isinstance(loaded, pl.DataFrame)
        ev = loaded
    acc = scan.select(
        "account_id",
        pl.when(pl.col("cluster_id").cast(pl.String).fill_null("") != "")
        .then(pl.col("cluster_id").cast(pl.String)).alias("cluster_id"),
        pl.col("flagged").cast(pl.Boolean), pl.col("flagged_part1").cast(pl.Boolean)
        .alias("part1_flagged"),
    )
    return metrics(acc, labels, low_slow_mask(labels, ev), "(?i)resold")


def render_metrics(metrics: dict[str, Any], console: Console) -> None:
    from rich.table import Table

    t = Table(title=f"Evaluation on {metrics['world']}", title_justify="left")
    for c in ("detector", "ROC-AUC", "TPR@FPR0.1%", "TPR@flag", "FPR@flag", "flagged",
              "worst persona FPR", "min campaign recall"):
        t.add_column(c)

    def f(x: Any) -> str:
        return "-" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)

    for name, m in metrics["detectors"].items():
        pp = m["fpr_by_persona"]
        worst = max(pp.items(), key=lambda kv: kv[1]["fpr"], default=(None, {"fpr": None}))
        camp = min(m["recall_by_campaign"].items(), key=lambda kv: kv[1]["recall"],
                   default=(None, {"recall": None}))
        t.add_row(name, f(m.get("roc_auc")), f(m.get("tpr_at_fpr_0.1%")), f(m["tpr_at_flag"]),
                  f(m["fpr_at_flag"]), f(m["n_flagged"]),
                  f"{worst[0]}: {f(worst[1]['fpr'])}", f"{camp[0]}: {f(camp[1]['recall'])}")
    console.print(t)
    d = metrics["detectors"]["distillguard"]
    pt = Table(title="distillguard per persona / campaign", title_justify="left")
    pt.add_column("group")
    pt.add_column("n")
    pt.add_column("FPR / recall")
    for p, v in d["fpr_by_persona"].items():
        pt.add_row(f"benign: {p}", str(v["n"]), f(v["fpr"]))
    for c, v in d["recall_by_campaign"].items():
        pt.add_row(f"campaign: {c}", str(v["n"]), f(v["recall"]))
    console.print(pt)
    link = metrics.get("linking")
    if link:
        lt = Table(title="account linking (part 1 -> linked)", title_justify="left")
        for c in ("campaign", "accounts", "recall", "low-and-slow recall", "purity",
                  "clusters"):
            lt.add_column(c)
        for c in link["campaigns"]:
            lt.add_row(c["campaign"], str(c["accounts"]),
                       f"{f(c['recall_part1'])} -> {f(c['recall'])}",
                       f"{f(c['low_slow_recall_part1'])} -> {f(c['low_slow_recall'])}"
                       f" (n={c['low_slow']})", f(c["purity"]), str(c["n_clusters"]))
        rs = link.get("resold") or {}
        if rs.get("accounts"):
            lt.add_row("resold customers (FPR)", str(rs["accounts"]),
                       f"{f(rs['fpr_part1'])} -> {f(rs['fpr'])}", "", "", "")
        console.print(lt)


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(evaluate_scan(sys.argv[1], sys.argv[2]), indent=2, default=str))
