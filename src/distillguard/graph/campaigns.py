"""Campaign summaries (``campaigns.json`` items) from linked clusters.

A campaign is a cluster with at least ``min_accounts`` flagged members after propagation.
Its ``accounts`` are those flagged members (the honest customers that merely share the
cluster's proxy pool stay out of it). Everything else is computed from the events of those
accounts: time span, volume, tokens harvested, models targeted and the pivot to a newly
released model, capability areas (when the scan's events frame carries ``capability``),
infrastructure, the list-price value of the outputs, and any watch-list attribution.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any, cast

import polars as pl
import yaml

from distillguard.errors import ConfigError
from distillguard.graph.link import Cluster, LinkResult


def load_price_table(path: Path | str | None = None) -> dict[str, Any]:
    """USD per 1M output tokens: ``{"default": float, "models": {key: float}}``.

    None loads the shipped, documented table (``graph/data/prices.yaml``).
    """
    try:
        if path is None:
            text = resources.files("distillguard.graph").joinpath("data/prices.yaml").read_text()
        else:
            text = Path(path).read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
        table = {
            "default": float(raw["default"]),
            "models": {str(k): float(v) for k, v in (raw.get("models") or {}).items()},
        }
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"price table {path or 'shipped'}: {exc}") from exc
    return table


def price_for(model: str, table: dict[str, Any]) -> float:
    """Exact name, else the longest key contained in the model name, else the default."""
    models: dict[str, float] = table["models"]
    if model in models:
        return models[model]
    hits = [k for k in models if k and k in model.lower()]
    return models[max(hits, key=len)] if hits else float(table["default"])


def _iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _release_pivots(ev: pl.DataFrame, releases: pl.DataFrame | None) -> list[dict[str, Any]]:
    """For each release inside the campaign's span: how fast and how much it moved to it."""
    if releases is None or releases.height == 0 or "model" not in ev.columns:
        return []
    out = []
    first, last = ev.get_column("ts").min(), ev.get_column("ts").max()
    for model, rel in releases.select("model", "released_at").iter_rows():
        if rel is None or first is None or not (first <= rel <= last):
            continue
        after = ev.filter(pl.col("ts") >= rel)
        if after.height == 0:
            continue
        on_new = after.filter(pl.col("model") == model)
        first_use = on_new.get_column("ts").min() if on_new.height else None
        day = after.filter(pl.col("ts") < rel + dt.timedelta(hours=24))
        out.append(
            {
                "model": model,
                "released_at": _iso(rel),
                "first_use_after_h": round((first_use - rel).total_seconds() / 3600, 2)
                if first_use is not None
                else None,
                "share_after_release": round(on_new.height / after.height, 4),
                "share_first_24h": round(
                    day.filter(pl.col("model") == model).height / day.height, 4
                )
                if day.height
                else None,
            }
        )
    return out


def summarize_campaigns(
    result: LinkResult,
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    releases: pl.DataFrame | None,
    *,
    price_table: dict[str, Any] | Path | str | None = None,
    min_accounts: int = 2,
) -> list[dict[str, Any]]:
    """Build ``campaigns.json`` items (contract fields plus the extras in the module doc)."""
    prices = price_table if isinstance(price_table, dict) else load_price_table(price_table)
    flagged = set(result.accounts.filter(pl.col("flagged")).get_column("account_id").to_list())
    camps: list[tuple[Cluster, list[str]]] = []
    for c in result.clusters:
        members = [a for a in c.accounts if a in flagged]
        if len(members) >= min_accounts:
            camps.append((c, members))
    if not camps:
        return []
    owner = pl.DataFrame(
        {
            "account_id": [a for _, m in camps for a in m],
            "campaign_id": [c.cluster_id for c, m in camps for _ in m],
        },
        schema={"account_id": pl.String(), "campaign_id": pl.String()},
    )
    cols = [
        c
        for c in (
            "account_id",
            "ts",
            "model",
            "client_ip",
            "asn",
            "user_agent",
            "input_tokens",
            "output_tokens",
            "capability",
        )
        if c in events.columns
    ]
    ev = (
        events.select(cols)
        .with_columns(pl.col("account_id").cast(pl.String()))
        .join(owner, on="account_id")
    )
    by_c = ev.partition_by("campaign_id", as_dict=True)
    prop = result.accounts.select("account_id", "score", "own_score")
    out: list[dict[str, Any]] = []
    for c, members in camps:
        e = by_c.get((c.cluster_id,), pl.DataFrame(schema=ev.schema))
        n_ev = e.height
        tin = int(e.get_column("input_tokens").sum()) if "input_tokens" in e.columns else 0
        tout = int(e.get_column("output_tokens").sum()) if "output_tokens" in e.columns else 0
        models: list[dict[str, Any]] = []
        value = 0.0
        if "model" in e.columns and n_ev:
            agg = (
                e.group_by("model")
                .agg(
                    pl.len().alias("n_events"),
                    (
                        pl.col("output_tokens").sum() if "output_tokens" in e.columns else pl.lit(0)
                    ).alias("out"),
                )
                .sort("n_events", descending=True)
            )
            for model, k, o in agg.iter_rows():
                usd = float(o or 0) / 1e6 * price_for(str(model), prices)
                value += usd
                models.append(
                    {
                        "model": model,
                        "n_events": int(k),
                        "output_tokens": int(o or 0),
                        "est_value_usd": round(usd, 2),
                    }
                )
        caps: list[dict[str, Any]] = []
        if "capability" in e.columns and n_ev:
            ca = (
                e.drop_nulls("capability")
                .group_by("capability")
                .agg(pl.len().alias("n"))
                .sort("n", descending=True)
            )
            caps = [{"area": a, "share": round(k / n_ev, 4)} for a, k in ca.iter_rows()]
        infra: dict[str, Any] = {}
        for col, key in (
            ("client_ip", "distinct_ips"),
            ("asn", "distinct_asns"),
            ("user_agent", "distinct_user_agents"),
        ):
            if col in e.columns and n_ev:
                infra[key] = int(e.get_column(col).n_unique())
        infra["shared"] = [
            {"kind": s.kind, "value": s.entity, "n_accounts": s.n_accounts} for s in c.evidence[:12]
        ]
        infra["tie_kinds"] = [{"kind": k, "share": w} for k, w in c.kind_strength[:6]]
        ps = prop.filter(pl.col("account_id").is_in(members))
        n_raised = int(ps.filter(pl.col("score") > pl.col("own_score") + 1e-9).height)
        # "ts" is a Datetime column; polars types min()/max() as any Python literal
        first = cast("dt.datetime | None", e.get_column("ts").min()) if n_ev else None
        last = cast("dt.datetime | None", e.get_column("ts").max()) if n_ev else None
        pivots = _release_pivots(e, releases)
        top_model = models[0]["model"] if models else "unknown models"
        top_kinds = ", ".join(k for k, _ in c.kind_strength[:3]) or "shared infrastructure"
        summary = (
            f"{len(members)} linked accounts (tied by {top_kinds}) sent {n_ev:,} requests "
            f"mostly to {top_model}, harvesting {tout:,} output tokens "
            f"(~${value:,.0f} at list price)"
        )
        if pivots and pivots[0]["share_after_release"] >= 0.2:
            summary += f", pivoting to {pivots[0]['model']} after its release"
        if c.attribution:
            summary += f"; matches watch-list actor {c.attribution[0].actor}"
        summary += "."
        out.append(
            {
                "campaign_id": c.cluster_id,
                "accounts": sorted(members),
                "first_seen": _iso(first),
                "last_seen": _iso(last),
                "n_events": n_ev,
                "score": round(float(cast("float | None", ps.get_column("score").mean()) or 0.0), 4)
                if ps.height
                else c.score,
                "summary": summary,
                "cluster_size": c.size,
                "n_accounts_raised_by_linking": n_raised,
                "tokens": {"input": tin, "output": tout},
                "capability_areas": caps,
                "models": models,
                "release_pivots": pivots,
                "infrastructure": infra,
                "estimated_value_usd": round(value, 2),
                "dense_block": c.dense_block,
                # why this cluster is not its whole infrastructure community: the templates
                # its anchors send and the other parts' do not (graph/split.py); "" if whole
                "split": c.split,
                "attribution": [
                    {
                        "actor": a.actor,
                        "source": a.source,
                        "evidence": [
                            {"kind": k, "value": v, "n_accounts": n} for k, v, n in a.matches
                        ],
                    }
                    for a in c.attribution
                ],
            }
        )
    out.sort(key=lambda d: (-d["score"], -len(d["accounts"])))
    return out
