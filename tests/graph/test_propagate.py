"""Propagation ties: what a group lends along, measured on hand-built incidence."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from distillguard.graph.build import build_graph
from distillguard.graph.propagate import (
    behaviour_tie,
    group_evidence,
    in_group_strength,
    propagate_scores,
)


def _incidence(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [a for a, _, _ in rows],
            "kind": ["template"] * len(rows),
            "entity": [e for _, e, _ in rows],
            "n": [10] * len(rows),
            "share": [s for _, _, s in rows],
        }
    )


def _world() -> tuple[pl.DataFrame, list[str], dict[str, int], np.ndarray, np.ndarray]:
    """Group 0: a small fleet (4 anchors, 1 quiet member ``q``) on its own template ``tq``,
    one anchor of which also sends ``tbig``; an honest member ``h`` sends only ``tbig``.
    Group 1: a large fleet (12 anchors) that carries ``tbig``. 60 bystanders pad the
    population so templates are rare."""
    small = [f"s{i}" for i in range(4)]
    big = [f"b{i:02d}" for i in range(12)]
    pad = [f"x{i:02d}" for i in range(60)]
    rows = [(a, "tq", 1.0) for a in small[1:]] + [(small[0], "tq", 0.5), (small[0], "tbig", 0.5)]
    rows += [("q", "tq", 1.0), ("h", "tbig", 1.0)]
    rows += [(a, "tbig", 1.0) for a in big]
    rows += [(a, f"own-{a}", 1.0) for a in pad]
    ids = sorted(small + big + pad + ["q", "h"])
    idx = {a: i for i, a in enumerate(ids)}
    groups = np.full(len(ids), -1, dtype=np.int64)
    anchors = np.zeros(len(ids), dtype=bool)
    for a in [*small, "q", "h"]:
        groups[idx[a]] = 0
    for a in big:
        groups[idx[a]] = 1
    for a in small + big:
        anchors[idx[a]] = True
    return _incidence(rows), ids, idx, groups, anchors


def _z(local_share: float) -> dict[str, float]:
    inc, ids, idx, groups, anchors = _world()
    graph = build_graph(inc, ids, max_entity_share=0.5)
    z = in_group_strength(
        inc, graph, groups, np.array([True, True]), anchors, local_share=local_share
    )
    g0 = z.filter(pl.col("g") == 0)
    by_v = dict(zip(g0.get_column("v").to_list(), g0.get_column("z").to_list(), strict=True))
    return {a: by_v.get(idx[a], 0.0) for a in ("q", "h")}


def test_quiet_fleet_member_is_tied_through_the_groups_own_template() -> None:
    z = _z(0.5)
    assert z["q"] > 0.2


def test_member_tied_only_through_another_fleets_template_is_not_this_groups_evidence() -> None:
    """``tbig`` is carried by group 1's anchors (12 of its 13 anchor users): it is group 1's
    evidence. Without locality the honest member ``h`` of group 0, who sends only ``tbig``,
    looks as tied to group 0 as the quiet fleet member; with it, ``h`` keeps a small
    fraction (1 local anchor of 13, over the 0.5 local share)."""
    without, with_ = _z(0.0), _z(0.5)
    assert without["h"] >= 0.5 * without["q"]
    assert with_["h"] < 0.25 * with_["q"]
    # the group's own template keeps its full weight (chance overlap, the null, shrinks)
    assert with_["q"] >= without["q"]


def _ties(typical_share: float) -> dict[str, float]:
    """Three lending groups: two coherent fleets (anchors' z 0.3) and an honest org merged
    with a few part-1 false positives whose anchors barely share anything (z 0.01)."""
    rows = []  # (name, group, anchor, z)
    for g in (0, 1):
        rows += [(f"f{g}a{i}", g, True, 0.3) for i in range(4)] + [(f"f{g}q", g, False, 0.3)]
    rows += [(f"oa{i}", 2, True, 0.01) for i in range(3)] + [("colleague", 2, False, 0.04)]
    groups = np.array([r[1] for r in rows])
    anchors = np.array([r[2] for r in rows])
    z = pl.DataFrame({"v": np.arange(len(rows)), "g": groups, "kind": ["template"] * len(rows),
                      "obs": [r[3] for r in rows], "z": [r[3] for r in rows]})
    tie, _ = behaviour_tie(z, groups, anchors, np.ones(len(rows), dtype=bool), min_ref=0.05,
                           typical_share=typical_share)
    return {r[0]: float(t) for r, t in zip(rows, tie, strict=True)}


def test_an_incoherent_group_is_not_its_own_reference() -> None:
    """Compared with its own anchors (z 0.01, floored at min_ref 0.05) the colleague with z
    0.04 looks almost fully tied; compared with half the typical lending group's coherence
    (0.5 x 0.3) it is a quarter tied. Fleet members keep their full tie."""
    own, typical = _ties(0.0), _ties(0.5)
    assert own["colleague"] == pytest.approx(0.8)
    assert typical["colleague"] == pytest.approx(0.04 / 0.15)
    assert own["f0q"] == typical["f0q"] == pytest.approx(1.0)


def _propagated(combine_own: bool, own_q: float) -> dict[str, float]:
    """The hand-built world with part-1 scores: anchors 0.9, the quiet fleet member ``q`` at
    ``own_q``, everyone else at the honest bulk's ~0.01; Leiden groups = the two groups."""
    inc, ids, idx, groups, anchors = _world()
    graph = build_graph(inc, ids, max_entity_share=0.5)
    scores = np.where(anchors, 0.9, 0.01)
    scores[idx["q"]] = own_q
    res = propagate_scores(graph, inc, scores, groups, np.full(len(ids), -1),
                           combine_own=combine_own)
    return {a: float(res.score[idx[a]]) for a in ("q", "h", "x00")} | {
        "lent_q": float(res.evidence[idx["q"]] * res.tie[idx["q"]])}


def test_own_and_lent_evidence_combine_instead_of_the_larger_winning() -> None:
    """A fleet member with some part-1 evidence of its own and a partial tie carries both;
    max() kept only the larger. An honest bulk account gains at most its own ~0.01 (the
    noisy-OR adds min(own, lent) - own * lent), and an account in no lending group keeps
    its score."""
    for own_q in (0.05, 0.3):
        before, after = _propagated(False, own_q), _propagated(True, own_q)
        lent = after["lent_q"]
        assert 0.0 < lent < 1.0
        assert before["q"] == pytest.approx(max(own_q, lent))
        assert after["q"] == pytest.approx(1 - (1 - own_q) * (1 - lent))
        assert after["q"] > before["q"]
        assert after["h"] - before["h"] <= 0.01 + 1e-12
        assert after["x00"] == before["x00"] == 0.01


def _with_customer() -> tuple[pl.DataFrame, list[str], dict[str, int], np.ndarray, np.ndarray]:
    """The hand-built world plus request counts: every account has an ``asn`` row carrying
    all its requests. ``r`` is an honest customer of the small fleet's reseller (group 0):
    one of its 121 requests is on the fleet's template ``tq``, the rest untemplated. The
    quiet fleet member ``q`` sends ``tq`` for 12 of its 24 requests."""
    inc, ids, idx, groups, anchors = _world()
    n_tpl = {a: 10 for a in ids} | {"q": 12}
    total = {a: 10 for a in ids} | {"q": 24, "r": 121}
    inc = inc.with_columns(
        pl.col("account_id").replace_strict(n_tpl, return_dtype=pl.Int64).alias("n"))
    r_row = pl.DataFrame({"account_id": ["r"], "kind": ["template"], "entity": ["tq"],
                          "n": [1], "share": [1.0]})
    asn = pl.DataFrame({"account_id": list(total), "kind": ["asn"] * len(total),
                        "entity": ["AS1"] * len(total), "n": list(total.values()),
                        "share": [1.0] * len(total)})
    inc = pl.concat([inc, r_row, asn])
    ids = sorted([*ids, "r"])
    idx = {a: i for i, a in enumerate(ids)}
    old = {a: i for i, a in enumerate(sorted(set(ids) - {"r"}))}
    g = np.full(len(ids), -1, dtype=np.int64)
    anc = np.zeros(len(ids), dtype=bool)
    for a, i in old.items():
        g[idx[a]], anc[idx[a]] = groups[i], anchors[i]
    g[idx["r"]] = 0
    return inc, ids, idx, g, anc


def _raised(min_coverage: float) -> dict[str, float]:
    inc, ids, idx, groups, anchors = _with_customer()
    graph = build_graph(inc, ids, max_entity_share=0.5)
    scores = np.where(anchors, 0.9, 0.01)
    res = propagate_scores(graph, inc, scores, groups, np.full(len(ids), -1),
                           min_coverage=min_coverage)
    return {a: float(res.score[idx[a]]) for a in ("q", "r")} | {
        "tie_r": float(res.tie[idx["r"]]), "tie_q": float(res.tie[idx["q"]])}


def test_one_fleet_template_among_many_untemplated_requests_is_no_tie() -> None:
    """The tie is measured among an account's templated requests, so one shared template
    among 121 requests read as fully tied and lent the fleet's evidence to an honest
    customer (round 3). Scaled by coverage (1/121 of its requests, under the 10% that
    count fully) it lends ~8% of that; the quiet fleet member, half of whose requests are
    the fleet's template, keeps its full tie."""
    off, on = _raised(0.0), _raised(0.1)
    assert off["tie_r"] == pytest.approx(1.0)
    assert off["r"] >= 0.5
    assert on["tie_r"] == pytest.approx(off["tie_r"] * (1 / 121) / 0.1)
    assert on["r"] < 0.2
    assert on["tie_q"] == off["tie_q"] > 0.5
    assert on["q"] == pytest.approx(off["q"])


def _two_level(anchor_score: float | None, fleet: float) -> dict[str, float]:
    """The hand-built world with the small fleet's four loud accounts at ``fleet`` (just
    under part 1's flag at 0.5, or above it), the big fleet at 0.9, the rest at 0.01."""
    inc, ids, idx, groups, anchors = _world()
    graph = build_graph(inc, ids, max_entity_share=0.5)
    scores = np.where(anchors, 0.9, 0.01)
    for a in ("s0", "s1", "s2", "s3"):
        scores[idx[a]] = fleet
    res = propagate_scores(graph, inc, scores, groups, np.full(len(ids), -1),
                           anchor_score=anchor_score)
    return {a: float(res.score[idx[a]]) for a in ("q", "h", "x00", "s1")}


def test_anchors_just_under_a_strict_flag_still_lend() -> None:
    """Part 1's flag is strict; a low-and-slow fleet's loudest accounts at 0.48 are not
    flagged but are evidence of the group. As anchors (>= 0.3) they lend to the quiet
    member on the anchor scale (0.48 reads as 0.68 there, over the 0.5 + 0.3 x 0.5 gate: the
    top members must still be well above the anchor level); with anchors only at the flag
    (the default, ``anchor_score`` None) nothing is lent. An anchor level at or above the
    flag is the single-level rule exactly, and an account in no lending group keeps its
    score."""
    single, two = _two_level(None, 0.48), _two_level(0.3, 0.48)
    assert single["q"] == 0.01 and single["s1"] == 0.48
    assert two["q"] >= 0.5 > single["q"]
    assert two["x00"] == 0.01
    weak = _two_level(0.3, 0.4)  # top members not well above the anchor level: no lending
    assert weak["q"] == 0.01
    assert _two_level(0.6, 0.9) == _two_level(0.5, 0.9) == _two_level(None, 0.9)
    assert _two_level(0.3, 0.9)["q"] >= _two_level(None, 0.9)["q"]


def test_evidence_anchor_cap_reads_a_small_fleet_on_its_own_anchors() -> None:
    """A 200-member community: 8 fleet anchors at 0.9, the rest honest at 0.05. By default
    the evidence is the top-decile mean (20 members, 12 of them honest) and falls below a
    0.65 gate; capped at the anchor count it is the anchors' own 0.9. Measured off by
    default: honest cohorts (a class, jailbreakers sharing public prompts) reach the same
    anchor counts and lent too (docs/linking.md, "Paraphrasing fleets")."""
    scores = np.array([0.9] * 8 + [0.05] * 192)
    groups = np.zeros(200, dtype=np.int64)
    anchors = scores >= 0.5
    ev, members = group_evidence(groups, scores, quantile=0.1, min_members=3)
    assert ev[0] == pytest.approx((8 * 0.9 + 12 * 0.05) / 20)
    assert members.sum() == 20
    ev_cap, members_cap = group_evidence(groups, scores, quantile=0.1, min_members=3,
                                         anchors=anchors)
    assert ev_cap[0] == pytest.approx(0.9)
    assert members_cap.sum() == 8
    # never below min_members: two anchors are read with the best honest member
    ev2, _ = group_evidence(groups, np.array([0.9, 0.9] + [0.05] * 198), quantile=0.1,
                            min_members=3, anchors=np.array([True, True] + [False] * 198))
    assert ev2[0] == pytest.approx((0.9 + 0.9 + 0.05) / 3)


def test_a_shared_request_profile_alone_lends_nothing_by_default() -> None:
    """Six fleet anchors send template ``tf`` with request profile ``p``; an honest member
    ``h`` of their group shares only the profile (same max_tokens/temperature/shape, no
    template). Profiles only shape clusters: ``h`` is not raised unless ``profile`` is made
    a tie kind -- measured to flag honest agent developers (26-29 of 90) and research labs
    (13 of 16) on the simulated worlds (docs/linking.md, "Paraphrasing fleets")."""
    fleet = [f"f{i}" for i in range(6)]
    pad = [f"x{i:02d}" for i in range(60)]
    rows = [(a, "template", "tf") for a in fleet] + [(a, "profile", "p") for a in fleet]
    rows += [("h", "profile", "p"), ("h", "template", "own-h")]
    rows += [(a, "template", f"own-{a}") for a in pad]
    inc = pl.DataFrame({"account_id": [r[0] for r in rows], "kind": [r[1] for r in rows],
                        "entity": [r[2] for r in rows], "n": [10] * len(rows),
                        "share": [1.0] * len(rows)})
    ids = sorted([*fleet, *pad, "h"])
    idx = {a: i for i, a in enumerate(ids)}
    graph = build_graph(inc, ids, max_entity_share=0.5)
    scores = np.full(len(ids), 0.02)
    groups = np.full(len(ids), -1, dtype=np.int64)
    for a in [*fleet, "h"]:
        groups[idx[a]] = 0
    for a in fleet:
        scores[idx[a]] = 0.9
    none = np.full(len(ids), -1, dtype=np.int64)
    shaped = propagate_scores(graph, inc, scores, groups, none, anchor_threshold=0.5)
    assert shaped.score[idx["h"]] == pytest.approx(0.02)
    lent = propagate_scores(graph, inc, scores, groups, none, anchor_threshold=0.5,
                            tie_kinds=frozenset({"template", "profile"}))
    assert lent.score[idx["h"]] > 0.5


def test_anchors_that_may_not_lend_lend_nothing() -> None:
    """``lenders``: the small group's anchors flagged on content alone (no operation
    evidence, decided by the caller) are no evidence for the group: its quiet member is
    not raised, while the big group (lenders) and every own score are as before."""
    inc, ids, idx, groups, anchors = _world()
    graph = build_graph(inc, ids, max_entity_share=0.5)
    scores = np.where(anchors, 0.9, 0.01)
    kw = {"combine_own": True}
    base = propagate_scores(graph, inc, scores, groups, np.full(len(ids), -1), **kw)
    lenders = np.ones(len(ids), dtype=bool)
    for a in ("s0", "s1", "s2", "s3"):
        lenders[idx[a]] = False
    res = propagate_scores(graph, inc, scores, groups, np.full(len(ids), -1),
                           lenders=lenders, **kw)
    assert base.score[idx["q"]] > 0.5  # the group lends when its anchors may
    assert res.score[idx["q"]] == pytest.approx(0.01)
    assert res.evidence[idx["q"]] == 0.0
    np.testing.assert_allclose(res.score[groups == 1], base.score[groups == 1])
    assert (res.score >= scores).all()
