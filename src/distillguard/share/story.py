"""The three-lab story: a hub, three lab nodes, time-ordered replay, with vs without sharing.

At each checkpoint (days since the world's start) every lab scans the traffic it has
seen so far (its own ``run_scan``, unchanged), publishes its campaigns through the
policy and the leak guard, pulls its partners' indicators and matches them against its
traffic; "with sharing" is the scan with the share boosts folded in
(:func:`distillguard.share.match.apply_boosts`), "without" is the scan alone. Per
campaign and lab we report the time from the campaign's first event at that lab to its
first flag (resolution: the checkpoint grid) and the final account recall, both ways.
Every request that reached the hub is captured and scanned by every lab's leak guard.

Labels are read only to score the outcome, never by a lab node.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from distillguard.share.keys import new_keyring, save_keyring
from distillguard.share.policy import Policy


@dataclass(frozen=True)
class StoryResult:
    table: pl.DataFrame  # lab, campaign, first_event, ttd_h_without, ttd_h_with, recall_*
    benign: pl.DataFrame  # lab, benign accounts, false positives without / with sharing
    wire_bodies: int
    wire_bytes: int
    wire_findings: int
    published: int

    def markdown(self) -> str:
        lines = ["| campaign | lab | accounts | time to detect (without) | time to detect (with) "
                 "| recall without | recall with |", "|---|---|---:|---:|---:|---:|---:|"]

        def h(v: float | None) -> str:
            return "not flagged" if v is None else f"{v:.0f} h"

        for r in self.table.iter_rows(named=True):
            lines.append(f"| {r['campaign']} | {r['lab']} | {r['accounts']} | "
                         f"{h(r['ttd_h_without'])} | {h(r['ttd_h_with'])} | "
                         f"{r['recall_without']:.2f} | {r['recall_with']:.2f} |")
        lines += ["", "| lab | benign accounts | false positives without | with |",
                  "|---|---:|---:|---:|"]
        for r in self.benign.iter_rows(named=True):
            lines.append(f"| {r['lab']} | {r['benign']} | {r['fp_without']} | {r['fp_with']} |")
        lines.append("")
        lines.append(f"Wire: {self.wire_bodies} requests, {self.wire_bytes:,} bytes captured, "
                     f"{self.published} objects published; leak-guard findings: "
                     f"{self.wire_findings}.")
        return "\n".join(lines)


def _prefix(src: Path, dst: Path, cutoff: Any) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    pl.scan_parquet(src / "events.parquet").filter(pl.col("ts") <= cutoff).sink_parquet(
        dst / "events.parquet")
    for name in ("accounts", "releases"):
        if (src / f"{name}.parquet").exists():
            shutil.copy(src / f"{name}.parquet", dst / f"{name}.parquet")


def run_story(world: str | Path, out: str | Path, *, days: Sequence[float] = (3, 7, 14, 21, 28),
              policy: Policy | None = None, fine_hours: float | None = 6.0) -> StoryResult:
    """Run the story on a ``simulate --labs 3`` world; writes ``story.md`` into ``out``.

    Scans (and publications) happen at the ``days`` checkpoints. With ``fine_hours``,
    matching -- which is cheap and runs at ingest in a deployment -- is also evaluated
    every ``fine_hours`` between checkpoints, against the indicators pulled at the last
    checkpoint and the lab's last scan (stale scores, as between two real scans); it uses
    only per-event skeleton ids, never family ids resolved with future traffic. "Without
    sharing" flags change only at scans.
    """
    from distillguard.exchange import admin
    from distillguard.exchange.app import create_app
    from distillguard.exchange.server import start_in_thread
    from distillguard.exchange.settings import HubSettings
    from distillguard.exchange.store.sql import SqlStore
    from distillguard.pipeline import run_scan
    from distillguard.share.client import HubLink
    from distillguard.share.leakguard import LeakGuard
    from distillguard.share.match import apply_boosts, match_indicators
    from distillguard.share.publish import build_publication, send_publication
    from distillguard.share.pull import pull
    from distillguard.share.sketch import family_skeletons
    from distillguard.share.store import IndicatorStore
    from distillguard.share.wire import WireCapture

    world, out = Path(world), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labs = sorted(p.name for p in world.iterdir() if (p / "events.parquet").exists())
    # A fixed demo key (simulated data only) so reruns give the same LSH candidates.
    ring = new_keyring("forum-story", ["2026-01"], master=b"distillguard three-lab story 01")
    save_keyring(ring, out / "keyring.yaml")  # to re-run `share match` on the outputs
    db = out / "hub.db"
    db.unlink(missing_ok=True)
    hub_store = SqlStore(f"sqlite:///{db}")
    capture = WireCapture(create_app(HubSettings(database_url=f"sqlite:///{db}"), hub_store))
    server = start_in_thread(capture)  # type: ignore[arg-type]
    col = admin.create_collection(hub_store, "distillation", "three-lab story").id
    pol = policy or Policy(min_confidence=50, min_cluster_size=2)
    pol = dataclasses.replace(pol, collection=col)
    links, ident, stores = {}, {}, {}
    for lab in labs:
        new = admin.add_member(hub_store, lab, org=lab)
        admin.grant(hub_store, col, lab, read=True, write=True)
        links[lab] = HubLink(server.url, user=lab, password=new.password.secret)
        ident[lab] = new.member.identity_id
        (out / lab / "indicators.db").unlink(missing_ok=True)
        stores[lab] = IndicatorStore(out / lab / "indicators.db")
    t0 = min(pl.scan_parquet(world / lab / "events.parquet").select(pl.col("ts").min())
             .collect().item() for lab in labs)
    flags: list[pl.DataFrame] = []
    history: dict[str, list[tuple[Any, pl.DataFrame, Path]]] = {lab: [] for lab in labs}
    guards: dict[str, LeakGuard] = {}
    published = 0
    try:
        for day in days:
            cutoff = t0 + timedelta(days=day)
            step: dict[str, Any] = {}
            for lab in labs:  # detect and publish
                d = out / lab / f"day{day:g}"
                _prefix(world / lab, d, cutoff)
                res = run_scan(d)
                acc = pl.read_parquet(d / "accounts.parquet")
                prompts = pl.read_parquet(d / "events.parquet", columns=["account_id", "prompt"])
                guards[lab] = LeakGuard.from_frames(acc, res.events, pol,
                                                    prompts=prompts.get_column("prompt"))
                members = pl.Series([a for c in res.campaigns for a in c["accounts"]],
                                    dtype=pl.String)
                sk = family_skeletons(
                    prompts.filter(pl.col("account_id").is_in(members.implode())),
                    res.events.get_column("template_id").drop_nulls())
                pub = build_publication(res.campaigns, acc, res.events, policy=pol,
                                        keyring=ring, identity=ident[lab], skeletons=sk)
                if pub.outbound:
                    send_publication(pub, links[lab], guards[lab])
                    published += len(pub.outbound)
                step[lab] = (res, acc)
            for lab in labs:  # pull, match, fold in
                res, acc = step[lab]
                pull(links[lab], [col], stores[lab])
                boosts = match_indicators(res.events, acc, stores[lab], keyring=ring,
                                          identity=ident[lab])
                base = res.accounts.select("account_id", "score", "flagged", "reasons")
                shared = apply_boosts(base, boosts)
                flags.append(_flag_rows(base, shared, lab, cutoff))
                shared.write_csv(out / lab / f"accounts-shared-day{day:g}.csv")
                snap = out / lab / f"indicators-day{day:g}.db"
                snap.unlink(missing_ok=True)
                with sqlite3.connect(snap) as dst:
                    stores[lab].db.backup(dst)
                history[lab].append((cutoff, base, snap))
        if fine_hours:
            for lab in labs:
                flags += _fine(step[lab][0].events, step[lab][1], history[lab], ring,
                               ident[lab], lab, fine_hours)
        texts = capture.texts()
        findings = sum(len(g.scan(t)) for t in texts for g in guards.values())
    finally:
        server.stop()
        hub_store.close()
        for st in stores.values():
            st.close()
    allflags = pl.concat(flags)
    table = _score(world, labs, allflags)
    result = StoryResult(table, _benign(world, labs, allflags), len(capture.requests), sum(len(t) for t in texts), findings,
                         published)
    (out / "story.md").write_text(result.markdown() + "\n", encoding="utf-8")
    table.write_csv(out / "story.csv")
    return result


def _flag_rows(base: pl.DataFrame, shared: pl.DataFrame, lab: str, at: Any) -> pl.DataFrame:
    return (base.select("account_id", pl.col("flagged").alias("without"))
            .join(shared.select("account_id", pl.col("flagged").alias("with")), on="account_id")
            .with_columns(pl.lit(lab).alias("lab"), pl.lit(at).alias("at")))


def _fine(events: pl.DataFrame, accounts: pl.DataFrame,
          history: Sequence[tuple[Any, pl.DataFrame, Path]], ring: Any, identity: str,
          lab: str, hours: float) -> list[pl.DataFrame]:
    from distillguard.share.match import apply_boosts, match_indicators
    from distillguard.share.store import IndicatorStore

    ev_all = events.drop([c for c in ("template_id",) if c in events.columns])
    out = []
    for (at, base, snap), (nxt, _, _) in zip(history, history[1:], strict=False):
        st = IndicatorStore(snap)
        try:
            t = at + timedelta(hours=hours)
            while t < nxt:
                ev = ev_all.filter(pl.col("ts") <= t)
                boosts = match_indicators(ev, accounts, st, keyring=ring, identity=identity)
                out.append(_flag_rows(base, apply_boosts(base, boosts), lab, t))
                t += timedelta(hours=hours)
        finally:
            st.close()
    return out


def _score(world: Path, labs: Sequence[str], flags: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for lab in labs:
        labels = pl.read_parquet(world / lab / "labels.parquet").filter(
            pl.col("label") == "distillation")
        first = (pl.scan_parquet(world / lab / "events.parquet")
                 .join(labels.lazy().select("account_id", "campaign"), on="account_id")
                 .group_by("campaign").agg(pl.col("ts").min().alias("first")).collect())
        f = flags.filter(pl.col("lab") == lab).join(labels.select("account_id", "campaign"),
                                                    on="account_id")
        last = f.get_column("at").max()
        for (camp,), grp in labels.group_by(["campaign"]):
            fe = first.filter(pl.col("campaign") == camp)
            if fe.height == 0:
                continue
            start = fe.get_column("first")[0]
            g = f.filter(pl.col("campaign") == camp)
            row: dict[str, Any] = {"campaign": camp, "lab": lab, "accounts": grp.height,
                                   "first_event": start}
            for how in ("without", "with"):
                hit = g.filter(pl.col(how)).get_column("at")
                row[f"ttd_h_{how}"] = (max(0.0, (hit.min() - start).total_seconds() / 3600)
                                       if hit.len() else None)
                fin = g.filter(pl.col("at") == last)
                row[f"recall_{how}"] = float(fin.get_column(how).sum()) / grp.height
            rows.append(row)
    return pl.DataFrame(rows).sort("campaign", "lab")


def _benign(world: Path, labs: Sequence[str], flags: pl.DataFrame) -> pl.DataFrame:
    """False positives at the last checkpoint, per lab, with and without sharing."""
    rows = []
    for lab in labs:
        f = flags.filter(pl.col("lab") == lab)
        last = f.filter(pl.col("at") == f.get_column("at").max())
        benign = pl.read_parquet(world / lab / "labels.parquet").filter(
            pl.col("label") == "benign").select("account_id")
        b = last.join(benign, on="account_id")
        rows.append({"lab": lab, "benign": benign.height,
                     "fp_without": int(b.get_column("without").sum()),
                     "fp_with": int(b.get_column("with").sum())})
    return pl.DataFrame(rows)
