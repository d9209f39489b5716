"""The live path: hub SSE push -> follower -> store -> match -> flags, on a real
in-process hub; and the event-exact flag times the story uses (no timing asserts)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import polars as pl
from typer.testing import CliRunner

from distillguard.sensor.follower import Follower
from distillguard.sensor.live import LiveMatcher
from distillguard.share.localhub import LocalHub
from distillguard.share.match import apply_boosts, match_indicators
from distillguard.share.policy import Policy
from distillguard.share.publish import build_publication
from distillguard.share.store import IndicatorStore
from distillguard.share.timeline import share_flag_times

from . import frames as F


def test_follower_matches_each_push_and_appends_flags(hub: LocalHub, tmp_path: Path) -> None:
    col, links, ids = hub.collection, hub.links, hub.identities
    flags = tmp_path / "flags.jsonl"
    matcher = LiveMatcher(F.events(prefix="lab2-"), F.accounts(prefix="lab2-"), F.lab2_scan(),
                          keyring=F.ring(), identity=ids["me"], flags_path=flags)
    store = IndicatorStore(tmp_path / "me.db")
    with Follower(links["me"], col, store, on_batch=matcher) as follower:
        sent = {str(o["id"]) for o in F.publish(hub)}  # after subscribing
        assert follower.wait_for_ids(sent, timeout=30)
    assert follower.error is None and matcher.rounds
    last = max(d.last_event_id for d in follower.deliveries)
    r = matcher.wait_for_event(last, timeout=1)
    assert r is not None and r.received <= r.stored <= r.matched <= r.written
    rows = [orjson.loads(line) for line in flags.read_bytes().splitlines()]
    flagged = {x["account_id"] for x in rows}
    assert flagged and flagged <= {f"lab2-{a}" for a in F.CAMPAIGN}
    assert all("template family" in x["share_reasons"] for x in rows)
    assert store.checkpoint(col)[1] == last  # a restart resumes after the last event
    # the same matching, done by hand on the stored indicators, flags the same accounts
    boosts = match_indicators(F.events(prefix="lab2-"), F.accounts(prefix="lab2-"), store,
                              keyring=F.ring(), identity=ids["me"])
    by_hand = apply_boosts(F.lab2_scan(), boosts).filter("flagged")["account_id"].to_list()
    assert flagged == set(by_hand) - {"lab2-acct_other"}
    store.close()


def test_cli_pull_follow_match_writes_flags(hub: LocalHub, tmp_path: Path) -> None:
    from distillguard.cli.main import app

    col, links, ids = hub.collection, hub.links, hub.identities
    n = len(F.publish(hub))
    data = tmp_path / "lab"
    data.mkdir()
    ev = F.events(prefix="lab2-").with_columns(
        pl.lit("Please solve the following olympiad problem and show every reasoning step "
               "clearly: x = 1").alias("prompt"), pl.lit("aurora-2").alias("model"),
        pl.lit(100).alias("input_tokens"), pl.lit(900).alias("output_tokens"))
    ev.write_parquet(data / "events.parquet")
    F.accounts(prefix="lab2-").with_columns(
        pl.lit("2026-01-01T00:00:00Z").str.to_datetime(time_zone="UTC").alias("created_at")
    ).write_parquet(data / "accounts.parquet")
    scan = tmp_path / "scan"
    scan.mkdir()
    # stage 1 recomputes our own template ids from the prompt text, so only the card,
    # domain and block match here: infrastructure alone flags only accounts whose own
    # score was already half-way (0.35 >= 0.6 / 2)
    F.lab2_scan().with_columns(pl.when(pl.col("account_id").str.contains("evil")).then(0.35)
                         .otherwise(pl.col("score")).alias("score")
                         ).write_csv(scan / "accounts.csv")
    ring = tmp_path / "ring.yaml"
    from distillguard.share.keys import save_keyring

    save_keyring(F.ring(), ring)
    flags = tmp_path / "flags.jsonl"
    r = CliRunner().invoke(app, [
        "share", "pull", "--collection", col, "--store", str(tmp_path / "st.db"), "--follow",
        "--max", str(n), "--match", str(data), "--scan", str(scan), "--keyring", str(ring),
        "--identity", ids["me"], "--flags", str(flags), "--hub", links["me"].url,
        "--user", "me", "--password", links["me"].password])
    assert r.exit_code == 0, r.output
    assert "newly flagged" in r.output
    assert "sighting(s) sent" in r.output and "0 sighting(s) sent" not in r.output
    rows = [orjson.loads(line) for line in flags.read_bytes().splitlines()]
    assert rows and {x["account_id"] for x in rows} <= {f"lab2-{a}" for a in F.CAMPAIGN}


def test_flag_times_agree_with_matching_the_traffic_seen_so_far() -> None:
    st = IndicatorStore()
    policy = Policy(collection="col-1", min_confidence=0)
    pub = build_publication([F.campaign()], F.accounts(), F.events(), policy=policy,
                            keyring=F.ring(), identity="identity--partner",
                            skeletons=F.skeletons())
    st.add(pub.objects, "col-1")
    # per-event skeleton ids only (a raw skeleton counts once it has repeated 3 times);
    # no card/domain, so flags depend on traffic seen so far
    events = F.events(prefix="lab2-").rename({"template_id": "tpl_head"})
    accounts = F.accounts(prefix="lab2-").drop("payment_fingerprint", "email_domain")
    start = F.T0 + timedelta(minutes=25)
    end = F.T0 + timedelta(hours=6)
    got = share_flag_times(events, accounts, F.lab2_scan(), st, keyring=F.ring(), start=start,
                           end=end, identity="identity--me")
    assert got.height > 0
    assert (got["at"] >= start).all() and (got["at"] <= end).all()
    times = sorted({start, end, *events.filter(
        (pl.col("ts") > start) & (pl.col("ts") <= end))["ts"].to_list()})
    first: dict[str, object] = {}
    for t in times:
        seen = events.filter(pl.col("ts") <= t)
        out = apply_boosts(F.lab2_scan(), match_indicators(seen, accounts, st, keyring=F.ring(),
                                                     identity="identity--me"))
        live = set(seen["account_id"].unique().to_list())
        for a in out.filter("flagged")["account_id"].to_list():
            if a in live and a != "lab2-acct_other":
                first.setdefault(a, t)
    assert dict(zip(got["account_id"].to_list(), got["at"].to_list(), strict=True)) == first
    assert all(a.startswith("lab2-acct_evil") for a in first)
