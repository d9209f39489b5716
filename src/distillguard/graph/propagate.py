"""Score propagation inside clusters, in proportion to tie strength.

An operation's low-and-slow accounts look clean on their own: few requests, human-ish
pacing. What gives them away is that they do what the loud accounts do: the same prompt
templates, the same system prompts, on the same schedule. Propagation lets that evidence
flow:

    lent_i(G)    = evidence(G) * tie_i(G)                 for G = i's cluster, i's dense block
    propagated_i = max over G of 1 - (1 - own_i) * (1 - lent_i(G))      (and never < own_i)

* Own and lent evidence are *combined* (noisy-OR), not maxed (until 2026-11-27 round 2:
  ``max(own_i, lent_i)``). A low-and-slow fleet account with part-1 score 0.3 (raw within
  half a null spread of the threshold) and a partial tie to a loud fleet carries two
  pieces of evidence; taking the larger threw the other away. The bulk is unaffected:
  part 1's logistic puts the median honest account at ~0.01, so an untied or weakly tied
  honest account gains next to nothing, and only lending groups (below) lend at all.

* ``evidence(G)`` is the mean of the top ``max(min_evidence_members, evidence_quantile*|G|)``
  member scores. A group lends only when it has at least ``min_evidence_members`` *anchors*
  and its evidence is well above the threshold
  (``threshold + evidence_margin * (1 - threshold)``): one false positive in a 50-account
  company, or a class of students a few of whom part 1 flagged at borderline scores, lends
  nothing; a hydra cluster where a tenth of the accounts are loud lends fully to the rest.
* *Anchors* are the members part 1 flagged (score >= the flag threshold). Optionally
  (``anchor_score``, round 3; ``run_scan`` sets 0.3 whenever part 1's ``tail_ratio`` > 1,
  as the shipped config does) they are evidence rather than verdicts:
  members scoring at least ``anchor_score`` (e.g. 0.3: within ~0.85 null spreads of the
  flag threshold). That goes with a stricter part-1 flag (``scoring.tail_ratio`` > 1):
  a low-and-slow fleet's loudest members then sit just under the flag and still show
  which templates the group uses. Group evidence and its gate are read on the anchor
  scale: scores are shifted in logit by ``logit(threshold) - logit(anchor level)`` first,
  so the anchor level reads as the threshold and a stricter flag does not shrink what a
  fleet lends. None (or ``anchor_score >= threshold``) is the single-level rule exactly.
* ``tie_i(G)`` is measured on **behaviour kinds only** (``BEHAVIOUR_KINDS``: prompt
  template families). Infrastructure (IPs, /24, ASN, TLS, user agent, cards, org, e-mail
  domain, sign-up burst, and system prompts, which a reseller may inject into all its
  traffic) builds the clusters but never raises a score: a proxy reseller buys its accounts
  in bulk and routes them through one pool, then sells some to honest customers, so
  everything infrastructural is shared by the fleet *and* the honest resold customers.
  Per behaviour kind ``k``, ``z_ik`` is the null-corrected share of i's activity on
  entities the group's anchors also use (``in_group_strength``), and
  ``tie_i = max_k min(1, z_ik / ref_k(G))`` where ``ref_k(G)`` is what G's anchors
  themselves reach on that kind (optionally floored by the typical anchor across all
  lending groups, and by ``min_ref``). A low-and-slow account with a handful of requests
  that are all fleet templates is fully tied.
* The tie is then scaled by the account's *coverage*: the share of its requests that carry
  a behaviour entity at all, over ``min_coverage`` (capped at 1). ``z`` is measured among
  the account's templated requests only (the incidence's ``share`` is per kind), so an
  honest customer of a fleet's reseller with one fleet template among 121 requests read as
  fully tied (since 2026-11-27 round 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from distillguard.graph.build import BEHAVIOUR_KINDS, AccountGraph


@dataclass(frozen=True)
class PropagationResult:
    """Per-vertex arrays: propagated score, group evidence and tie used, and who raised it.

    ``tie_kind``: the behaviour kind that carried the tie (for explanations), "" if none.
    """

    score: np.ndarray
    evidence: np.ndarray
    tie: np.ndarray
    raised_by: np.ndarray  # 0 = own score, 1 = cluster, 2 = dense block, 3 = pre-split community
    tie_kind: np.ndarray


def group_evidence(
    groups: np.ndarray, scores: np.ndarray, *, quantile: float, min_members: int,
    anchors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex evidence of its group and a mask of the group's evidence members.

    Vertices with ``groups < 0`` are in no group (evidence 0). Evidence is the mean of the
    top ``k = max(min_members, ceil(quantile * size))`` scores; groups smaller than
    ``min_members`` get no evidence. ``anchors`` (optional mask): ``k`` is capped at the
    group's anchor count (never below ``min_members``), so a small fleet inside a large
    honest community is read on its own members, not averaged with the community's
    unflagged top decile.
    """
    n = len(scores)
    df = pl.DataFrame({"g": groups, "s": scores, "v": np.arange(n),
                       "a": (np.zeros(n, dtype=bool) if anchors is None
                             else np.asarray(anchors, dtype=bool))}).filter(pl.col("g") >= 0)
    if df.height == 0:
        return np.zeros(n), np.zeros(n, dtype=bool)
    kq = (pl.col("size") * quantile).ceil().cast(pl.Int64)
    if anchors is not None:
        kq = pl.min_horizontal(kq, pl.col("a").cast(pl.Int64).sum().over("g"))
    df = df.with_columns(
        pl.len().over("g").alias("size"),
        pl.col("s").rank("ordinal", descending=True).over("g").alias("r"),
    ).with_columns(
        pl.max_horizontal(pl.lit(min_members), kq).alias("k")
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
    kinds: frozenset[str] = BEHAVIOUR_KINDS,
    anchor_weighting: str = "purity",
    purity_prior: float = 5.0,
    local_share: float = 0.5,
) -> pl.DataFrame:
    """Per (vertex, kind): how much of the account's activity it shares with G's anchors.

    For member ``i`` of group ``G`` and kind ``k``: ``obs`` is the specificity-weighted share of
    i's activity of kind k on entities that G's *anchors* (members part 1 already flagged:
    the evidence that propagates) also use, ``sum share * idf * w`` with
    ``w = other anchors / (other users + purity_prior)`` (``anchor_weighting="purity"``: the
    share of the entity's users that part 1 flagged, in any group, since one fleet may span
    several clusters, shrunk towards 0 for rarely used entities;
    a generic template that mixed fleet accounts also send as camouflage, used by many
    unflagged accounts, counts little) or ``w = c / (c + 1)`` (``"count"``). Ties go to the evidence, not to any member: two honest
    customers of one proxy pool who happen to share something tie to each other, not to the
    fleet. ``null`` is the same quantity averaged over all *non-members*: what chance overlap
    with G looks like (a template every second customer sends is no tie). ``z = clip((obs - null) / (1 - null), 0, 1)``.
    Each entity's weight is also multiplied by its *locality* ``min(1, c_G / (A * local_share))``
    (``c_G``: G's other anchors on it, ``A``: the entity's other anchors in any group): a
    template carried by another group's anchors is that group's evidence, not G's
    (``local_share <= 0`` switches this off; docs/linking.md).
    Only groups flagged in ``candidates`` are evaluated.

    Returns ``[v, g, kind, obs, z]``.
    """
    n = graph.n_accounts
    empty = pl.DataFrame(
        schema={
            "v": pl.Int64(),
            "g": pl.Int64(),
            "kind": pl.String(),
            "obs": pl.Float64(),
            "z": pl.Float64(),
        }
    )
    if not len(groups) or not (groups >= 0).any() or incidence.height == 0:
        return empty
    cand_groups = np.unique(groups[(groups >= 0) & candidates[np.clip(groups, 0, None)]])
    if len(cand_groups) == 0:
        return empty
    gm = pl.DataFrame(
        {
            "account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
            "v": np.arange(n, dtype=np.int64),
            "g": groups.astype(np.int64),
            "a": anchors.astype(np.int64),
        }
    ).filter(pl.col("g").is_in(cand_groups.tolist()))
    inc = incidence.filter(pl.col("kind").is_in(list(kinds))).join(
        graph.entities.select("kind", "entity", "idf", "degree"), on=["kind", "entity"]
    )

    # all anchors (any group) per entity: "purity" is the share of an entity's users that
    # part 1 flagged, wherever Leiden put them (one fleet may span several clusters)
    all_a = pl.DataFrame(
        {
            "account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
            "a_all": anchors.astype(np.int64),
        }
    )
    inc = inc.join(all_a, on="account_id", how="left").with_columns(
        pl.col("a_all").fill_null(0),
        (pl.col("share") * pl.col("idf")).alias("m"),
    )
    inc = inc.with_columns(pl.col("a_all").sum().over("kind", "entity").alias("A"))

    def wt(c: pl.Expr, self_a: pl.Expr) -> pl.Expr:
        # "count": c / (c + 1) other in-group anchors; "purity": share of the entity's
        # other users that are anchors (any group)
        if anchor_weighting == "count":
            return c / (c + 1)
        # shrunk towards 0 for rare entities: 2 flagged of 3 users is weak evidence that a
        # template is the fleet's, 200 of 220 is strong
        return (pl.col("A") - self_a) / (pl.col("degree") - 1 + purity_prior)

    mass_e = inc.group_by("kind", "entity").agg(pl.col("m").sum().alias("M"))
    mem = inc.join(gm, on="account_id")
    per_e = (
        mem.group_by("g", "kind", "entity")
        .agg(
            pl.col("m").sum().alias("Mg"),
            pl.col("a").sum().alias("cnt"),
            pl.col("degree").first(),
            pl.col("A").first(),
        )
        .filter(pl.col("cnt") >= 1)
    )
    n_g = gm.group_by("g").agg(pl.len().alias("ng"))

    def loc(c: pl.Expr, self_a: pl.Expr) -> pl.Expr:
        # locality: is the entity *this* group's evidence? min(1, share of the entity's
        # anchors (any group) that are G's anchors / local_share). A template a fleet
        # carries (its anchors sit in G, or in two halves Leiden split it into) keeps full
        # weight; one whose anchors are mostly another fleet's -- a public problem
        # generator that a sweep campaign wraps and a research group also sends --
        # counts in proportion, so an honest org merged into a small fleet's cluster is
        # not tied to that fleet through a third campaign's templates.
        if local_share <= 0:
            return pl.lit(1.0)
        return (c / (pl.col("A") - self_a).clip(1, None) / local_share).clip(0.0, 1.0)

    null = (
        per_e.join(mass_e, on=["kind", "entity"])
        .group_by("g", "kind")
        .agg(((pl.col("M") - pl.col("Mg")) * wt(pl.col("cnt"), pl.lit(0))
              * loc(pl.col("cnt"), pl.lit(0))).sum().alias("out_mass"))
        .join(n_g, on="g")
        .with_columns(
            (pl.col("out_mass") / (n - pl.col("ng")).clip(1, None)).clip(0.0, 0.99).alias("null")
        )
        .select("g", "kind", "null")
    )
    return (
        mem.join(per_e.select("g", "kind", "entity", "cnt"), on=["g", "kind", "entity"])
        .with_columns((pl.col("cnt") - pl.col("a")).alias("c"))
        .filter(pl.col("c") >= 1)
        .group_by("v", "g", "kind")
        .agg((pl.col("m") * wt(pl.col("c"), pl.col("a")) * loc(pl.col("c"), pl.col("a")))
             .sum().alias("obs"))
        .join(null, on=["g", "kind"], how="left")
        .with_columns(
            (
                (pl.col("obs") - pl.col("null").fill_null(0.0))
                / (1.0 - pl.col("null").fill_null(0.0))
            )
            .clip(0.0, 1.0)
            .alias("z")
        )
        .select("v", "g", "kind", "obs", "z")
        .sort("v", "kind")
    )


def behaviour_tie(
    z: pl.DataFrame,
    groups: np.ndarray,
    anchors: np.ndarray,
    lending: np.ndarray,
    *,
    min_ref: float,
    global_floor: bool = False,
    power: float = 1.0,
    typical_share: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """``tie_i = max_k min(1, z_ik / ref_k(G)) ** power`` and the kind that achieved it.

    ``power < 1`` makes the tie concave (a mixed account that sends the fleet's templates for
    a third of its traffic is a fleet account all the same); the default 1.0 stays linear,
    which kept honest resold customers unflagged on the development world.

    ``ref_k(G)`` = max(mean z_k over G's anchors (zeros included), mean z_k over all anchors
    of lending groups (only with ``global_floor``), ``typical_share`` x the median over
    lending groups of that per-group mean, ``min_ref``). The floors stop a group whose own
    anchors are barely tied to each other -- an honest org merged with a few part-1 false
    positives (anchors' mean z ~0.01 on the dev worlds, fleets' 0.1-0.3) -- from making
    every colleague "fully tied" by comparison with itself. The typical-group floor is
    learned from the data (``typical_share <= 0`` switches it off).
    """
    n = len(groups)
    tie = np.zeros(n)
    kind_of = np.full(n, "", dtype=object)
    if z.height == 0:
        return tie, kind_of
    ok = groups >= 0
    n_g = int(groups.max()) + 1
    n_anchor_g = np.bincount(groups[ok], weights=anchors[ok], minlength=n_g)
    lend_anchor = anchors & lending
    za = z.filter(pl.Series(lend_anchor[z.get_column("v").to_numpy()]))
    per_gk = za.group_by("g", "kind").agg(pl.col("z").sum().alias("zs"))
    per_gk = per_gk.with_columns(
        (pl.col("zs") / pl.Series(n_anchor_g)[per_gk.get_column("g")].clip(1, None)).alias("ref_g")
    )
    n_lend = max(1, int(lend_anchor.sum()))
    glob = za.group_by("kind").agg(
        (pl.col("z").sum() / n_lend * (1.0 if global_floor else 0.0)).alias("ref_all")
    )
    # the typical lending group's coherence (median over groups of their anchors' mean z):
    # a group whose anchors reach less than ``typical_share`` of it is compared with that
    # floor, not with itself
    typ = per_gk.group_by("kind").agg(
        (pl.col("ref_g").median() * typical_share).alias("ref_typ")
    )
    t = (
        z.join(per_gk.select("g", "kind", "ref_g"), on=["g", "kind"], how="left")
        .join(glob, on="kind", how="left")
        .join(typ, on="kind", how="left")
        .with_columns(
            pl.max_horizontal(
                pl.col("ref_g").fill_null(0.0), pl.col("ref_all").fill_null(0.0),
                pl.col("ref_typ").fill_null(0.0), pl.lit(min_ref)
            ).alias("ref")
        )
        .with_columns((pl.col("z") / pl.col("ref")).clip(0.0, 1.0).pow(power).alias("t"))
        .sort(["v", "t", "kind"], descending=[False, True, False])
        .group_by("v", maintain_order=True)
        .first()
    )
    v = t.get_column("v").to_numpy()
    tie[v] = t.get_column("t").to_numpy()
    kind_of[v] = np.asarray(t.get_column("kind").to_list(), dtype=object)
    return tie, kind_of


def _logit(p: float | np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-12, 1.0 - 1e-12)
    return np.asarray(np.log(q / (1.0 - q)))


def kind_coverage(incidence: pl.DataFrame, graph: AccountGraph,
                  kinds: frozenset[str] = BEHAVIOUR_KINDS) -> np.ndarray:
    """Per vertex: the share of the account's requests that carry an entity of ``kinds``.

    Requests of the kinds over the account's requests, both counted on the incidence (``n``
    per row): the account's request count is the largest per-kind total (a kind with one
    value per request and few distinct values -- ASN, user agent -- sees every request; the
    incidence keeps at most a fixed number of entities per kind). Accounts without
    event-level rows get 1 (unknown is not "uncovered").
    """
    n = graph.n_accounts
    if incidence.height == 0 or "n" not in incidence.columns:
        return np.ones(n)
    per = incidence.group_by("account_id", "kind").agg(pl.col("n").sum())
    t = per.group_by("account_id").agg(
        pl.col("n").filter(pl.col("kind").is_in(list(kinds))).sum().alias("nk"),
        pl.col("n").max().alias("tot"),
    )
    idx = pl.DataFrame({"account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
                        "v": np.arange(n, dtype=np.int64)})
    t = idx.join(t.with_columns(pl.col("account_id").cast(pl.String())), on="account_id",
                 how="left").sort("v")
    tot = t.get_column("tot").fill_null(0).to_numpy().astype(float)
    nk = t.get_column("nk").fill_null(0).to_numpy().astype(float)
    return np.where(tot > 0, np.clip(nk / np.maximum(tot, 1.0), 0.0, 1.0), 1.0)


def anchor_level(threshold: float, anchor_score: float | None) -> float:
    """Part-1 score from which a member is an anchor (evidence for its group): the flag
    threshold, or ``anchor_score`` when that is lower (see the module docstring)."""
    return threshold if anchor_score is None else min(anchor_score, threshold)


def propagate_scores(
    graph: AccountGraph,
    incidence: pl.DataFrame,
    scores: np.ndarray,
    membership: np.ndarray,
    block_of: np.ndarray,
    *,
    evidence_quantile: float = 0.1,
    min_evidence_members: int = 3,
    evidence_margin: float = 0.3,
    anchor_threshold: float = 0.5,
    min_ref: float = 0.05,
    anchor_weighting: str = "purity",
    global_floor: bool = False,
    tie_power: float = 1.0,
    tie_kinds: frozenset[str] = BEHAVIOUR_KINDS,
    purity_prior: float = 5.0,
    local_share: float = 0.5,
    typical_share: float = 0.5,
    combine_own: bool = True,
    min_coverage: float = 0.1,
    anchor_score: float | None = None,
    communities: np.ndarray | None = None,
    lenders: np.ndarray | None = None,
    evidence_anchor_cap: bool = False,
) -> PropagationResult:
    """Raise scores of weakly-scored members of strongly-scored groups they behave like.

    ``combine_own``: the raised score is ``1 - (1 - own) * (1 - evidence * tie)`` (own and
    lent evidence both count); ``False`` gives the earlier ``max(own, evidence * tie)``.
    ``min_coverage``: share of an account's requests that must carry a behaviour entity
    (template) for its tie to count fully; below it the tie falls in proportion
    (``tie * min(1, coverage / min_coverage)``; ``<= 0`` switches this off).
    ``anchor_score``: part-1 score from which a member counts as an anchor (evidence for
    its group) when that is below ``anchor_threshold`` (the flag threshold); None = the
    flag threshold (one level). ``communities``: a second partition that lends too
    (``raised_by`` 3): the Leiden communities before ``graph/split.py`` split mixed
    ones, so a split never lowers what a member is lent. ``lenders``: mask of the members
    whose own evidence may be lent to their group (None: all). Another member still counts
    towards which templates its group uses (ties) and is raised like any other, but it is
    no anchor for the group's evidence and its score counts there as just under the anchor
    level: a cohort flagged on content alone (research groups asking for step-by-step
    answers) lends nothing to colleagues who send the same public templates. See the
    module docstring.
    """
    own = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    level = anchor_level(anchor_threshold, anchor_score)
    anchor = own >= level
    # group evidence on the anchor scale: the anchor level reads as the flag threshold
    ev_scores = own
    if 0.0 < level < anchor_threshold < 1.0:
        shift = _logit(anchor_threshold) - _logit(level)
        ev_scores = 1.0 / (1.0 + np.exp(-(_logit(own) + shift)))
    lend_anchor = anchor
    if lenders is not None:
        lenders = np.asarray(lenders, dtype=bool)
        lend_anchor = anchor & lenders
        cap = np.nextafter(anchor_threshold, 0.0) if level < anchor_threshold else \
            np.nextafter(level, 0.0)
        ev_scores = np.where(lenders, ev_scores, np.minimum(ev_scores, cap))
    best = own.copy()
    ev_used = np.zeros_like(own)
    tie_used = np.zeros_like(own)
    raised = np.zeros(len(own), dtype=np.int8)
    kind_used = np.full(len(own), "", dtype=object)
    gate = anchor_threshold + evidence_margin * (1.0 - anchor_threshold)
    cov_w = (np.clip(kind_coverage(incidence, graph, tie_kinds) / min_coverage, 0.0, 1.0)
             if min_coverage > 0 else np.ones(len(own)))
    views = [(1, membership), (2, block_of)]
    if communities is not None:
        views.insert(1, (3, communities))
    for code, groups in views:
        if not len(groups) or not (groups >= 0).any():
            continue
        ev, _ = group_evidence(
            groups, ev_scores, quantile=evidence_quantile, min_members=min_evidence_members,
            anchors=lend_anchor if evidence_anchor_cap else None,
        )
        ok = groups >= 0
        n_g = int(groups.max()) + 1
        g_ev = np.zeros(n_g)
        g_ev[groups[ok]] = ev[ok]
        n_anchor = np.bincount(groups[ok], weights=lend_anchor[ok], minlength=n_g)
        g_ev = np.where((n_anchor >= min_evidence_members) & (g_ev >= gate), g_ev, 0.0)
        ev = np.where(ok, g_ev[np.clip(groups, 0, None)], 0.0)
        z = in_group_strength(
            incidence,
            graph,
            groups,
            g_ev > 0,
            anchor,
            kinds=tie_kinds,
            anchor_weighting=anchor_weighting,
            purity_prior=purity_prior,
            local_share=local_share,
        )
        tie, tk = behaviour_tie(
            z, groups, anchor, ev > 0, min_ref=min_ref, global_floor=global_floor,
            power=tie_power, typical_share=typical_share,
        )
        tie = tie * cov_w
        lent = ev * tie
        cand = 1.0 - (1.0 - own) * (1.0 - lent) if combine_own else lent
        up = (lent > 0) & (cand > best)  # no lent evidence: no float-noise "raise"
        best = np.where(up, cand, best)
        ev_used = np.where(up, ev, ev_used)
        tie_used = np.where(up, tie, tie_used)
        kind_used = np.where(up, tk, kind_used)
        raised = np.where(up, code, raised).astype(np.int8)
    return PropagationResult(
        score=best, evidence=ev_used, tie=tie_used, raised_by=raised, tie_kind=kind_used
    )
