"""One call for the scan pipeline: link, propagate, and build campaigns.

``pipeline.link_stage`` can be replaced by::

    from distillguard.graph.integrate import apply_linking
    scored, campaigns, link = apply_linking(events, accounts, scored, releases)

``scored`` keeps every column it had; ``score``, ``flagged`` and ``cluster_id`` are replaced
by the linked values, ``reasons`` gets the linking sentence appended where linking changed
the verdict, and ``part1_score`` / ``part1_flagged`` / ``link_reasons`` are added so the
report can show what linking added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from distillguard.graph.campaigns import summarize_campaigns
from distillguard.graph.link import GraphConfig, LinkResult, link_accounts


def apply_linking(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    scored: pl.DataFrame,
    releases: pl.DataFrame | None = None,
    *,
    config: GraphConfig | None = None,
    watchlist: Path | None = None,
    price_table: dict[str, Any] | Path | str | None = None,
) -> tuple[pl.DataFrame, list[dict[str, Any]], LinkResult]:
    """Return (scored with linked verdicts, campaigns.json items, the LinkResult)."""
    res = link_accounts(
        events,
        accounts,
        scored.select("account_id", "score", "flagged"),
        config=config,
        watchlist=watchlist,
    )
    camps = summarize_campaigns(res, events, accounts, releases, price_table=price_table)
    linked = res.accounts.select(
        "account_id",
        pl.col("cluster_id").alias("_cid"),
        pl.col("score").alias("_score"),
        pl.col("flagged").alias("_flagged"),
        "link_reasons",
    )
    out = scored.join(linked, on="account_id", how="left", maintain_order="left")
    raised = pl.col("_flagged").fill_null(False) & ~pl.col("flagged")
    reasons = (
        pl.when(raised)
        .then(
            pl.concat_str(
                [pl.col("reasons").fill_null(""), pl.lit("linked: "), pl.col("link_reasons")],
                separator="",
            )
        )
        .otherwise(pl.col("reasons"))
        if "reasons" in scored.columns
        else pl.when(raised).then(pl.col("link_reasons")).otherwise(pl.lit(""))
    )
    out = out.with_columns(
        pl.col("score").alias("part1_score"),
        pl.col("flagged").alias("part1_flagged"),
        reasons.alias("reasons"),
    ).with_columns(
        pl.coalesce("_score", "score").alias("score"),
        (pl.col("_flagged").fill_null(False) | pl.col("flagged")).alias("flagged"),
        pl.col("_cid").fill_null("").alias("cluster_id"),
        pl.col("link_reasons").fill_null(""),
    )
    return out.drop("_cid", "_score", "_flagged"), camps, res
