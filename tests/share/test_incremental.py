"""Incremental live matching == a full recompute over the whole store, after every
delivery: new publications, own indicators, sightings (corroboration and false-positive
reports), a revocation, a modified version and an expired indicator."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from distillguard.share.incremental import IncrementalMatch, touched_ids
from distillguard.share.match import match_indicators
from distillguard.share.publish import build_publication
from distillguard.share.sightings import false_positive
from distillguard.share.store import IndicatorStore
from distillguard.stix.extension import sighting

from . import frames as F
from .frames import ME, OTHER, PARTNER, POLICY


def _pub(identity: str, score: float = 0.9, skeletons: bool = True) -> list[dict[str, Any]]:
    return build_publication([F.campaign(score)], F.accounts(), F.events(), policy=POLICY,
                             keyring=F.ring(), identity=identity,
                             skeletons=F.skeletons() if skeletons else None).objects


def _later(obj: dict[str, Any], **kw: Any) -> dict[str, Any]:
    new = copy.deepcopy(obj)
    new.update(modified="2099-01-01T00:00:00.000Z", **kw)
    return new


def _deliveries() -> list[list[dict[str, Any]]]:
    p = _pub(PARTNER)
    inds = [o for o in p if o["type"] == "indicator"]
    o = _pub(OTHER, 0.7, skeletons=False)
    return [
        p,
        o,
        _pub(ME),  # our own publication comes back on the channel: ignored
        [sighting(inds[0]["id"], reporter_identity=OTHER, count=3)],
        [false_positive(inds[1]["id"], identity=OTHER, count=2)],
        [_later(inds[2], revoked=True)],
        [_later(inds[3], confidence=10)],
        [_later(inds[4], valid_until="2000-01-01T00:00:00.000Z")],
    ]


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort("account_id")


def test_incremental_equals_full_recompute_after_every_delivery() -> None:
    events, accounts = F.events(prefix="lab2-"), F.accounts(prefix="lab2-")
    store = IndicatorStore()
    inc = IncrementalMatch(events, accounts, F.ring(), identity=ME, skeletons=F.skeletons())
    seen_boost = False
    for objs in _deliveries():
        store.add(objs, "col-1")
        inc.update(store, touched_ids(objs))
        full = match_indicators(events, accounts, store, keyring=F.ring(), identity=ME,
                                skeletons=F.skeletons())
        got = inc.boosts()
        assert_frame_equal(_sorted(got), _sorted(full), check_exact=False, rtol=1e-12)
        seen_boost |= bool((got["share_boost"] > 0).any())
    assert seen_boost
    # a rebuild from the store gives the same state as the deliveries did
    again = IncrementalMatch(events, accounts, F.ring(), identity=ME, skeletons=F.skeletons())
    again.update(store)
    assert_frame_equal(_sorted(again.boosts()), _sorted(inc.boosts()), check_exact=False,
                       rtol=1e-12)


def test_expired_indicators_stop_matching_at_use_time() -> None:
    events, accounts = F.events(prefix="lab2-"), F.accounts(prefix="lab2-")
    objs = [_later(o, valid_until="2030-01-01T00:00:00.000Z") if o["type"] == "indicator"
            else o for o in _pub(PARTNER)]
    store = IndicatorStore()
    store.add(objs, "col-1")
    inc = IncrementalMatch(events, accounts, F.ring(), identity=ME)
    inc.update(store, touched_ids(objs))
    assert (inc.boosts(datetime(2029, 1, 1, tzinfo=UTC))["share_boost"] > 0).any()
    assert (inc.boosts(datetime(2031, 1, 1, tzinfo=UTC))["share_boost"] == 0).all()
    matched = inc.matched_accounts(datetime(2029, 1, 1, tzinfo=UTC))
    assert set(matched["account_id"]) <= {f"lab2-{a}" for a in F.CAMPAIGN}
    assert inc.matched_accounts(datetime(2031, 1, 1, tzinfo=UTC)).height == 0


def test_own_sightings_do_not_corroborate_our_own_matching() -> None:
    """The live sensor's sightings come back on the push channel; counting them would
    make every flag raise the confidence that produced it."""
    events, accounts = F.events(prefix="lab2-"), F.accounts(prefix="lab2-")
    objs = _pub(PARTNER)
    store = IndicatorStore()
    store.add(objs, "col-1")
    inc = IncrementalMatch(events, accounts, F.ring(), identity=ME)
    inc.update(store)
    before = inc.boosts()
    mine = [sighting(str(o["id"]), reporter_identity=ME, count=4)
            for o in objs if o["type"] == "indicator"]
    store.add(mine, "col-1")
    inc.update(store, touched_ids(mine))
    assert_frame_equal(_sorted(inc.boosts()), _sorted(before))
    other = [sighting(str(o["id"]), reporter_identity=OTHER, count=4)
             for o in objs if o["type"] == "indicator"]
    store.add(other, "col-1")
    inc.update(store, touched_ids(other))
    assert inc.boosts()["share_boost"].sum() > before["share_boost"].sum()
