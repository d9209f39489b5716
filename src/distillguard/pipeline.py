"""``run_scan``: wires ingest -> enrich (stage 1) -> aggregate (stage 2) -> score (stage 3)
-> link (graph seam) -> outputs. No detection logic lives here.

Stage 1 (:func:`distillguard.enrich.enrich_frame`) is a pure function per Arrow batch;
stage 2 is group-bys over the concatenated narrow frame (no prompt text, a few dozen bytes
per event); stage 3 works on one row per account. On Spark, stage 1 is a ``mapInArrow``
and stage 2 the same aggregations in SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from distillguard.aggregate.features import account_features, reduce_sample
from distillguard.aggregate.templates import TemplateConfig, family_label, resolve_templates
from distillguard.enrich import INPUT_COLUMNS, enrich_frame
from distillguard.ingest import ValidationReport, iter_event_batches, open_dataset, read_table
from distillguard.scoring import Calibration, reasons, score_accounts
from distillguard.signals.registry import DetectionConfig, load_config

BATCH_ROWS = 200_000
SAMPLE_MERGE_EVERY = 4


@dataclass
class ScanResult:
    """Everything a scan produced; ``write_outputs`` turns it into files."""

    accounts: pl.DataFrame  # account_id, score, flagged, cluster_id, reasons, + features
    campaigns: list[dict[str, Any]]
    events: pl.DataFrame  # stage-1 narrow enriched frame (with template_id)
    families: pl.DataFrame
    samples: pl.DataFrame  # classified content sample (prompt text, truncated)
    releases: pl.DataFrame
    calibration: Calibration
    report: ValidationReport
    config: DetectionConfig
    timings: dict[str, float] = field(default_factory=dict)
    n_events: int = 0


def _read_events(ds: Any, report: ValidationReport, quarantine: Path | None, strict: bool,
                 known: pa.Array, on_rows: Callable[[int], None] | None,
                 timings: dict[str, float] | None = None,
                 ) -> tuple[pl.DataFrame, pl.DataFrame]:
    narrow: list[pl.DataFrame] = []
    samples: list[pl.DataFrame] = []
    spent = 0.0
    for batch in iter_event_batches(ds, columns=list(INPUT_COLUMNS), batch_rows=BATCH_ROWS,
                                    report=report, quarantine=quarantine, strict=strict,
                                    known_accounts=known):
        t0 = time.perf_counter()
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        n, s = enrich_frame(df)
        spent += time.perf_counter() - t0
        narrow.append(n)
        samples.append(s)
        if len(samples) >= SAMPLE_MERGE_EVERY:  # running bottom-k keeps the sample bounded
            samples = [reduce_sample(pl.concat(samples))]
        if on_rows is not None:
            on_rows(batch.num_rows)
    if timings is not None:
        timings["enrich"] = spent
    if not narrow:
        n, s = enrich_frame(pl.DataFrame(schema={"event_id": pl.String()}))
        return n, s
    return pl.concat(narrow, rechunk=False), reduce_sample(pl.concat(samples))


def link_stage(events: pl.DataFrame, accounts: pl.DataFrame, scored: pl.DataFrame
               ) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """THE graph seam: account linking after part-1 scoring.

    Input: the stage-1 ``events`` frame, canonical ``accounts``, and ``scored`` (at least
    ``account_id, score, flagged`` plus ``top_template``). Output: ``scored`` with
    ``cluster_id`` (and possibly updated ``score``/``flagged``), and campaign dicts.

    For now a simple grouping: flagged accounts whose dominant template family is the same
    form one cluster (a campaign stub). ``distillguard.graph.link_accounts`` replaces this.
    """
    flagged = scored.filter(pl.col("flagged") & pl.col("top_template").is_not_null())
    groups = (
        flagged.group_by("top_template")
        .agg(pl.col("account_id"), pl.col("score").mean().alias("group_score"))
        .filter(pl.col("account_id").list.len() >= 2)
        .sort("group_score", "top_template", descending=[True, False])
    )
    cid = groups.select(
        pl.col("account_id"),
        pl.col("top_template").map_elements(lambda t: f"C-{family_label(t)}",
                                            return_dtype=pl.String).alias("cluster_id"),
    ).explode("account_id")
    out = scored.join(cid, on="account_id", how="left").with_columns(
        pl.col("cluster_id").fill_null("")
    )
    campaigns: list[dict[str, Any]] = []
    if groups.height:
        stats = (
            events.join(cid, on="account_id", how="inner")
            .group_by("cluster_id")
            .agg(pl.col("ts").min().alias("first_seen"), pl.col("ts").max().alias("last_seen"),
                 pl.len().alias("n_events"), pl.col("output_tokens").sum().alias("tokens"),
                 pl.col("model").cast(pl.String).value_counts(sort=True).first()
                 .struct.field("model").alias("top_model"))
        )
        for g in groups.iter_rows(named=True):
            c = f"C-{family_label(g['top_template'])}"
            st = stats.filter(pl.col("cluster_id") == c).row(0, named=True)
            accts = sorted(g["account_id"])
            campaigns.append({
                "campaign_id": c,
                "accounts": accts,
                "first_seen": st["first_seen"].isoformat(),
                "last_seen": st["last_seen"].isoformat(),
                "n_events": int(st["n_events"]),
                "score": round(float(g["group_score"]), 6),
                "summary": (f"{len(accts)} flagged accounts sharing template family "
                            f"{family_label(g['top_template'])}; {st['n_events']:,} requests, "
                            f"{st['tokens']:,} output tokens harvested, mostly {st['top_model']}"),
                "template_family": family_label(g["top_template"]),
                "output_tokens": int(st["tokens"]),
                "top_model": st["top_model"],
            })
    return out, campaigns


def run_scan(
    input_dir: str | Path,
    *,
    config: DetectionConfig | None = None,
    config_path: str | Path | None = None,
    strict: bool = False,
    quarantine: str | Path | None = None,
    on_rows: Callable[[int], None] | None = None,
    template_config: TemplateConfig | None = None,
) -> ScanResult:
    """Scan one dataset directory. Never reads ``labels.*``."""
    cfg = config or load_config(config_path)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    ds = open_dataset(input_dir)
    report = ValidationReport()
    q = Path(quarantine) if quarantine is not None else None
    if q is not None:
        q.mkdir(parents=True, exist_ok=True)
    acc_tbl = read_table(ds, "accounts", report=report, quarantine=q, strict=strict)
    rel_tbl = read_table(ds, "releases", report=report, quarantine=q, strict=strict)
    accounts = pl.from_arrow(acc_tbl)
    releases = pl.from_arrow(rel_tbl)
    assert isinstance(accounts, pl.DataFrame) and isinstance(releases, pl.DataFrame)
    t["read_small_tables"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    narrow, sample = _read_events(ds, report, q, strict, acc_tbl.column("account_id"), on_rows,
                                  t)
    t["ingest"] = time.perf_counter() - t1 - t["enrich"]

    t2 = time.perf_counter()
    ev_lazy, families = resolve_templates(narrow.lazy(), template_config)
    events = ev_lazy.collect()
    t["templates"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    features, samples = account_features(events.lazy(), families, sample, accounts, releases)
    t["features"] = time.perf_counter() - t3

    t4 = time.perf_counter()
    scored, cal = score_accounts(features, cfg)
    merged = pl.concat([features, scored.drop("account_id")], how="horizontal")
    linked, campaigns = link_stage(events, accounts, merged)
    why = reasons(linked, linked, cfg, only=pl.col("score").ge(0.2).or_(pl.col("flagged"))
                  .pipe(lambda e: linked.select(e).to_series()))
    linked = linked.with_columns(why)
    t["score+link"] = time.perf_counter() - t4
    t["total"] = time.perf_counter() - t0
    return ScanResult(linked, campaigns, events, families, samples, releases, cal, report,
                      cfg, t, events.height)


#: Columns written first in accounts.csv (the contract), then features.
LEAD_COLUMNS = ("account_id", "score", "flagged", "cluster_id", "reasons")


def write_outputs(result: ScanResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``accounts.csv``, ``campaigns.json`` and ``report.html`` into ``out_dir``."""
    import orjson

    from distillguard.report import render_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    acc = result.accounts
    extra = [c for c, d in acc.schema.items() if c not in LEAD_COLUMNS
             and (d.is_numeric() or d.is_temporal() or d in (pl.String(), pl.Boolean()))]
    table = (
        acc.select(*LEAD_COLUMNS, *extra)
        .with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"))
        .with_columns(pl.col(pl.Float64).round(6))
        .sort("score", "account_id", descending=[True, False])
    )
    paths = {"accounts": out / "accounts.csv", "campaigns": out / "campaigns.json",
             "report": out / "report.html"}
    table.write_csv(paths["accounts"])
    paths["campaigns"].write_bytes(orjson.dumps(result.campaigns, option=orjson.OPT_INDENT_2))
    paths["report"].write_text(render_report(result), encoding="utf-8")
    return paths


def score_summary(result: ScanResult) -> dict[str, Any]:
    acc = result.accounts
    return {
        "accounts": acc.height,
        "flagged": int(acc.get_column("flagged").sum()),
        "events": result.n_events,
        "quarantined_rows": result.report.n_bad,
        "campaigns": len(result.campaigns),
        "threshold_raw": result.calibration.threshold,
        "estimated_flag_rate": result.calibration.estimated_flag_rate,
        "score_p99": float(np.quantile(acc.get_column("score").to_numpy(), 0.99))
        if acc.height else 0.0,
    }
