"""Per-campaign pictures for the HTML report, as inline SVG (no matplotlib, no JS).

* ``network_svg``: the cluster's accounts and their strongest ties (force layout from
  igraph). Red = flagged by part 1, orange = raised by linking, grey = not flagged (e.g.
  honest resold customers in the same proxy pool). Purple edges are behaviour ties
  (templates, system prompts, lockstep), grey ones infrastructure (IPs, cards, org...).
* ``timeline_svg``: the campaign's requests per day, release dates marked.
* ``infrastructure_table_html``: the shared entities with account counts.
* ``campaign_section_html``: the three together, one ``<section>`` per campaign.
"""

from __future__ import annotations

import datetime as dt
import html
import random
from typing import Any, cast

import igraph as ig
import numpy as np
import polars as pl

from distillguard.graph.build import BEHAVIOUR_KINDS
from distillguard.graph.link import LinkResult


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def network_svg(
    result: LinkResult,
    cluster_id: str,
    *,
    max_nodes: int = 150,
    max_edges: int = 800,
    width: int = 520,
    height: int = 380,
    seed: int = 0,
) -> str:
    """SVG of one cluster: nodes = accounts (flagged first), edges = strongest ties."""
    g = result.graph
    c = result.cluster(cluster_id)
    acc = (
        result.accounts.filter(pl.col("cluster_id") == cluster_id)
        .sort(["flagged", "score"], descending=[True, True])
        .head(max_nodes)
    )
    if g is None or acc.height == 0:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40"><text x="4" y="20">no graph</text></svg>'
    vid = {a: i for i, a in enumerate(g.account_ids.tolist())}
    sel = [vid[a] for a in acc.get_column("account_id").to_list() if a in vid]
    local = {v: i for i, v in enumerate(sel)}
    ke = g.kind_edges.filter(pl.col("src").is_in(sel) & pl.col("dst").is_in(sel))
    beh = (
        ke.with_columns(pl.col("kind").is_in(list(BEHAVIOUR_KINDS)).alias("beh"))
        .group_by("src", "dst")
        .agg(pl.col("weight").sum(), (pl.col("weight") * pl.col("beh")).sum().alias("bw"))
        .sort(["weight", "src", "dst"], descending=[True, False, False])  # ties: fixed order
        .head(max_edges)
    )
    src = [local[v] for v in beh.get_column("src").to_list()]
    dst = [local[v] for v in beh.get_column("dst").to_list()]
    w = beh.get_column("weight").to_numpy()
    n = len(sel)
    graph = ig.Graph(n=n, edges=list(zip(src, dst, strict=True)))
    ig.set_random_number_generator(random.Random(seed))
    try:
        lay = np.asarray(
            graph.layout_fruchterman_reingold(
                weights=(w / w.max()).tolist() if len(w) else None
            ).coords
            if n > 1
            else [[0.0, 0.0]]
        )
    finally:
        ig.set_random_number_generator(random)
    pad = 14
    lo, hi = lay.min(axis=0), lay.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    xy = pad + (lay - lo) / span * np.array([width - 2 * pad, height - 2 * pad - 16])
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="network of {_esc(cluster_id)}">'
        ),
        (
            f'<text x="4" y="{height - 4}" font-size="11" fill="#444">{_esc(cluster_id)}: '
            f"{c.size} accounts ({n} shown), {c.n_flagged} flagged; purple = behaviour tie, "
            "grey = infrastructure tie</text>"
        ),
    ]
    wmax = float(w.max()) if len(w) else 1.0
    for s, d, ww, bw in zip(src, dst, w, beh.get_column("bw").to_numpy(), strict=True):
        col = "#7b3fa0" if bw >= 0.5 * ww else "#b8b8b8"
        sw = 0.4 + 2.0 * float(ww) / wmax
        parts.append(
            f'<line x1="{xy[s, 0]:.1f}" y1="{xy[s, 1]:.1f}" x2="{xy[d, 0]:.1f}" '
            f'y2="{xy[d, 1]:.1f}" stroke="{col}" stroke-width="{sw:.2f}" stroke-opacity="0.6"/>'
        )
    for i, (a, fl, sc, own) in enumerate(
        acc.select("account_id", "flagged", "score", "own_score").iter_rows()
    ):
        if i >= n:
            break
        col = "#888888" if not fl else ("#d62728" if own >= result.threshold else "#ff7f0e")
        parts.append(
            f'<circle cx="{xy[i, 0]:.1f}" cy="{xy[i, 1]:.1f}" r="4" fill="{col}" '
            f'stroke="#fff" stroke-width="0.8"><title>{_esc(a)} score {sc:.2f} '
            f"(own {own:.2f})</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(
    campaign: dict[str, Any],
    events: pl.DataFrame,
    releases: pl.DataFrame | None = None,
    *,
    width: int = 520,
    height: int = 140,
) -> str:
    """Requests per day of the campaign's accounts, with release dates as dashed lines."""
    ev = events.filter(pl.col("account_id").is_in(campaign["accounts"]))
    if ev.height == 0:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="30"><text x="4" y="18">no events</text></svg>'
    day = ev.group_by(pl.col("ts").dt.truncate("1d").alias("d")).agg(pl.len().alias("n")).sort("d")
    d0, d1 = day.get_column("d").min(), day.get_column("d").max()
    assert isinstance(d0, dt.datetime) and isinstance(d1, dt.datetime)
    span = max((d1 - d0).total_seconds(), 86400.0)
    nmax = int(cast("int | None", day.get_column("n").max()) or 1)
    pad, base = 30, height - 20
    bw = max(1.0, (width - pad - 6) / (span / 86400 + 1) - 1)

    def x(t: dt.datetime) -> float:
        return pad + (t - d0).total_seconds() / span * (width - pad - 6 - bw)

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="timeline">'
        ),
        f'<text x="2" y="12" font-size="10" fill="#444">{nmax:,}/day</text>',
        f'<line x1="{pad}" y1="{base}" x2="{width - 4}" y2="{base}" stroke="#999"/>',
    ]
    for d, k in day.iter_rows():
        h = (base - 16) * k / nmax
        parts.append(
            f'<rect x="{x(d):.1f}" y="{base - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
            f'fill="#1f77b4"><title>{d:%Y-%m-%d}: {k:,} requests</title></rect>'
        )
    if releases is not None and releases.height:
        for m, t in releases.select("model", "released_at").iter_rows():
            if t is not None and d0 <= t <= d1 + dt.timedelta(days=1):
                xx = x(t)
                parts.append(
                    f'<line x1="{xx:.1f}" y1="14" x2="{xx:.1f}" y2="{base}" stroke="#d62728" '
                    f'stroke-dasharray="3,2"/><text x="{xx + 2:.1f}" y="24" font-size="10" '
                    f'fill="#d62728">{_esc(m)}</text>'
                )
    parts.append(
        f'<text x="{pad}" y="{height - 4}" font-size="10" fill="#444">{d0:%Y-%m-%d}</text>'
        f'<text x="{width - 70}" y="{height - 4}" font-size="10" fill="#444">{d1:%Y-%m-%d}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def infrastructure_table_html(campaign: dict[str, Any]) -> str:
    """The shared entities (kind, value, accounts) as an HTML table."""
    infra = campaign.get("infrastructure", {})
    rows = "".join(
        f"<tr><td>{_esc(s['kind'])}</td><td><code>{_esc(s['value'])}</code></td>"
        f"<td>{int(s['n_accounts'])}</td></tr>"
        for s in infra.get("shared", [])
    )
    facts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in infra.items() if isinstance(v, int))
    return (
        f"<p>{_esc(facts)}</p><table class='infra'><thead><tr><th>kind</th><th>shared value"
        f"</th><th>accounts</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def campaign_section_html(
    result: LinkResult,
    campaign: dict[str, Any],
    events: pl.DataFrame,
    releases: pl.DataFrame | None = None,
) -> str:
    """One self-contained ``<section>`` for the report: summary, network, timeline, table."""
    cid = campaign["campaign_id"]
    att = "".join(
        f"<li>attributed to <b>{_esc(a['actor'])}</b>: "
        + "; ".join(
            f"{_esc(e['kind'])} {_esc(e['value'])} ({e['n_accounts']})" for e in a["evidence"]
        )
        + "</li>"
        for a in campaign.get("attribution", [])
    )
    return (
        f"<section class='campaign' id='{_esc(cid)}'><h3>{_esc(cid)}</h3>"
        f"<p>{_esc(campaign['summary'])}</p>{'<ul>' + att + '</ul>' if att else ''}"
        + (f"<p class='split'>{_esc(campaign['split'])}</p>" if campaign.get("split") else "")
        + f"<div class='net'>{network_svg(result, cid)}</div>"
        f"<div class='timeline'>{timeline_svg(campaign, events, releases)}</div>"
        f"{infrastructure_table_html(campaign)}</section>"
    )
