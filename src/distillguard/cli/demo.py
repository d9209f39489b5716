"""``distillguard demo``: the whole story on embedded defaults, no server to install.

Simulates a small multi-lab world (real prompt text from packaged corpora), validates each
lab's logs against the contract, scans each lab, measures the verdicts against the world's
labels (the demo may read labels: it is an evaluation, not a detector), then replays the
labs' traffic through a local TAXII hub (SQLite, in-process) -- detect, publish keyed
indicators, pull, match, rescan -- and measures time-to-detect and recall with and without
sharing, plus a leak check of every byte that crossed the wire. It writes an index page
linking every lab's report. Every step is the same code path as the individual commands
(`simulate`, `validate`, `scan`, `evaluate`, `share story`), so the demo is also a smoke
test.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import typer

from distillguard.cli.main import EXIT_FOUND_PROBLEM, EXIT_OK, app


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Directory for the "
                             "generated world, scan outputs and the index page."),
    scale: float = typer.Option(0.05, "--scale", min=0.005, max=2.0,
                                help="World size per lab (1.0 ~ 1M events)."),
    labs: int = typer.Option(3, "--labs", min=1, max=5, help="Number of provider labs."),
    seed: int = typer.Option(2026, "--seed", help="Simulation seed (same seed, same world)."),
    share: bool = typer.Option(True, "--share/--no-share", help="Run the sharing story "
                               "(local hub, publish, pull, match) after the scans."),
) -> None:
    """Run the main job end to end: simulate labs -> validate -> scan -> evaluate -> report."""
    from rich.console import Console
    from rich.table import Table

    from distillguard.ingest import validate_dataset
    from distillguard.pipeline import run_scan, score_summary, write_outputs
    from distillguard.scoring.evaluate import evaluate_scan
    from distillguard.sim import simulate

    con = Console()
    out.mkdir(parents=True, exist_ok=True)
    world = out / "world"
    t0 = time.perf_counter()
    with con.status(f"simulating {labs} lab(s) at scale {scale} (seed {seed})"):
        summary = simulate(world, scale=scale, seed=seed, labs=labs)
    con.print(f"[bold]1. simulate[/]  {summary.events:,} events across {labs} lab(s) "
              f"in {summary.wall_s:.1f} s -> {world}")

    rows: list[dict[str, Any]] = []
    failed = False
    for lab in summary.labs:
        report = validate_dataset(lab.path, progress=False)
        if not report.ok:
            failed = True
        scan_dir = out / "scan" / lab.name
        result = run_scan(lab.path)
        write_outputs(result, scan_dir)
        s = score_summary(result)
        metrics = evaluate_scan(lab.path, scan_dir, baselines=True)
        rows.append({"lab": lab.name, "path": str(lab.path), "scan": str(scan_dir),
                     "valid": report.ok, "bad_rows": report.n_bad, **s, "metrics": metrics})
        con.print(f"[bold]2. {lab.name}[/]  validate: "
                  f"{'[green]ok[/]' if report.ok else '[red]FAILED[/]'} "
                  f"({report.n_bad} bad rows); scan: {s['events']:,} events, "
                  f"{s['accounts']:,} accounts, [red]{s['flagged']:,} flagged[/], "
                  f"{s['campaigns']} campaign(s) in {result.timings['total']:.1f} s")

    table = Table(title="Detection measured against the simulated labels (account level)")
    for col in ("lab", "accounts", "attackers", "ROC-AUC", "TPR @ flag", "FPR @ flag",
                "rate-limit AUC", "PRADA AUC"):
        table.add_column(col, justify="right" if col != "lab" else "left")
    for r in rows:
        m = r["metrics"]
        d = m["detectors"]["distillguard"]
        b = m["detectors"]
        table.add_row(
            r["lab"], f"{d.get('n_accounts', 0):,}", f"{d.get('n_positive', 0):,}",
            _fmt(d.get("roc_auc")), _fmt(d.get("tpr_at_flag")), _fmt(d.get("fpr_at_flag"), 4),
            _fmt(b["rate_limit"].get("roc_auc")), _fmt(b["prada"].get("roc_auc")),
        )
    con.print(table)
    story_md = ""
    story_json: dict[str, Any] | None = None
    if share and len(summary.labs) > 1:
        from distillguard.share.story import run_story

        with con.status("sharing story: local hub, publish, pull, match, rescan"):
            story = run_story(world, out / "story", days=(3, 7, 14, 28))
        story_md = story.markdown()
        story_json = {"campaigns": story.table.to_dicts(), "benign": story.benign.to_dicts(),
                      "wire_requests": story.wire_bodies, "wire_bytes": story.wire_bytes,
                      "leak_findings": story.wire_findings, "published": story.published,
                      "live_latency_s": list(story.latency_s),
                      "sightings": story.sightings, "sighted_accounts": story.sighted_accounts}
        con.print("[bold]3. share[/]  with vs without sharing (time to detect, delay from a "
                  "partner's publication to the flag here, recall):")
        con.print(_story_table(story))
        con.print("false positives without -> with sharing: " + ", ".join(
            f"{r['lab']} {r['fp_without']} -> {r['fp_with']} (of {r['benign']} benign)"
            for r in story.benign.iter_rows(named=True)))
        con.print(f"live path (SSE push -> store -> match -> flag): "
                  f"{story.latency_summary()}; wire: {story.wire_bodies} requests, "
                  f"{story.wire_bytes:,} bytes, leak-guard findings {story.wire_findings}; "
                  f"sightings sent back {story.sightings} (counting "
                  f"{story.sighted_accounts} indicator-account matches)")
        if story.wire_findings:
            con.print(f"[bold red]leak check: {story.wire_findings} raw customer values "
                      "crossed the wire[/]")
            failed = True
    index = _write_index(out, rows, seed=seed, scale=scale, story_md=story_md)
    (out / "demo.json").write_text(json.dumps({"labs": rows, "story": story_json}, indent=2,
                                              default=str), encoding="utf-8")
    con.print(f"[bold]4. report[/]  {index}  (per-lab reports under {out / 'scan'}) "
              f"— total {time.perf_counter() - t0:.1f} s")
    raise typer.Exit(EXIT_FOUND_PROBLEM if failed else EXIT_OK)


def _story_table(story: Any) -> Any:
    """The with/without-sharing table, compact enough for an 80-column terminal."""
    from rich import box
    from rich.table import Table

    from distillguard.share.story import _delay

    def h(v: float | None, none: str = "never") -> str:
        return none if v is None else f"{v:.0f}h"

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
              caption=(
        "hours after the campaign's first event at the lab; pub: its first publication by "
        "another lab; ttd: time to detect without sharing, +share: with; pub>flag: from "
        "that publication (or the campaign's arrival, if later) to the flag here"))
    for col in ("campaign", "lab", "n", "pub", "ttd", "+share", "pub>flag", "recall",
                "+share"):
        t.add_column(col, justify="left" if col in ("campaign", "lab") else "right",
                     no_wrap=True)
    for r in story.table.iter_rows(named=True):
        t.add_row(r["campaign"], r["lab"].removeprefix("lab-"), str(r["accounts"]),
                  h(r["first_pub_h"], "none"), h(r["ttd_h_without"]), h(r["ttd_h_with"]),
                  _delay(r).replace("before it", "early").replace(" ", ""),
                  f"{r['recall_without']:.2f}",
                  f"{r['recall_with']:.2f}")
    return t


def _fmt(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{float(x):.{digits}f}"


def _write_index(out: Path, rows: list[dict[str, Any]], *, seed: int, scale: float,
                 story_md: str = "") -> Path:
    """A small self-contained page linking each lab's scan report."""
    items = []
    for r in rows:
        m = r["metrics"]["detectors"]["distillguard"]
        rel = Path(r["scan"]).relative_to(out) / "report.html"
        items.append(
            f"<tr><td><a href='{html.escape(str(rel))}'>{html.escape(r['lab'])}</a></td>"
            f"<td>{r['events']:,}</td><td>{r['accounts']:,}</td><td>{r['flagged']:,}</td>"
            f"<td>{r['campaigns']}</td><td>{_fmt(m.get('roc_auc'))}</td>"
            f"<td>{_fmt(m.get('tpr_at_flag'))}</td><td>{_fmt(m.get('fpr_at_flag'), 4)}</td></tr>")
    page = (
        "<!doctype html><meta charset='utf-8'><title>distillguard demo</title>"
        "<style>body{font:14px system-ui;margin:2em}td,th{padding:4px 10px;"
        "border-bottom:1px solid #ddd;text-align:right}td:first-child{text-align:left}</style>"
        f"<h1>distillguard demo</h1><p>Simulated world: seed {seed}, scale {scale} per lab. "
        "Scores measured against the simulator's labels.</p>"
        "<table><tr><th>lab</th><th>events</th><th>accounts</th><th>flagged</th>"
        "<th>campaigns</th><th>ROC-AUC</th><th>TPR@flag</th><th>FPR@flag</th></tr>"
        + "".join(items) + "</table>"
        + ("<h2>Sharing through a local hub</h2><pre>" + html.escape(story_md) + "</pre>"
           if story_md else ""))
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
