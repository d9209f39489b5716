"""Score propagation inside clusters, in proportion to tie strength.

An operation's low-and-slow accounts look clean on their own: few requests, human-ish
pacing. What gives them away is that they share cards, sign-up bursts, templates and
timing with accounts that do not look clean. Propagation lets that evidence flow:

    propagated_i = max(own_i, evidence(G) * tie_i(G))     for G = i's cluster, i's dense block

* ``evidence(G)`` is the mean of the top ``max(min_evidence_members, evidence_quantile*|G|)``
  member scores: a group needs several strong members before it lends anything (one false
  positive in a 50-account company does not taint the company), and a hydra cluster where
  only a third of the accounts are loud still lends fully to the rest.
* ``tie_i(G)`` is the account's tie strength to the rest of ``G`` (account-centric and
  null-corrected, see ``in_group_strength``) relative to the typical
  tie strength of G's strongest-evidence members (capped at ``tie_unit``, one fully shared
  specific entity), clipped to ``[0, 1]``. Ties through infrastructure kinds (IPs, /24, ASN,
  TLS, user agent, cards, org, e-mail domain, sign-up burst: everything an honest customer
  of a proxy reseller can share with the operation mixed into the same pool, because the
  reseller bought and runs all those accounts) count only ``infra_discount`` as much and at
  most ``infra_cap``. Behaviour ties (shared templates, system prompts, lockstep timing with
  the flagged members) count fully. So resold honest customers get a small tie and stay
  below the flag threshold, while low-and-slow fleet accounts that send the fleet's
  templates on the fleet's schedule get a tie near 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from distillguard.graph.build import BEHAVIOUR_KINDS, DEFAULT_KIND_WEIGHTS, AccountGraph


@dataclass(frozen=True)
class PropagationResult:
    """Per-vertex arrays: propagated score, group evidence and tie used, and who raised it."""

    score: np.ndarray
    evidence: np.ndarray
    tie: np.ndarray
    raised_by: np.ndarray  # 0 = own score, 1 = cluster, 2 = dense block


def group_evidence(
    groups: np.ndarray, scores: np.ndarray, *, quantile: float, min_members: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex evidence of its group and a mask of the group's evidence members.

    Vertices with ``groups < 0`` are in no group (evidence 0). Evidence is the mean of the
    top ``k = max(min_members, ceil(quantile * size))`` scores; groups smaller than
    ``min_members`` get no evidence.
    """
    n = len(scores)
    df = pl.DataFrame({"g": groups, "s": scores, "v": np.arange(n)}).filter(pl.col("g") >= 0)
    if df.height == 0:
        return np.zeros(n), np.zeros(n, dtype=bool)
    df = df.with_columns(
        pl.len().over("g").alias("size"),
        pl.col("s").rank("ordinal", descending=True).over("g").alias("r"),
    ).with_columns(
        pl.max_horizontal(
            pl.lit(min_members), (pl.col("size") * quantile).ceil().cast(pl.Int64)
        ).alias("k")
    )
    top = df.filter((pl.col("r") <= pl.col("k")) & (pl.col("size") >= min_members))
    ev = top.group_by("g").agg(pl.col("s").mean().alias("e"))
    df = df.join(ev, on="g", how="left").with_columns(pl.col("e").fill_null(0.0))
    evidence = np.zeros(n)
    evidence[df.get_column("v").to_numpy()] = df.get_column("e").to_numpy()
    members = np.zeros(n, dtype=bool)
    members[top.get_column("v").to_numpy()] = True
    return evidence, members


def in_group_strength(
    incidence: pl.DataFrame,
    graph: AccountGraph,
    groups: np.ndarray,
    candidates: np.ndarray,
    anchors: np.ndarray,
    *,
    infra_discount: float,
    kind_weights: dict[str, float],
    infra_cap: float = 0.0,
    anchor_weighting: str = "count",
) -> tuple[np.ndarray, pl.DataFrame]:
    """Account-centric tie strength to its own group, corrected by a data-learned null.

    For member ``i`` of group ``G`` and kind ``k``: ``obs`` is the specificity-weighted share of
    i's activity of kind k on entities that G's *anchors* (members part 1 already flagged:
    the evidence that propagates) also touched, ``sum share * idf * c / degree`` with ``c``
    the number of other anchors on the entity: the entity counts by how much it *belongs to
    the flagged part of the group*. Ties to the evidence, not to any member: two honest
    customers in one proxy cluster who happened to sign up in the same ten minutes tie to
    each other, not to the fleet; a chance coincidence with one anchor counts half; and a
    generic template that the mixed fleet accounts also send (their camouflage traffic),
    used by many unflagged accounts, counts little, while the fleet's own templates count
    almost fully. ``null`` is the same quantity averaged over *non-members* that
    have kind k at all: what chance overlap with G looks like. An always-on fleet is active
    in every minute, so any busy account's time buckets overlap it; the null removes that.
    ``z = clip((obs - null) / (1 - null), 0, 1)``; strength is ``sum_k weight_k * z_k`` over
    behaviour kinds plus ``min(infra_cap, infra_discount * sum_k weight_k * z_k)`` over the
    infrastructure kinds. Only groups flagged in ``candidates``
    (those whose evidence could raise anyone) are evaluated; the rest get 0.

    Returns the strength per vertex and the per-(vertex, kind) table used for explanations.
    """
    def den(c: pl.Expr) -> pl.Expr:
        return pl.col("degree") if anchor_weighting == "purity" else c + 1

    n = graph.n_accounts
    empty = pl.DataFrame(schema={"v": pl.Int64(), "kind": pl.String(), "obs": pl.Float64(),
                                 "z": pl.Float64()})
    cand_groups = np.unique(groups[(groups >= 0) & candidates[np.clip(groups, 0, None)]]) \
        if len(groups) and (groups >= 0).any() else np.array([], dtype=np.int64)
    if len(cand_groups) == 0 or incidence.height == 0:
        return np.zeros(n), empty
    gm = pl.DataFrame(
        {
            "account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
            "v": np.arange(n, dtype=np.int64),
            "g": groups.astype(np.int64),
            "a": anchors.astype(np.int64),
        }
    ).filter(pl.col("g").is_in(cand_groups.tolist()))
    inc = incidence.join(
        graph.entities.select("kind", "entity", "idf", "degree"), on=["kind", "entity"]
    )
    inc = inc.with_columns((pl.col("share") * pl.col("idf")).alias("m"))
    mass_e = inc.group_by("kind", "entity").agg(pl.col("m").sum().alias("M"))
    n_k = incidence.group_by("kind").agg(pl.col("account_id").n_unique().alias("nk"))
    mem = inc.join(gm, on="account_id")
    per_e = (
        mem.group_by("g", "kind", "entity")
        .agg(
            pl.col("m").sum().alias("Mg"),
            pl.col("a").sum().alias("cnt"),
            pl.col("degree").first(),
        )
        .filter(pl.col("cnt") >= 1)
    )
    n_gk = (
        incidence.join(gm, on="account_id")
        .group_by("g", "kind")
        .agg(pl.col("account_id").n_unique().alias("ngk"))
    )
    null = (
        per_e.join(mass_e, on=["kind", "entity"])
        .group_by("g", "kind")
        .agg(
            ((pl.col("M") - pl.col("Mg")) * pl.col("cnt") / den(pl.col("cnt")))
            .sum()
            .alias("out_mass")
        )
        .join(n_gk, on=["g", "kind"])
        .join(n_k, on="kind")
        .with_columns(
            (pl.col("out_mass") / (pl.col("nk") - pl.col("ngk")).clip(1, None))
            .clip(0.0, 0.99)
            .alias("null")
        )
        .select("g", "kind", "null")
    )
    kw = pl.DataFrame(
        {"kind": list(kind_weights), "kw": [float(x) for x in kind_weights.values()]},
        schema={"kind": pl.String(), "kw": pl.Float64()},
    ).with_columns(pl.col("kind").is_in(list(BEHAVIOUR_KINDS)).alias("beh"))
    obs = (
        mem.join(per_e.select("g", "kind", "entity", "cnt"), on=["g", "kind", "entity"])
        .with_columns((pl.col("cnt") - pl.col("a")).alias("c"))
        .filter(pl.col("c") >= 1)
        .group_by("v", "g", "kind")
        .agg((pl.col("m") * pl.col("c") / den(pl.col("c"))).sum().alias("obs"))
        .join(null, on=["g", "kind"], how="left")
        .with_columns(
            ((pl.col("obs") - pl.col("null").fill_null(0.0)) / (1.0 - pl.col("null").fill_null(0.0)))
            .clip(0.0, 1.0)
            .alias("z")
        )
        .join(kw, on="kind")
    )
    per_v = obs.group_by("v").agg(
        (pl.col("z") * pl.col("kw")).filter(pl.col("beh")).sum().alias("b"),
        (pl.col("z") * pl.col("kw")).filter(~pl.col("beh")).sum().alias("i"),
    ).with_columns(
        (pl.col("b") + (pl.col("i") * infra_discount).clip(None, infra_cap)).alias("s")
    )
    strength = np.zeros(n)
    strength[per_v.get_column("v").to_numpy()] = per_v.get_column("s").to_numpy()
    return strength, obs.select("v", "kind", "obs", "z")


def tie_strength(
    strength: np.ndarray,
    groups: np.ndarray,
    members: np.ndarray,
    *,
    unit: float = 1.0,
    floor: float = 0.0,
) -> np.ndarray:
    """Strength relative to a group reference, in [0, 1].

    The reference is the median strength of the group's evidence members, capped at
    ``unit``: one fully shared, fully specific entity of a weight-1 kind gives a member
    strength 1 (see build.py), so an account tied at least that strongly counts as fully
    tied even when the loud members of its group are tied far more strongly still (a
    low-and-slow account need not share *everything* with the fleet). It is floored at
    ``floor`` (the typical anchor strength across all lending groups, learned per run): a
    group whose flagged members are themselves barely tied to each other (a class of
    students some of whom part 1 flagged) cannot make everyone "fully tied" by comparison.
    """
    n = len(strength)
    df = pl.DataFrame({"g": groups, "s": strength, "m": members, "v": np.arange(n)})
    ref = (
        df.filter(pl.col("m") & (pl.col("g") >= 0))
        .group_by("g")
        .agg(pl.col("s").median().clip(floor, None).clip(None, unit).alias("ref"))
    )
    df = df.join(ref, on="g", how="left")
    r = df.sort("v").get_column("ref").fill_null(0.0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(r > 0, strength / r, 0.0)
    return np.clip(t, 0.0, 1.0)


def propagate_scores(
    graph: AccountGraph,
    incidence: pl.DataFrame,
    scores: np.ndarray,
    membership: np.ndarray,
    block_of: np.ndarray,
    *,
    evidence_quantile: float = 0.2,
    min_evidence_members: int = 3,
    infra_discount: float = 0.2,
    infra_cap: float = 0.0,
    tie_unit: float = 1.0,
    kind_weights: dict[str, float] | None = None,
    evidence_margin: float = 0.5,
    anchor_threshold: float = 0.5,
    combine: str = "max",
    anchor_weighting: str = "count",
) -> PropagationResult:
    """Raise scores of weakly-scored members of strongly-scored, tightly-tied groups.

    A group lends only when its evidence is well above the flag threshold:
    ``evidence >= threshold + evidence_margin * (1 - threshold)`` (halfway to certainty by
    default), so a benign group with a few borderline part-1 false positives lends nothing.
    ``combine``: ``"noisy_or"`` treats the account's own score and the linked evidence as
    independent (``1 - (1 - own)(1 - evidence * tie)``); ``"max"`` takes the larger.
    """
    own = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    kw = dict(DEFAULT_KIND_WEIGHTS)
    kw.update(kind_weights or {})
    anchor = own >= anchor_threshold
    best = own.copy()
    ev_used = np.zeros_like(own)
    tie_used = np.zeros_like(own)
    raised = np.zeros(len(own), dtype=np.int8)
    for code, groups in ((1, membership), (2, block_of)):
        ev, members = group_evidence(
            groups, own, quantile=evidence_quantile, min_members=min_evidence_members
        )
        n_g = int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0
        g_ev = np.zeros(max(n_g, 1))
        ok = groups >= 0
        g_ev[groups[ok]] = ev[ok]
        # a group lends only if it has enough anchors (members part 1 flagged) to tie to
        n_anchor = np.bincount(groups[ok], weights=anchor[ok], minlength=max(n_g, 1))
        gate = anchor_threshold + evidence_margin * (1.0 - anchor_threshold)
        g_ev = np.where((n_anchor >= min_evidence_members) & (g_ev >= gate), g_ev, 0.0)
        ev = np.where(ok, g_ev[np.clip(groups, 0, None)], 0.0)
        strength, _ = in_group_strength(
            incidence,
            graph,
            groups,
            g_ev > 0,
            anchor,
            infra_discount=infra_discount,
            infra_cap=infra_cap,
            kind_weights=kw,
            anchor_weighting=anchor_weighting,
        )
        lend = anchor & (ev > 0)
        floor = float(np.median(strength[lend])) if lend.any() else 0.0
        tie = tie_strength(strength, groups, anchor, unit=tie_unit, floor=floor)
        link = ev * tie
        cand = 1.0 - (1.0 - own) * (1.0 - link) if combine == "noisy_or" else link
        up = cand > best
        best = np.where(up, cand, best)
        ev_used = np.where(up, ev, ev_used)
        tie_used = np.where(up, tie, tie_used)
        raised = np.where(up, code, raised).astype(np.int8)
    return PropagationResult(score=best, evidence=ev_used, tie=tie_used, raised_by=raised)
