"""The three-lab story: a hub, three lab nodes, time-ordered replay, with vs without sharing.

At each checkpoint (days since the world's start) every lab scans the traffic it has
seen so far (its own ``run_scan``, unchanged) and publishes its campaigns through the
policy and the leak guard. Each lab runs a live follower
(:class:`distillguard.sensor.follower.Follower`) on the hub's real SSE push channel:
the publication is pushed to every partner, stored, and matched at once against that
partner's traffic so far (events with ``ts <= T_pub``); between checkpoints every later
event is matched as it arrives against the indicators the lab holds
(:func:`distillguard.share.timeline.share_flag_times`), so a partner's time to flag is
measured in simulated time with no grid: the publication instant plus the *measured*
wall-clock latency of the live path (push, store, match), or the arrival of the event
that tips an account. "Without sharing" flags change only at the lab's own scans.

After matching, each lab reports back what matched its *flagged* accounts as STIX
sightings (:class:`distillguard.sensor.sightings.LiveSightings`: counts and time ranges,
leak-guarded, each account counted once per indicator). The hub pushes them to every
member; from the next checkpoint on they corroborate the indicator and raise its
confidence in every lab's matching.

Per campaign and lab: time from the campaign's first event at that lab to its first
flag, without and with sharing; the delay from the campaign's first publication by
another lab to this lab's first flag; account recall at the last checkpoint; false
positives at the last checkpoint. Every request that reached the hub is captured and
scanned by every lab's leak guard. Labels are read only to score the outcome (and to
name which campaign a publication described), never by a lab node.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import statistics
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from distillguard.share.keys import new_keyring, save_keyring
from distillguard.share.policy import Policy

if TYPE_CHECKING:
    from distillguard.share.match import MatchCache


@dataclass(frozen=True)
class StoryResult:
    table: pl.DataFrame  # lab, campaign, first_event, ttd_h_*, first_pub_h, pub_to_flag_s, recall_*
    benign: pl.DataFrame  # lab, benign accounts, false positives without / with sharing
    wire_bodies: int
    wire_bytes: int
    wire_findings: int
    published: int
    latency_s: tuple[float, ...] = ()  # live path, publish -> flag written, per delivery
    sightings: int = 0  # sightings the labs sent back (one per indicator and checkpoint)
    sighted_accounts: int = 0  # their counts summed: (indicator, flagged account) matches
    fp_reports: int = 0  # false-positive reports (one per lab and partner indicator)

    def latency_summary(self) -> str:
        if not self.latency_s:
            return "no publication reached a partner"
        q = sorted(self.latency_s)
        p99 = q[min(len(q) - 1, int(round(0.99 * (len(q) - 1))))]
        return (f"{len(q)} deliveries, p50 {statistics.median(q):.2f} s, p99 {p99:.2f} s, "
                f"max {q[-1]:.2f} s")

    def markdown(self) -> str:
        lines = ["| campaign | lab | accounts | first publication elsewhere | time to detect "
                 "(without) | time to detect (with) | flag after publication "
                 "| recall without | recall with |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in self.table.iter_rows(named=True):
            lines.append(f"| {r['campaign']} | {r['lab']} | {r['accounts']} | "
                         f"{_hours(r['first_pub_h'], 'none')} | "
                         f"{_hours(r['ttd_h_without'])} | {_hours(r['ttd_h_with'])} | "
                         f"{_delay(r)} | {r['recall_without']:.2f} | {r['recall_with']:.2f} |")
        lines += ["", "| lab | benign accounts | false positives without | with |",
                  "|---|---:|---:|---:|"]
        for r in self.benign.iter_rows(named=True):
            lines.append(f"| {r['lab']} | {r['benign']} | {r['fp_without']} | {r['fp_with']} |")
        lines.append("")
        lines.append("Simulated time. First publication elsewhere and time to detect: hours "
                     "after the campaign's first event at that lab (negative: published before "
                     "it arrived here). Flag after publication: from the campaign's first "
                     "publication by another lab (or its arrival here, if later) to this lab's "
                     "first flag of it; own: this lab's own scan flagged it first.")
        lines.append(f"Live path (hub SSE push -> store -> match -> flag), wall clock: "
                     f"{self.latency_summary()}.")
        lines.append(f"Sightings sent back to the hub: {self.sightings}, one per partner "
                     f"indicator and checkpoint, their counts summing to "
                     f"{self.sighted_accounts} (indicator, flagged account) matches; counts "
                     "and time ranges only.")
        lines.append(f"False-positive reports sent: {self.fp_reports} (the story stands in "
                     "for each lab's analyst: every account flagged only because of a "
                     "partner's indicator is reviewed, the labels say whether it is honest, "
                     "and a partner indicator whose honest matches outnumber its flagged ones "
                     "is reported once per lab, lowering its confidence for every member).")
        lines.append(f"Wire: {self.wire_bodies} requests, {self.wire_bytes:,} bytes captured, "
                     f"{self.published} objects published; leak-guard findings: "
                     f"{self.wire_findings}.")
        return "\n".join(lines)


def _hours(v: float | None, none: str = "not flagged") -> str:
    return none if v is None else f"{v:.0f} h"


def _delay(r: dict[str, Any]) -> str:
    s = r["pub_to_flag_s"]
    if r["first_pub_h"] is None:
        return "–"
    if r["own_first"]:
        return "own"
    if s is None:
        return "not flagged"
    if s < 0:
        return "before it"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.0f} h"


def _prefix(src: Path, dst: Path, cutoff: Any) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    pl.scan_parquet(src / "events.parquet").filter(pl.col("ts") <= cutoff).sink_parquet(
        dst / "events.parquet")
    for name in ("accounts", "releases"):
        if (src / f"{name}.parquet").exists():
            shutil.copy(src / f"{name}.parquet", dst / f"{name}.parquet")


@dataclass
class _Lab:
    """One lab node's state across checkpoints."""

    name: str
    link: Any
    identity: str
    store: Any
    follower: Any
    history: list[tuple[Any, pl.DataFrame, Path]] = dataclasses.field(default_factory=list)
    checkpoint_latency: dict[Any, float] = dataclasses.field(default_factory=dict)
    honest: frozenset[str] = frozenset()  # what this lab's analyst would find (labels)
    fp_reported: set[str] = dataclasses.field(default_factory=set)  # indicator ids


def run_story(world: str | Path, out: str | Path, *, days: Sequence[float] = (3, 7, 14, 21, 28),
              policy: Policy | None = None) -> StoryResult:
    """Run the story on a ``simulate --labs 3`` world; writes ``story.md`` into ``out``.

    Scans and publications happen at the ``days`` checkpoints; partner matching is
    event-driven (see the module doc).
    """
    from distillguard.pipeline import run_scan
    from distillguard.sensor.follower import Follower
    from distillguard.share.leakguard import LeakGuard
    from distillguard.share.localhub import local_hub
    from distillguard.share.match import MatchCache, apply_boosts, match_indicators
    from distillguard.share.publish import build_publication, campaign_ref, send_publication
    from distillguard.share.sketch import family_skeletons
    from distillguard.share.store import IndicatorStore

    world, out = Path(world), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in world.iterdir() if (p / "events.parquet").exists())
    # A fixed demo key (simulated data only) so reruns give the same LSH candidates.
    ring = new_keyring("forum-story", ["2026-01"], master=b"distillguard three-lab story 01")
    save_keyring(ring, out / "keyring.yaml")  # to re-run `share match` on the outputs
    db = out / "hub.db"
    db.unlink(missing_ok=True)
    running = ExitStack()  # the hub stops after the followers, in the finally below
    hub = running.enter_context(local_hub(db, names, description="three-lab story",
                                          capture=True))
    col, capture = hub.collection, hub.capture
    assert capture is not None
    pol = policy or Policy(min_confidence=50, min_cluster_size=2)
    pol = dataclasses.replace(pol, collection=col)
    labs: dict[str, _Lab] = {}
    t0 = min(pl.scan_parquet(world / lab / "events.parquet").select(pl.col("ts").min())
             .collect().item() for lab in names)
    flags: list[pl.DataFrame] = []
    published_camps: list[tuple[str, Any, list[str]]] = []  # lab, T_pub, accounts
    latencies: list[float] = []
    guards: dict[str, LeakGuard] = {}
    published = 0
    sent: list[dict[str, Any]] = []
    fps: list[dict[str, Any]] = []
    texts: list[bytes] = []
    try:
        for lab in names:
            link = hub.links[lab]
            (out / lab / "indicators.db").unlink(missing_ok=True)
            store = IndicatorStore(out / lab / "indicators.db")
            honest = frozenset(pl.read_parquet(world / lab / "labels.parquet").filter(
                pl.col("label") == "benign").get_column("account_id").to_list())
            labs[lab] = _Lab(lab, link, hub.identities[lab], store,
                             Follower(link, col, store).start(), honest=honest)
        step: dict[str, Any] = {}
        for day in days:
            cutoff = t0 + timedelta(days=day)
            sends: list[tuple[str, float, set[str]]] = []  # publisher, wall send time, ids
            for lab in names:  # detect and publish
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
                                        keyring=ring, identity=labs[lab].identity, skeletons=sk)
                if pub.outbound:
                    t_send = time.time()
                    send_publication(pub, labs[lab].link, guards[lab])
                    published += len(pub.outbound)
                    sends.append((lab, t_send, {str(o.obj["id"]) for o in pub.outbound}))
                    refs = {o.campaign_ref for o in pub.outbound}
                    published_camps += [(lab, cutoff, list(c["accounts"])) for c in res.campaigns
                                        if campaign_ref(str(c["campaign_id"]), ring) in refs]
                step[lab] = (res, acc)
            for lab in names:  # the push reaches each follower; it matches at once
                node = labs[lab]
                expected = set().union(*(ids for _, _, ids in sends))
                if not node.follower.wait_for_ids(expected, timeout=120):
                    raise RuntimeError(f"{lab}: the push channel did not deliver this "
                                       f"checkpoint's {len(expected)} objects")
                res, acc = step[lab]
                with node.follower.lock:
                    t_m = time.time()
                    cache = MatchCache()  # this traffic, for the match and the sightings
                    boosts = match_indicators(res.events, acc, node.store, keyring=ring,
                                              identity=node.identity, cache=cache)
                    base = res.accounts.select("account_id", "score", "flagged", "reasons")
                    shared = apply_boosts(base, boosts)
                    shared.write_csv(out / lab / f"accounts-shared-day{day:g}.csv")
                    match_s = time.time() - t_m
                    ok, bad = _report_back(node, res.events, acc, base, shared, guards[lab],
                                           ring, col, cache)
                    sent += ok
                    fps += bad
                    snap = out / lab / f"indicators-day{day:g}.db"
                    snap.unlink(missing_ok=True)
                    with sqlite3.connect(snap) as dst:
                        node.store.db.backup(dst)
                lat = [_delivered(node.follower.deliveries, ids) - t_send + match_s
                       for who, t_send, ids in sends if who != lab]
                latencies += lat
                node.checkpoint_latency[cutoff] = max(lat, default=0.0)
                flags.append(_flag_rows(base, shared, lab, cutoff,
                                        node.checkpoint_latency[cutoff]))
                node.history.append((cutoff, base, snap))
        for lab in names:  # between checkpoints: every event matched on arrival
            flags += _between(step[lab][0].events, step[lab][1], labs[lab], ring)
        texts = capture.texts()
        findings = sum(len(g.scan(t)) for t in texts for g in guards.values())
    finally:
        for node in labs.values():
            node.follower.stop()
        running.close()
        for node in labs.values():
            node.store.close()
    allflags = pl.concat(flags, how="diagonal_relaxed")
    table = _score(world, names, allflags, published_camps)
    result = StoryResult(table, _benign(world, names, allflags), len(capture.requests),
                         sum(len(t) for t in texts), findings, published, tuple(latencies),
                         len(sent), sum(int(o.get("count", 0)) for o in sent), len(fps))
    (out / "story.md").write_text(result.markdown() + "\n", encoding="utf-8")
    table.write_csv(out / "story.csv")
    return result


def _report_back(node: _Lab, events: pl.DataFrame, accounts: pl.DataFrame,
                 base: pl.DataFrame, shared: pl.DataFrame, guard: Any, ring: Any,
                 collection: str, cache: MatchCache,
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(sightings, false-positive reports)`` this lab sends after a checkpoint.

    The analyst's review is simulated: the accounts flagged only because of a partner's
    indicator (flagged with sharing, not by the lab's own scan) are reviewed, and the
    labels say which are honest. Partner indicators that matched the other flagged
    accounts are sighted (each account counted once per indicator across checkpoints:
    the store remembers); a partner indicator is reported as a false positive (once per
    lab, with the number of honest accounts) when the honest accounts it matched outnumber
    the flagged ones it matched: an indicator that also caught a campaign here is not
    called wrong for one honest customer on the same reseller.
    """
    from distillguard.sensor.sightings import LiveSightings
    from distillguard.share.match import match_evidence
    from distillguard.share.sightings import false_positive, send_sightings

    hits, _ = match_evidence(events, accounts, node.store, keyring=ring,
                             identity=node.identity, cache=cache)
    hits = hits.select("indicator_id", "account_id")
    added = (shared.filter("flagged").select("account_id")
             .join(base.filter("flagged").select("account_id"), on="account_id", how="anti"))
    cleared = added.filter(pl.col("account_id").is_in(list(node.honest)))
    flagged = (shared.filter("flagged").select("account_id")
               .join(cleared, on="account_id", how="anti"))
    pairs = hits.join(flagged, on="account_id", how="semi")
    n_true = pairs.group_by("indicator_id").agg(pl.col("account_id").n_unique().alias("t"))
    bad = (hits.join(cleared, on="account_id", how="semi")
           .group_by("indicator_id").agg(pl.col("account_id").n_unique().alias("n"))
           .join(n_true, on="indicator_id", how="left")
           .filter((pl.col("n") > pl.col("t").fill_null(0))
                   & ~pl.col("indicator_id").is_in(list(node.fp_reported)))
           .select("indicator_id", "n").sort("indicator_id"))
    reports = [false_positive(i, identity=node.identity, count=int(n))
               for i, n in bad.iter_rows()]
    if reports:
        send_sightings(node.link, reports, node.store, guard, default_collection=collection)
        node.fp_reported.update(bad.get_column("indicator_id").to_list())
    spans = events.group_by("account_id").agg(pl.col("ts").min().alias("first_seen"),
                                              pl.col("ts").max().alias("last_seen"))
    sight = LiveSightings(node.link, node.store, guard, identity=node.identity,
                          collection=collection, window_s=0.0, lock=node.follower.lock)
    sight.note(pairs, spans)
    sight.stop()
    return list(sight.sent), reports


def _delivered(deliveries: Sequence[Any], ids: set[str]) -> float:
    """Wall time at which the last of ``ids`` was stored by a follower."""
    left = set(ids)
    for d in deliveries:
        left -= {str(o.get("id")) for o in d.objects}
        if not left:
            return float(d.stored)
    raise RuntimeError("a published object never reached the follower")


def _flag_rows(base: pl.DataFrame, shared: pl.DataFrame, lab: str, at: Any,
               lag_s: float = 0.0) -> pl.DataFrame:
    """Checkpoint state: the scan's flags and the flags with sharing folded in. A flag
    only sharing raised is written ``lag_s`` (the live path's measured latency) later."""
    return (base.select("account_id", pl.col("flagged").alias("without"))
            .join(shared.select("account_id", pl.col("flagged").alias("with")), on="account_id")
            .with_columns(pl.lit(lab).alias("lab"), pl.lit(at).alias("at"),
                          pl.lit("checkpoint").alias("kind"))
            .with_columns(pl.when(pl.col("with") & ~pl.col("without"))
                          .then(pl.col("at") + timedelta(seconds=lag_s))
                          .otherwise(pl.col("at")).alias("at_with")))


def _between(events: pl.DataFrame, accounts: pl.DataFrame, node: _Lab, ring: Any
             ) -> list[pl.DataFrame]:
    """Flags from matching each event on arrival between two checkpoints, against the
    indicators held after the first one and that scan's scores (as between two scans).
    Per-event columns only: family ids resolved with later traffic are not used."""
    from distillguard.share.store import IndicatorStore
    from distillguard.share.timeline import share_flag_times

    ev = events.drop([c for c in ("template_id",) if c in events.columns])
    out = []
    for (at, base, snap), (nxt, _, _) in zip(node.history, node.history[1:], strict=False):
        st = IndicatorStore(snap)
        try:
            got = share_flag_times(ev, accounts, base, st, keyring=ring, start=at, end=nxt,
                                   identity=node.identity)
        finally:
            st.close()
        lag = timedelta(seconds=node.checkpoint_latency.get(at, 0.0))
        out.append(got.select(
            "account_id", pl.lit(False).alias("without"), pl.lit(True).alias("with"),
            pl.lit(node.name).alias("lab"),
            pl.col("at"), pl.lit("event").alias("kind"),
            pl.when(pl.col("at") <= at).then(pl.col("at") + lag).otherwise(pl.col("at"))
            .alias("at_with")))
    return out


def _campaign_of(world: Path, published: Sequence[tuple[str, Any, list[str]]]
                 ) -> pl.DataFrame:
    """``lab, at, campaign`` for each published campaign: the simulator's campaign that
    most of its members belong to (scoring only; a lab never sees labels)."""
    rows = []
    labels: dict[str, pl.DataFrame] = {}
    for lab, at, members in published:
        if lab not in labels:
            labels[lab] = pl.read_parquet(world / lab / "labels.parquet").filter(
                pl.col("label") == "distillation").select("account_id", "campaign")
        hit = labels[lab].filter(pl.col("account_id").is_in(pl.Series(members, dtype=pl.String)
                                                            .implode()))
        if hit.height * 2 >= len(members) and hit.height:
            camp = hit.get_column("campaign").value_counts(sort=True).get_column("campaign")[0]
            rows.append({"lab": lab, "at": at, "campaign": camp})
    return pl.DataFrame(rows, schema={"lab": pl.String, "at": pl.Datetime("us", "UTC"),
                                      "campaign": pl.String})


def _score(world: Path, labs: Sequence[str], flags: pl.DataFrame,
           published: Sequence[tuple[str, Any, list[str]]]) -> pl.DataFrame:
    pubs = _campaign_of(world, published)
    rows = []
    for lab in labs:
        labels = pl.read_parquet(world / lab / "labels.parquet").filter(
            pl.col("label") == "distillation")
        first = (pl.scan_parquet(world / lab / "events.parquet")
                 .join(labels.lazy().select("account_id", "campaign"), on="account_id")
                 .group_by("campaign").agg(pl.col("ts").min().alias("first")).collect())
        f = flags.filter(pl.col("lab") == lab).join(labels.select("account_id", "campaign"),
                                                    on="account_id")
        checkpoints = flags.filter((pl.col("lab") == lab) & (pl.col("kind") == "checkpoint"))
        last = checkpoints.get_column("at").max()
        for (camp,), grp in labels.group_by(["campaign"]):
            fe = first.filter(pl.col("campaign") == camp)
            if fe.height == 0:
                continue
            start = fe.get_column("first")[0]
            g = f.filter(pl.col("campaign") == camp)
            row: dict[str, Any] = {"campaign": camp, "lab": lab, "accounts": grp.height,
                                   "first_event": start}
            hit_without = g.filter(pl.col("without") & (pl.col("kind") == "checkpoint"))
            hit_with = g.filter(pl.col("with")).get_column("at_with")
            # "at"/"at_with" are Datetime columns; polars types min() as any literal
            first_flag = cast("dict[str, datetime | None]", {
                "without": hit_without.get_column("at").min() if hit_without.height else None,
                "with": hit_with.min() if hit_with.len() else None})
            for how in ("without", "with"):
                t = first_flag[how]
                row[f"ttd_h_{how}"] = (max(0.0, _h(t - start)) if t is not None else None)
                fin = g.filter((pl.col("at") == last) & (pl.col("kind") == "checkpoint"))
                row[f"recall_{how}"] = float(fin.get_column(how).sum()) / grp.height
            pub = pubs.filter((pl.col("campaign") == camp) & (pl.col("lab") != lab))
            t_pub = pub.get_column("at").min() if pub.height else None
            row["first_pub_h"] = _h(t_pub - start) if t_pub is not None else None
            t, own = first_flag["with"], first_flag["without"]
            row["own_first"] = own is not None and (t is None or own <= t)
            # from the moment sharing could help: the publication, or the campaign's
            # arrival here when it was published before it reached this lab
            row["pub_to_flag_s"] = ((t - max(t_pub, start)).total_seconds()
                                    if t is not None and t_pub is not None
                                    and not row["own_first"] else None)
            rows.append(row)
    return pl.DataFrame(rows).sort("campaign", "lab")


def _h(d: timedelta) -> float:
    return d.total_seconds() / 3600


def _benign(world: Path, labs: Sequence[str], flags: pl.DataFrame) -> pl.DataFrame:
    """False positives at the last checkpoint, per lab, with and without sharing."""
    rows = []
    for lab in labs:
        f = flags.filter((pl.col("lab") == lab) & (pl.col("kind") == "checkpoint"))
        last = f.filter(pl.col("at") == f.get_column("at").max())
        benign = pl.read_parquet(world / lab / "labels.parquet").filter(
            pl.col("label") == "benign").select("account_id")
        b = last.join(benign, on="account_id")
        rows.append({"lab": lab, "benign": benign.height,
                     "fp_without": int(b.get_column("without").sum()),
                     "fp_with": int(b.get_column("with").sum())})
    return pl.DataFrame(rows)
