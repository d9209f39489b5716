"""Split mixed Leiden clusters by what their evidence members do (issue #5, hydra clusters).

A proxy reseller sells accounts to several operations. Leiden ties accounts through
infrastructure as well as behaviour, so two operations that buy from one reseller can land
in one community: a small campaign then sits inside a big one's cluster (purity 0) and
the templates that would tie its quiet accounts to its loud ones count as the big
cluster's evidence. Infrastructure cannot tell the two apart (the reseller's IPs, cards,
sign-up bursts are shared by both); what the accounts *send* can.

For every community with at least ``2 * min_anchors`` anchors (members with part-1
evidence, the same anchors propagation uses):

1. **Leiden on the anchors' template ties** (the account graph's own ``kinds`` edges
   among the community's anchors; modularity, ``resolution``, seeded) proposes parts.
   Infrastructure is not used. Leiden always finds *some* structure (one operation's
   language or template-window sub-fleets), so a proposal is only a proposal:
2. **Behaviour ties for the test.** Two anchors are tied by the templates they both use,
   ``sum_t idf_t * sqrt(share_a * share_b) / (d_t - 1)`` with ``d_t`` the community's
   anchors on ``t`` (resource allocation: a family every anchor sends ties no pair
   strongly), summed per pair of parts from per-(part, template) sums (:class:`_Ties`).
3. **Average-linkage merging.** Parts with fewer than ``min_anchors`` anchors join the part
   they are most tied to. Then the pair of parts with the highest *normalised cross tie*
   ``cross(P, Q) / sqrt(dens(P) * dens(Q))`` (mean pair weight between the parts over the
   geometric mean of their internal mean pair weights) is merged, repeatedly, while it is
   at least ``max_cross``. One operation's sub-fleets still share a good part of their
   templates (merges on the dev worlds at 0.17-0.61); a small campaign and the big one it
   shares resellers with meet only through generic families (0.08-0.12; one fresh world
   0.163, not split). The margin is thin: docs/linking.md.
4. **Split** when two or more parts are left: each part's anchors seed a sub-group, every
   other member joins the part whose anchors share most of its template activity
   (``share * idf * part's share of the template's anchors``), and a member without any
   shared template stays with the part it is most tied to in the full account graph
   (where infrastructure puts it), the largest part if it has no tie at all.
5. **Gathering** (``gather_min`` > 0; off in ``GraphConfig``: it pulled benign part-1
   anchors into a campaign's part on two worlds): an *anchor* in another community (or
   another split-off part) whose template activity is at least ``gather_min`` on a
   split-off part's templates (each template weighted by the part's share of its
   anchors), and more than on its own community's, joins that part: the rest of a small
   operation that infrastructure put elsewhere.

The split only regroups; ``link_accounts`` lets the pre-split community lend as well
(``propagate_scores(communities=...)``), so no member is lent less than before.

Label-free; the evidence for each split (the templates private to each part) is kept in
:class:`Split` and shown in the cluster's description and its members' link reasons.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import igraph as ig
import numpy as np
import polars as pl

from distillguard.aggregate.templates import family_label
from distillguard.graph.build import BEHAVIOUR_KINDS, AccountGraph


@dataclass(frozen=True)
class SplitPart:
    """One part of a split community: its anchors and the templates that set it apart.

    ``templates``: ``(entity, anchors of this part on it, anchors of the other parts on
    it)``, the part's most used templates that the other parts' anchors use least.
    """

    group: int
    n_anchors: int
    n_members: int
    templates: tuple[tuple[str, int, int], ...]
    gathered: int = 0


@dataclass(frozen=True)
class Split:
    """A community split in parts; ``cross`` = the highest normalised cross tie left
    between two parts (under ``max_cross``)."""

    origin: int
    n_members: int
    parts: tuple[SplitPart, ...]
    cross: float

    def describe(self, group: int) -> str:
        """Why ``group`` is its own cluster: its private templates vs the other parts."""
        me = next(p for p in self.parts if p.group == group)
        others = sum(p.n_anchors for p in self.parts if p.group != group)
        tpl = ", ".join(f"{_label(e)} ({a} of {me.n_anchors} vs {o} of {others})"
                        for e, a, o in me.templates[:3])
        more = (f"; {me.gathered} anchor(s) from other communities joined it (most of their "
                f"template activity is on its templates)" if me.gathered else "")
        return (f"split by behaviour from a {self.n_members}-account infrastructure "
                f"community ({len(self.parts)} parts, cross tie {self.cross:.2f}): "
                f"its anchors' templates {tpl}{more}")


def _label(entity: str) -> str:
    """A template entity as the family name the reasons and the report use (``T...``)."""
    return family_label(int(entity)) if entity.isdigit() else entity[:12]


class _Ties:
    """Pair-tie sums between sets of a community's anchors, from per-(anchor, template)
    rows, without forming pairs: with ``S[p, t] = sum_{a in p} sqrt(share_at)`` and
    ``c_t = idf_t / (d_t - 1)``, the pair weights between parts ``p != q`` sum to
    ``sum_t c_t S[p, t] S[q, t]`` and within ``p`` to
    ``(sum_t c_t S[p, t]^2 - sum_{a in p, t} c_t share_at) / 2``: linear in the rows, so a
    community of any size is split at the cost of a group-by."""

    def __init__(self, i: np.ndarray, e: np.ndarray, share: np.ndarray, coef: np.ndarray,
                 k: int) -> None:
        self.i, self.e, self.k = i, e, k
        self.sq = np.sqrt(share)
        self.cs = coef[e] * share
        self.coef = coef

    def matrix(self, labels: np.ndarray, n_parts: int) -> tuple[np.ndarray, np.ndarray]:
        """Cross sums between parts (``P x P``, diagonal: within-part pair sums) and the
        anchors per part. ``labels``: part per anchor, -1 = none."""
        lab = labels[self.i]
        ok = lab >= 0
        s_pt = np.zeros((n_parts, len(self.coef)))
        np.add.at(s_pt, (lab[ok], self.e[ok]), self.sq[ok])
        m = (s_pt * self.coef) @ s_pt.T
        r = np.bincount(lab[ok], weights=self.cs[ok], minlength=n_parts)
        np.fill_diagonal(m, (np.diag(m) - r) / 2.0)
        return m, np.bincount(labels[labels >= 0], minlength=n_parts).astype(float)


def _leiden(k: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, resolution: float,
            seed: int) -> np.ndarray:
    g = ig.Graph(n=k, edges=list(zip(src.tolist(), dst.tolist(), strict=True)))
    rng = random.Random(seed)
    ig.set_random_number_generator(rng)
    try:
        part = g.community_leiden(objective_function="modularity", weights=w.tolist(),
                                  resolution=resolution, n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


def _relabel(labels: np.ndarray) -> tuple[np.ndarray, int]:
    out = np.full(len(labels), -1, dtype=np.int64)
    ok = labels >= 0
    ids, inv = np.unique(labels[ok], return_inverse=True)
    out[ok] = inv
    return out, len(ids)


def _merge_parts(m: np.ndarray, ties: _Ties, min_anchors: int, max_cross: float
                 ) -> tuple[np.ndarray, float]:
    """Average-linkage merging of Leiden parts (see module doc). Returns part labels
    0..p-1 (-1: anchor tied to no part) and the highest normalised cross tie left."""
    labels, n_p = _relabel(m)
    # parts under min_anchors join the substantial part they are most tied to (total
    # weight, all at once); untied ones drop out (-1)
    mat, cnt = ties.matrix(labels, n_p)
    small = np.flatnonzero(cnt < min_anchors)
    big = np.flatnonzero(cnt >= min_anchors)
    if len(big) == 0:
        return np.full(len(labels), -1, dtype=np.int64), 0.0
    if len(small):
        to = mat[np.ix_(small, big)]
        dest = np.where(to.max(axis=1) > 0, big[np.argmax(to, axis=1)], -1)
        lut = np.arange(n_p)
        lut[small] = dest
        labels = np.where(labels >= 0, lut[np.clip(labels, 0, None)], -1)
        labels, n_p = _relabel(labels)
    while n_p > 1:
        mat, cnt = ties.matrix(labels, n_p)
        pairs = np.maximum(cnt * (cnt - 1) / 2.0, 1.0)
        dens = np.maximum(np.diag(mat), 0.0) / pairs
        norm = np.sqrt(np.outer(dens, dens))
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = np.where(norm > 0, mat / np.outer(cnt, cnt) / norm, np.inf)
        np.fill_diagonal(cross, -1.0)
        p, q = np.unravel_index(int(np.argmax(cross)), cross.shape)
        best = float(cross[p, q])
        if best < max_cross:
            return labels, best
        labels[labels == max(p, q)] = min(p, q)
        labels, n_p = _relabel(labels)
    return labels, 0.0


def split_groups(
    graph: AccountGraph,
    incidence: pl.DataFrame,
    groups: np.ndarray,
    anchors: np.ndarray,
    *,
    kinds: frozenset[str] = BEHAVIOUR_KINDS,
    min_anchors: int = 3,
    resolution: float = 1.0,
    max_cross: float = 0.15,
    seed: int = 0,
    gather_min: float = 0.0,
    gather_anchors_only: bool = True,
) -> tuple[np.ndarray, list[Split]]:
    """Split communities whose anchors form behaviourally separate groups (module doc).

    ``groups``: community per vertex (-1: none). ``anchors``: bool per vertex. Returns new
    group ids (unsplit communities keep theirs; parts get fresh ids after the largest) and
    one :class:`Split` per split community.
    """
    out = np.asarray(groups, dtype=np.int64).copy()
    splits: list[Split] = []
    n = graph.n_accounts
    if n == 0 or not (out >= 0).any() or incidence.height == 0:
        return out, splits
    ok = out >= 0
    n_g = int(out.max()) + 1
    n_anchor = np.bincount(out[ok], weights=anchors[ok].astype(float), minlength=n_g)
    cand = np.flatnonzero(n_anchor >= 2 * min_anchors)
    if len(cand) == 0:
        return out, splits
    vid = pl.DataFrame({"account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
                        "v": np.arange(n, dtype=np.int64), "g": out})
    beh = (incidence.filter(pl.col("kind").is_in(list(kinds)))
           .with_columns(pl.col("account_id").cast(pl.String()))
           .join(graph.entities.select("kind", "entity", "idf"), on=["kind", "entity"])
           .join(vid.filter(pl.col("g").is_in(cand.tolist())), on="account_id")
           .select("v", "g", "kind", "entity", "share", "idf"))
    by_g = beh.partition_by("g", as_dict=True)
    next_id = n_g
    src_e = graph.edges.get_column("src").to_numpy()
    dst_e = graph.edges.get_column("dst").to_numpy()
    w_e = graph.edges.get_column("weight").to_numpy()
    ke = graph.kind_edges.filter(pl.col("kind").is_in(list(kinds)))
    src_k = ke.get_column("src").to_numpy().astype(np.int64)
    dst_k = ke.get_column("dst").to_numpy().astype(np.int64)
    w_k = ke.get_column("weight").to_numpy().astype(float)
    for g in cand.tolist():
        rows = by_g.get((g,))
        if rows is None:
            continue
        members = np.flatnonzero(out == g)
        anc = members[anchors[members]]
        pos = np.full(n, -1, dtype=np.int64)
        pos[anc] = np.arange(len(anc))
        ent = rows.with_columns((pl.col("kind") + ":" + pl.col("entity")).alias("entity"))
        xa = ent.filter(pl.Series(anchors[ent.get_column("v").to_numpy()]))
        xa = xa.with_columns(pl.Series("i", pos[xa.get_column("v").to_numpy()]))
        k = len(anc)
        # Leiden's proposal on the account graph's own template ties among the anchors
        sel = (out[src_k] == g) & (out[dst_k] == g) & anchors[src_k] & anchors[dst_k]
        if not sel.any():
            continue
        m = _leiden(k, pos[src_k[sel]], pos[dst_k[sel]], w_k[sel], resolution, seed)
        if len(np.unique(m)) < 2:
            continue
        # the merge test on exact resource-allocation ties over the community's anchors
        xt = (xa.with_columns(pl.len().over("entity").alias("dt")).filter(pl.col("dt") >= 2)
              .with_columns(pl.col("entity").rank("dense").cast(pl.Int64).alias("e") - 1))
        coef_df = xt.group_by("e").agg((pl.col("idf").first() / (pl.col("dt").first() - 1))
                                       .alias("c")).sort("e")
        ties = _Ties(xt.get_column("i").to_numpy(), xt.get_column("e").to_numpy(),
                     xt.get_column("share").to_numpy().astype(float),
                     coef_df.get_column("c").to_numpy().astype(float), k)
        labels, left = _merge_parts(m, ties, min_anchors, max_cross)
        part_ids = [int(p) for p in np.unique(labels[labels >= 0])]
        if len(part_ids) < 2:
            continue
        # members: template affinity to each part's anchors, else graph ties, else largest
        lab_of = np.full(n, -1, dtype=np.int64)
        lab_of[anc] = labels
        pidx = {p: j for j, p in enumerate(part_ids)}
        p_of_anchor = np.where(labels >= 0, [pidx.get(int(x), -1) for x in labels], -1)
        n_p = len(part_ids)
        cnt = (xa.with_columns(pl.Series("p", p_of_anchor[xa.get_column("i").to_numpy()]))
               .filter(pl.col("p") >= 0)
               .group_by("entity", "p").agg(pl.len().alias("c")))
        dt = cnt.group_by("entity").agg(pl.col("c").sum().alias("d"))
        rest = members[(lab_of[members] < 0)]
        assign = np.full(n, -1, dtype=np.int64)
        assign[anc] = p_of_anchor
        if len(rest):
            aff = (ent.filter(pl.col("v").is_in(rest.tolist()))
                   .join(cnt, on="entity").join(dt, on="entity")
                   .group_by("v", "p")
                   .agg((pl.col("share") * pl.col("idf") * pl.col("c") / pl.col("d"))
                        .sum().alias("a"))
                   .sort(["v", "a", "p"], descending=[False, True, False])
                   .group_by("v", maintain_order=True).first())
            assign[aff.get_column("v").to_numpy()] = aff.get_column("p").to_numpy()
            left_v = rest[assign[rest] < 0]
            if len(left_v):
                sizes = np.bincount(assign[anc][assign[anc] >= 0], minlength=n_p)
                inf = np.zeros((n, n_p))
                for s_, d_ in ((src_e, dst_e), (dst_e, src_e)):
                    sel = (out[s_] == g) & (assign[d_] >= 0) & (assign[s_] < 0)
                    np.add.at(inf, (s_[sel], assign[d_[sel]]), w_e[sel])
                rows_left = inf[left_v]
                assign[left_v] = np.where(rows_left.max(axis=1) > 0, rows_left.argmax(axis=1),
                                          int(np.argmax(sizes)))
        # keep the largest part under the community's own id, fresh ids for the others
        n_mem = np.bincount(assign[members], minlength=n_p)
        order = np.argsort(-n_mem, kind="stable")
        new_id = {int(order[0]): g}
        for j in order[1:]:
            new_id[int(j)] = next_id
            next_id += 1
        out[members] = np.asarray([new_id[j] for j in range(n_p)], dtype=out.dtype)[
            assign[members]]
        n_anc = np.bincount(p_of_anchor[p_of_anchor >= 0], minlength=n_p)
        tot = dict(zip(dt.get_column("entity").to_list(), dt.get_column("d").to_list(),
                       strict=True))
        parts: list[SplitPart] = []
        for j in order.tolist():
            cj = cnt.filter(pl.col("p") == j).with_columns(
                pl.col("entity").replace_strict(tot, return_dtype=pl.Int64).alias("d"))
            top = (cj.with_columns((pl.col("d") - pl.col("c")).alias("o"))
                   .sort([pl.col("c") - 2 * pl.col("o"), pl.col("entity")],
                         descending=[True, False]).head(3))
            parts.append(SplitPart(
                group=new_id[j], n_anchors=int(n_anc[j]), n_members=int(n_mem[j]),
                templates=tuple((str(e).split(":", 1)[-1], int(c), int(o)) for e, c, o in
                                top.select("entity", "c", "o").iter_rows())))
        splits.append(Split(origin=g, n_members=len(members), parts=tuple(parts),
                            cross=round(float(left), 3)))
    if splits and gather_min > 0:
        attract = [p.group for sp in splits for p in sp.parts[1:]]
        out, moved = _gather(graph, incidence, out, anchors, attract, kinds, gather_min,
                             anchors_only=gather_anchors_only)
        splits = [Split(sp.origin, sp.n_members, tuple(
            SplitPart(p.group, p.n_anchors, p.n_members, p.templates, moved.get(p.group, 0))
            for p in sp.parts), sp.cross) for sp in splits]
    return out, splits


def _gather(graph: AccountGraph, incidence: pl.DataFrame, out: np.ndarray,
            anchors: np.ndarray, attract: list[int], kinds: frozenset[str], min_aff: float,
            *, anchors_only: bool) -> tuple[np.ndarray, dict[int, int]]:
    """Bring a split-off operation's accounts that infrastructure put in *other*
    communities to it: a member moves to part ``P`` when the share of its template activity
    on ``P``'s templates (``share * idf * P's anchors on t / all anchors on t``) is at least
    ``min_aff`` and more than on its own community's anchors' templates."""
    n = graph.n_accounts
    vid = pl.DataFrame({"account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
                        "v": np.arange(n, dtype=np.int64), "g": out,
                        "a": anchors.astype(np.int64)})
    beh = (incidence.filter(pl.col("kind").is_in(list(kinds)))
           .with_columns(pl.col("account_id").cast(pl.String()))
           .join(graph.entities.select("kind", "entity", "idf"), on=["kind", "entity"])
           .join(vid.filter(pl.col("g") >= 0), on="account_id")
           .select("v", "g", "a", "kind", "entity", "share", "idf"))
    if beh.height == 0:
        return out, {}
    beh = beh.with_columns(pl.col("a").sum().over("kind", "entity").alias("A"))
    per_g = beh.group_by("g", "kind", "entity").agg(pl.col("a").sum().alias("c"))
    # affinity to the own community: its other anchors' share of the template's anchors
    own = (beh.join(per_g, on=["g", "kind", "entity"])
           .with_columns(((pl.col("c") - pl.col("a")) / (pl.col("A") - pl.col("a")).clip(1, None))
                         .alias("f"))
           .group_by("v").agg((pl.col("share") * pl.col("idf") * pl.col("f")).sum().alias("own")))
    att = per_g.filter(pl.col("g").is_in(attract) & (pl.col("c") > 0)).rename({"g": "p"})
    # anyone outside the part may join it, a member of another split-off part too (the same
    # operation split off from two reseller communities comes together)
    cand = beh
    if anchors_only:
        cand = cand.filter(pl.col("a") > 0)
    to = (cand.join(att, on=["kind", "entity"])
          .filter(pl.col("g") != pl.col("p"))
          .with_columns((pl.col("c") / (pl.col("A") - pl.col("a")).clip(1, None)).alias("f"))
          .group_by("v", "g", "p").agg((pl.col("share") * pl.col("idf") * pl.col("f")).sum()
                                       .alias("aff"))
          .sort(["v", "aff", "p"], descending=[False, True, False])
          .group_by("v", maintain_order=True).first()
          .join(own, on="v", how="left").with_columns(pl.col("own").fill_null(0.0))
          .filter((pl.col("aff") >= min_aff) & (pl.col("aff") > pl.col("own"))))
    out = out.copy()
    v = to.get_column("v").to_numpy()
    p = to.get_column("p").to_numpy()
    out[v] = p
    moved = dict(zip(*np.unique(p, return_counts=True), strict=True)) if len(p) else {}
    return out, {int(k): int(c) for k, c in moved.items()}
