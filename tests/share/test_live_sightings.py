"""The live follower reports its matches to a running hub as STIX sightings: right count
and time range, debounced (one sighting per indicator per window), nothing raw in any
request body (wire capture + leak guard)."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import polars as pl

from distillguard.sensor.follower import Follower
from distillguard.sensor.live import LiveMatcher
from distillguard.sensor.sightings import LiveSightings
from distillguard.share.leakguard import LeakGuard
from distillguard.share.localhub import LocalHub
from distillguard.share.policy import Policy
from distillguard.share.store import IndicatorStore

from . import frames as F


def _my_guard() -> LeakGuard:
    return LeakGuard.from_frames(F.accounts("lab2-"), F.events("lab2-"), Policy())


def _requests(h: LocalHub) -> list[tuple[str, str, bytes, bytes]]:
    assert h.capture is not None
    return h.capture.requests


def _sighting_posts(h: LocalHub) -> list[dict[str, object]]:
    out = []
    for method, _, _, body in _requests(h):
        if method == "POST" and body:
            out += [o for o in orjson.loads(body)["objects"] if o["type"] == "sighting"]
    return out


def test_follower_sends_sightings_with_counts_and_time_range(hub: LocalHub,
                                                              tmp_path: Path) -> None:
    events, accounts = F.events("lab2-"), F.accounts("lab2-")
    store = IndicatorStore(tmp_path / "me.db")
    lock = threading.RLock()
    sight = LiveSightings(hub.links["me"], store, _my_guard(), identity=hub.identities["me"],
                          collection=hub.collection, window_s=0.0, lock=lock)
    matcher = LiveMatcher(events, accounts, F.lab2_scan(), keyring=F.ring(),
                          identity=hub.identities["me"], sightings=sight)
    with Follower(hub.links["me"], hub.collection, store, on_batch=matcher,
                  lock=lock) as follower:
        sent = {str(o["id"]) for o in F.publish(hub)}
        assert follower.wait_for_ids(sent, timeout=30)
    sight.stop()
    assert follower.error is None and sight.error is None
    flagged = matcher.flagged - {"lab2-acct_other"}
    assert flagged and flagged <= {f"lab2-{a}" for a in F.CAMPAIGN}
    sightings = _sighting_posts(hub)
    assert sightings and sightings == sight.sent  # what was sent is what arrived
    pairs = matcher.state.matched_accounts().filter(pl.col("account_id").is_in(list(flagged)))
    for s in sightings:
        mine = pairs.filter(pl.col("indicator_id") == s["sighting_of_ref"])
        assert s["count"] == mine.height > 0
        ev = events.filter(pl.col("account_id").is_in(mine["account_id"].implode()))
        assert str(s["first_seen"]).startswith(ev["ts"].min().strftime("%Y-%m-%dT%H:%M"))  # type: ignore[union-attr]
        assert str(s["last_seen"]).startswith(ev["ts"].max().strftime("%Y-%m-%dT%H:%M"))  # type: ignore[union-attr]
        assert s["created_by_ref"] == hub.identities["me"]
        reports = hub.store.sighting_reports(hub.collection, str(s["sighting_of_ref"]))
        assert [(r.member_name, r.count) for r in reports] == [("me", mine.height)]
    # one sighting per matched indicator, each indicator once
    refs = [s["sighting_of_ref"] for s in sightings]
    assert len(refs) == len(set(refs)) == pairs["indicator_id"].n_unique()
    # the wire: no raw value of my lab in what I sent (sighting bodies, request lines;
    # the partner's own publication carries a policy-allowed raw proxy block)
    guard = _my_guard()
    mine = [body for method, _, _, body in _requests(hub)
            if method == "POST" and b'"sighting"' in body]
    mine += [f"{p} {q.decode()}".encode() for _, p, q, _ in _requests(hub)]
    assert len(mine) > len(_requests(hub))
    for text in mine:
        assert guard.scan(text) == []
        assert b"lab2-acct" not in text
    store.close()


def test_sightings_are_debounced_per_window_and_count_new_accounts_only(
        hub: LocalHub, tmp_path: Path) -> None:
    store = IndicatorStore(tmp_path / "me.db")
    objs = F.publish(hub)
    store.add(objs, hub.collection)
    ind = sorted(str(o["id"]) for o in objs if o["type"] == "indicator")[:2]
    spans = F.events("lab2-").group_by("account_id").agg(
        pl.col("ts").min().alias("first_seen"), pl.col("ts").max().alias("last_seen"))
    sight = LiveSightings(hub.links["me"], store, _my_guard(), identity=hub.identities["me"],
                          collection=hub.collection, window_s=3600.0)
    a, b, c = (f"lab2-{x}" for x in F.CAMPAIGN[:3])

    def pairs(*p: tuple[str, str]) -> pl.DataFrame:
        return pl.DataFrame(p, schema=["indicator_id", "account_id"], orient="row")

    sight.note(pairs((ind[0], a)), spans)  # leading edge: sent at once
    assert [s["count"] for s in _sighting_posts(hub)] == [1]
    for _ in range(5):  # later deliveries within the window: nothing sent yet
        sight.note(pairs((ind[0], a), (ind[0], b), (ind[0], c), (ind[1], a)), spans)
    assert len(_sighting_posts(hub)) == 1
    sight.stop()  # the window's flush: one sighting per indicator, new accounts only
    posts = _sighting_posts(hub)
    assert sorted((s["sighting_of_ref"], s["count"]) for s in posts[1:]) == [
        (ind[0], 2), (ind[1], 1)]
    assert [r.count for r in hub.store.sighting_reports(hub.collection, ind[0])] == [3]
    assert [r.count for r in hub.store.sighting_reports(hub.collection, ind[1])] == [1]
    sight.stop()  # nothing pending: nothing sent
    assert len(_sighting_posts(hub)) == len(posts)
    store.close()


def test_a_restarted_sensor_does_not_recount_accounts_it_already_reported(
        hub: LocalHub, tmp_path: Path) -> None:
    """The hub sums a member's sighting counts: a sensor restarted over the same local
    store must count only accounts that no earlier run reported."""
    objs = F.publish(hub)
    ind = sorted(str(o["id"]) for o in objs if o["type"] == "indicator")[0]
    spans = F.events("lab2-").group_by("account_id").agg(
        pl.col("ts").min().alias("first_seen"), pl.col("ts").max().alias("last_seen"))
    a, b = (f"lab2-{x}" for x in F.CAMPAIGN[:2])

    def run(*accounts: str) -> None:
        store = IndicatorStore(tmp_path / "me.db")
        store.add(objs, hub.collection)
        sight = LiveSightings(hub.links["me"], store, _my_guard(),
                              identity=hub.identities["me"], collection=hub.collection,
                              window_s=0.0)
        sight.note(pl.DataFrame({"indicator_id": [ind] * len(accounts),
                                 "account_id": list(accounts)}), spans)
        sight.stop()
        store.close()

    run(a)
    run(a)  # restart, same match: nothing new to count, nothing sent
    assert [s["count"] for s in _sighting_posts(hub)] == [1]
    run(a, b)  # restart, one new account: a sighting that counts only it
    assert [s["count"] for s in _sighting_posts(hub)] == [1, 1]
    assert [r.count for r in hub.store.sighting_reports(hub.collection, ind)] == [2]
