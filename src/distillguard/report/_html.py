"""Self-contained HTML report of a scan (inline SVG plots, no external assets)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, cast

import polars as pl

from distillguard.aggregate.templates import family_label
from distillguard.report._svg import bar_chart, line_chart

if TYPE_CHECKING:
    from distillguard.pipeline import ScanResult

TOP_ACCOUNTS = 50
TOP_FAMILIES = 15
#: Campaigns drawn in full (network, timeline, infrastructure); the rest are table rows.
DETAILED_CAMPAIGNS = 10
CSS = """body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:12px;width:100%}td,th{border:1px solid #ddd;
padding:4px;vertical-align:top;text-align:left}th{background:#f4f4f4}h2{margin-top:32px}
.num{text-align:right}.ex{font-family:monospace;font-size:11px;color:#444;max-width:420px}
.kpi{display:inline-block;margin-right:24px;padding:8px 12px;background:#f4f6fa}
.kpi b{font-size:20px;display:block}section.campaign{border-top:1px solid #ccc;margin-top:16px}
.net,.timeline{display:inline-block;vertical-align:top;margin-right:12px}
table.infra{width:auto}"""


def _traffic(result: ScanResult) -> str:
    ev = result.events
    if ev.height == 0:
        return "<p><em>no events</em></p>"
    ts = ev.get_column("ts")  # a Datetime column; polars types max()/min() as any literal
    span_h = (cast(datetime, ts.max()) - cast(datetime, ts.min())).total_seconds() / 3600
    every = "1h" if span_h <= 24 * 14 else "6h" if span_h <= 24 * 90 else "1d"
    ev = ev.select("ts", pl.col("model").cast(pl.String))
    # fixed order (count, then name): the report is byte-identical run to run
    models = (ev.get_column("model").value_counts().sort(["count", "model"],
                                                         descending=[True, False])
              .head(6).get_column("model").to_list())
    binned = (
        ev.with_columns(pl.when(pl.col("model").is_in(models)).then(pl.col("model"))
                        .otherwise(pl.lit("other")).alias("m"))
        .group_by(pl.col("ts").dt.truncate(every).alias("t"), "m").agg(pl.len().alias("n"))
        .pivot(on="m", index="t", values="n").sort("t").fill_null(0)
    )
    t0 = binned.get_column("t").min()
    xs = [(t - t0).total_seconds() / 3600 for t in binned.get_column("t").to_list()]
    series: dict[str, Sequence[float]] = {
        m: binned.get_column(m).to_list() for m in [*models, "other"] if m in binned.columns
    }
    marks = [((r["released_at"] - t0).total_seconds() / 3600, f"release {r['model']}")
             for r in result.releases.iter_rows(named=True)]
    ticks = [(xs[i], str(binned.get_column("t")[i])[:10])
             for i in range(0, len(xs), max(1, len(xs) // 8))]
    return line_chart(xs, series, markers=marks, x_labels=ticks,
                      title=f"Requests per {every} by model (dashed: releases)")


def _scores(result: ScanResult) -> str:
    s = result.accounts.get_column("score").to_list()
    bins = [0] * 20
    for v in s:
        bins[min(int(v * 20), 19)] += 1
    labels = [f"{i / 20:.2f}" for i in range(20)]
    return bar_chart(labels, bins, log=True, highlight_from=10,
                     title="Account score distribution (log counts; red = flagged side)")


def _families(result: ScanResult) -> str:
    fam = result.families
    if fam.height == 0:
        return "<p><em>no template families found</em></p>"
    ev = result.events.filter(pl.col("template_id").is_not_null())
    flagged = result.accounts.filter(pl.col("flagged")).select("account_id")
    fl = (ev.join(flagged, on="account_id", how="semi").group_by("template_id")
          .agg(pl.len().alias("n_flagged_events")))
    top = (fam.join(fl, on="template_id", how="left").fill_null(0)
           .sort("n_accounts", "n_events", descending=True).head(TOP_FAMILIES))
    ex = result.samples.select("tpl_head", "tpl_tail", "prompt")
    rows = []
    for r in top.iter_rows(named=True):
        tid = r["template_id"]
        hit = ex.filter((pl.col("tpl_head") == tid) | (pl.col("tpl_tail") == tid)).head(2)
        examples = "<br>".join(escape(p[:240]) for p in hit.get_column("prompt").to_list())
        rows.append(f"<tr><td>{family_label(tid)}</td><td class=num>{r['n_events']:,}</td>"
                    f"<td class=num>{r['n_accounts']:,}</td><td class=num>{r['n_distinct']:,}</td>"
                    f"<td class=num>{100 * r['n_flagged_events'] / max(r['n_events'], 1):.0f}%</td>"
                    f"<td class=ex>{examples or '<em>not in sample</em>'}</td></tr>")
    return ("<table><tr><th>family</th><th>requests</th><th>accounts</th><th>distinct prompts"
            "</th><th>from flagged</th><th>example prompts</th></tr>" + "".join(rows)
            + "</table>")


def _accounts(result: ScanResult) -> str:
    top = result.accounts.sort("score", descending=True).head(TOP_ACCOUNTS)
    p1 = "score_part1" in top.columns
    rows = [f"<tr><td>{escape(r['account_id'])}</td><td class=num>{r['score']:.3f}</td>"
            f"<td class=num>{r['score_part1'] if p1 else r['score']:.3f}</td>"
            f"<td>{'yes' if r['flagged'] else ''}</td><td>{escape(r['cluster_id'] or '')}</td>"
            f"<td class=num>{r['n_events']:,}</td><td>{escape(r['reasons'] or '')}</td></tr>"
            for r in top.iter_rows(named=True)]
    return ("<table><tr><th>account</th><th>score</th><th>part-1 score</th><th>flagged</th>"
            "<th>cluster</th>"
            "<th>requests</th><th>reasons</th></tr>" + "".join(rows) + "</table>")


def _campaigns(result: ScanResult) -> str:
    if not result.campaigns:
        return "<p><em>no campaigns</em></p>"
    rows = [f"<tr><td>{escape(c['campaign_id'])}</td><td class=num>{len(c['accounts']):,}</td>"
            f"<td class=num>{c['n_events']:,}</td><td>{escape(c['first_seen'][:16])} → "
            f"{escape(c['last_seen'][:16])}</td><td>{escape(c['summary'])}</td></tr>"
            for c in result.campaigns[:30]]
    table = ("<table><tr><th>campaign</th><th>accounts</th><th>requests</th><th>seen</th>"
             "<th>summary</th></tr>" + "".join(rows) + "</table>")
    return table + _campaign_details(result)


def _campaign_details(result: ScanResult) -> str:
    """Per campaign: network picture, daily timeline with releases, infrastructure table.

    Drawn by the graph package's renderer from the linking result; without one (a scan
    result built by hand) only the table above is shown.
    """
    if result.link is None:
        return ""
    from distillguard.graph.render import campaign_section_html

    top = result.campaigns[:DETAILED_CAMPAIGNS]
    legend = ("<p>Network: red = flagged by part 1, orange = raised by linking, grey = not "
              "flagged (e.g. honest customers of the same proxy pool); purple ties are "
              "behaviour (templates, system prompts, lockstep), grey ties infrastructure.</p>")
    more = (f"<p>{len(result.campaigns) - len(top)} more campaign(s) in campaigns.json.</p>"
            if len(result.campaigns) > len(top) else "")
    # the drawn campaigns' events, cut from the whole event frame once (at 16M events one
    # pass per campaign cost ~1 s each)
    members = sorted({a for c in top for a in c["accounts"]})
    ev = result.events.filter(pl.col("account_id").is_in(members))
    return legend + "".join(campaign_section_html(result.link, c, ev, result.releases)
                            for c in top) + more


def _quality(result: ScanResult) -> str:
    rep = result.report
    bad = rep.bad_by_reason()
    rows = "".join(f"<tr><td>{escape(k)}</td><td class=num>{v:,}</td></tr>" for k, v in bad.items())
    files = "".join(f"<li>{escape(q)}</li>" for q in rep.quarantine_files)
    return (f"<p><b>{rep.n_bad:,}</b> rows failed validation and were quarantined (not scored)."
            "</p>" + (f"<table><tr><th>reason</th><th>rows</th></tr>{rows}</table>" if rows else "")
            + (f"<ul>{files}</ul>" if files else ""))


def render_report(result: ScanResult) -> str:
    """The whole report as one HTML string."""
    acc = result.accounts
    cal = result.calibration
    n_flag = int(acc.get_column("flagged").sum())
    kpis = [("events scored", f"{result.n_events:,}"), ("accounts", f"{acc.height:,}"),
            ("flagged", f"{n_flag:,}"), ("campaigns", f"{len(result.campaigns):,}"),
            ("quarantined rows", f"{result.report.n_bad:,}")]
    params = json.dumps({"calibration": cal.__dict__, "config": result.config.get_params(),
                         "timings_s": {k: round(v, 2) for k, v in result.timings.items()}},
                        indent=1, default=str)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>distillguard scan report</title><style>{CSS}</style></head><body>
<h1>distillguard scan report</h1>
{''.join(f'<div class=kpi><b>{v}</b>{escape(k)}</div>' for k, v in kpis)}
<h2>Traffic over time</h2>{_traffic(result)}
<h2>Scores</h2>{_scores(result)}
<p>Flag threshold chosen without labels for a target false-positive rate of
{100 * cal.target_fpr:.2f}% (null location {cal.null_location:.3f}, spread {cal.null_scale:.3f},
raw threshold {cal.threshold:.3f}; see docs/detection.md).</p>
<h2>Campaigns</h2>{_campaigns(result)}
<h2>Top template families</h2>{_families(result)}
<h2>Top accounts</h2>{_accounts(result)}
<h2>Data quality</h2>{_quality(result)}
<h2>Run parameters</h2><pre>{escape(params)}</pre>
</body></html>"""
