from __future__ import annotations

import polars as pl

from distillguard.share.keys import new_keyring
from distillguard.share.match import (
    MatchCache,
    apply_boosts,
    match_indicators,
    matched_indicators,
)
from distillguard.share.publish import build_publication
from distillguard.share.sightings import build_sightings, false_positive
from distillguard.share.store import IndicatorStore
from distillguard.stix import validate_stix

from . import frames as F
from .frames import ME, OTHER, PARTNER, POLICY


def _store(identity: str = PARTNER, ring=None) -> IndicatorStore:  # type: ignore[no-untyped-def]
    pub = build_publication([F.campaign()], F.accounts(), F.events(), policy=POLICY,
                            keyring=ring or F.ring(), identity=identity, skeletons=F.skeletons())
    st = IndicatorStore()
    assert st.add(pub.objects, "col-1") == len(pub.objects)
    return st


def _my_lab() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Our lab: other account ids, same operation (card, domain, blocks, template)."""
    return F.events(prefix="lab2-"), F.accounts(prefix="lab2-")


def test_partner_indicators_boost_the_same_operation_at_another_lab() -> None:
    st = _store()
    events, accounts = _my_lab()
    out = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    assert out.height == accounts.height
    assert out["share_boost"].is_between(0, 1).all()
    evil = out.filter(pl.col("account_id").str.contains("evil"))
    good = out.filter(pl.col("account_id").str.contains("good"))
    assert evil["share_boost"].min() > good["share_boost"].max()
    assert (good["share_boost"] == 0).all()  # webmail + shared cloud egress never leave
    reasons = evil.filter(pl.col("account_id") == "lab2-acct_evil_0")["share_reasons"][0]
    assert "template family matches an indicator published by 1 other member" in reasons
    assert "payment fingerprint" in reasons and "IP block" in reasons


def test_more_publishers_more_boost_and_own_indicators_ignored() -> None:
    st = _store(PARTNER)
    events, accounts = _my_lab()
    one = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    pub2 = build_publication([F.campaign()], F.accounts(), F.events(), policy=POLICY,
                             keyring=F.ring(), identity=OTHER)
    st.add(pub2.objects, "col-1")
    two = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    j = one.join(two, on="account_id", suffix="_2").filter(pl.col("share_boost") > 0)
    assert (j["share_boost_2"] > j["share_boost"]).all()
    assert "published by 2 other members" in j["share_reasons_2"][0]
    # seen from the partner's side, its own indicators do not count
    mine = match_indicators(events, accounts, _store(ME), keyring=F.ring(), identity=ME)
    assert (mine["share_boost"] == 0).all()


def test_other_consortium_key_matches_nothing() -> None:
    st = _store()
    events, accounts = _my_lab()
    stranger = new_keyring("forum-test", ["2026-02"], master=b"z" * 32)
    out = match_indicators(events, accounts, st, keyring=stranger, identity=ME)
    # only the raw (policy-allowed) datacenter block can match without the key
    assert set(out.filter(pl.col("share_boost") > 0)["share_reasons"]) <= {
        "IP block matches an indicator published by 1 other member"}


def test_fuzzy_template_match_through_sketches() -> None:
    st = _store()
    events, accounts = F.events(prefix="lab2-", evil_template=42), F.accounts(prefix="lab2-")
    # our family has a different id (another wording) but a near-identical skeleton
    sk = pl.DataFrame({"template_id": [42], "skeleton": [
        "please solve the following olympiad problem, and show"]},
        schema={"template_id": pl.UInt64, "skeleton": pl.String})
    plain = match_indicators(events, accounts.drop("payment_fingerprint", "email_domain"), st,
                             keyring=F.ring(), identity=ME)
    fuzzy = match_indicators(events, accounts.drop("payment_fingerprint", "email_domain"), st,
                             keyring=F.ring(), identity=ME, skeletons=sk)
    a = "lab2-acct_evil_1"
    assert "template family" not in plain.filter(pl.col("account_id") == a)["share_reasons"][0]
    assert "template family" in fuzzy.filter(pl.col("account_id") == a)["share_reasons"][0]


def test_false_positive_reports_lower_the_boost_and_revocation_drops() -> None:
    st = _store()
    events, accounts = _my_lab()
    before = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    hits = matched_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    assert hits.height >= 3 and (hits["n_accounts"] >= 1).all()
    sightings = build_sightings(hits, identity=ME)
    for s in sightings:
        assert validate_stix(s).valid
        assert "lab2-" not in str(s)  # counts and times only
    fps = [false_positive(i, identity=OTHER) for i in hits["indicator_id"]]
    st.add(fps)
    after = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    j = before.join(after, on="account_id", suffix="_a").filter(pl.col("share_boost") > 0)
    assert (j["share_boost_a"] < j["share_boost"]).all()
    assert "false-positive" in j["share_reasons_a"][0]
    # revoking every indicator removes every boost
    import orjson

    revoked = []
    for (body,) in st.db.execute("SELECT body FROM objects WHERE type='indicator'").fetchall():
        obj = orjson.loads(body)
        revoked.append({**obj, "revoked": True, "modified": "2099-01-01T00:00:00.000Z"})
    st.add(revoked)
    gone = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    assert (gone["share_boost"] == 0).all()


def test_our_own_false_positive_report_counts_against_the_indicator_for_us() -> None:
    """Our own positive sightings corroborate nothing for us; our own false-positive report
    (we reviewed what the indicator matched and found it honest) does lower it for us."""
    st = _store()
    events, accounts = _my_lab()
    before = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    hits = matched_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    st.add(build_sightings(hits, identity=ME))
    same = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    assert (same.sort("account_id")["share_boost"].to_list()
            == before.sort("account_id")["share_boost"].to_list())
    st.add([false_positive(i, identity=ME) for i in hits["indicator_id"]])
    after = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
    j = before.join(after, on="account_id", suffix="_a").filter(pl.col("share_boost") > 0)
    assert j.height and (j["share_boost_a"] < j["share_boost"]).all()


def test_apply_boosts_flags_only_on_corroborated_partner_evidence() -> None:
    scan = pl.DataFrame({"account_id": ["a", "b", "c", "d", "e"],
                         "score": ["0.9", "0.3", "0.1", "0.1", "0.5"],
                         "flagged": ["true", "false", "false", "false", "false"],
                         "cluster_id": [""] * 5, "reasons": ["x", "", "", "", ""]})
    boosts = pl.DataFrame({
        "account_id": ["a", "b", "c", "d", "e"], "share_boost": [0.5, 0.9, 0.0, 0.95, 0.9],
        "share_reasons": ["r1", "r2", "", "r4", "r5"],
        "share_signals": ["prompt-template", "payment-fingerprint,prompt-template", "",
                          "email-domain,network-infrastructure", "email-domain"]})
    out = apply_boosts(scan, boosts).sort("account_id")
    # b: template + card corroborate; d: infrastructure only (a reseller's honest
    # customers share it) never flags; e: its own score was already half-way there
    assert out["flagged"].to_list() == [True, True, False, False, True]
    assert out["reasons"].to_list() == ["x; r1", "r2", "", "r4", "r5"]
    assert abs(out["score"][1] - (1 - 0.7 * 0.1)) < 1e-9
    assert out["score"][3] > 0.9  # the score still rises


def test_without_a_keyring_only_raw_infrastructure_matches(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DISTILLGUARD_KEYRING", raising=False)
    st = _store()
    events, accounts = _my_lab()
    out = match_indicators(events, accounts, st)
    hit = out.filter(pl.col("share_boost") > 0)
    assert hit.height > 0
    assert set(hit["share_reasons"]) == {"IP block matches an indicator published by 1 other member"}


def test_a_cache_kept_across_calls_gives_the_same_boosts() -> None:
    events, accounts = _my_lab()
    st = IndicatorStore()
    cache = MatchCache()
    for identity in (PARTNER, OTHER):  # the store grows between two calls
        pub = build_publication([F.campaign()], F.accounts(), F.events(), policy=POLICY,
                                keyring=F.ring(), identity=identity)
        st.add(pub.objects, "col-1")
        fresh = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME)
        cached = match_indicators(events, accounts, st, keyring=F.ring(), identity=ME,
                                  cache=cache)
        j = fresh.join(cached, on="account_id", suffix="_c")
        assert j.height == fresh.height == cached.height
        # products of per-publisher terms may sum in another order: equal to the ulp
        assert ((j["share_boost"] - j["share_boost_c"]).abs() < 1e-12).all()
        assert (j["share_signals"] == j["share_signals_c"]).all()
        assert (fresh["share_boost"] > 0).any()
    assert cache.frames  # it did keep something
