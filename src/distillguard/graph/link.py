"""``link_accounts``: incidence -> graph -> clusters -> propagated scores, with evidence."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from distillguard.aggregate.incidence import IncidenceConfig, build_incidence
from distillguard.errors import ConfigError
from distillguard.graph.attribution import Attribution
from distillguard.graph.build import BEHAVIOUR_KINDS, AccountGraph, build_graph
from distillguard.graph.cluster import DenseBlock, LeidenJob, dense_blocks, start_leiden
from distillguard.graph.propagate import PropagationResult, anchor_level, propagate_scores
from distillguard.graph.split import Split, split_groups

#: Anchor level used with a stricter part-1 flag (round 3: measured with tail_ratio 1.12
#: on eight simulated worlds, two held back; see docs/detection.md).
ANCHOR_SCORE = 0.3


@dataclass(frozen=True)
class GraphConfig:
    """Every knob of the linking stage, keyword-only and validated on use.

    ``flag_threshold``: score at or above which an account counts as flagged after
    propagation. None = the lowest score among the part-1 ``flagged`` accounts (so linking
    adds accounts at part 1's own operating point), 0.5 if part 1 flagged none.
    ``min_cluster_size``: smaller Leiden communities get no ``cluster_id``.
    ``anchor_score``: part-1 score from which a member is evidence for its group when that
    is below the flag (``propagate_scores``); None = anchors are the flagged members. It
    goes with a stricter part-1 flag (``scoring.tail_ratio`` > 1): ``run_scan`` sets it to
    ``ANCHOR_SCORE`` then (docs/detection.md, "Round 3").
    ``resolution``: Leiden's. Round 3 measured 1.0 on its eight simulated worlds (a small
    campaign buying from the same resellers as a big one gets its own cluster: purity 1.0
    everywhere), but on the graph tests' synthetic worlds 1.0 splits one campaign into 8
    clusters and drops its low-and-slow recall 0.9 -> 0.7; kept at 0.5.
    ``split_mixed``: split a Leiden community whose anchors form behaviourally separate
    groups (``graph/split.py``; issue #5: two operations behind one reseller): anchors tied
    by shared templates only, Leiden at ``split_resolution`` proposes parts, parts are
    merged while their normalised cross tie is >= ``split_max_cross``. The issue-5
    alternative to a global resolution of 1.0 (docs/linking.md, "Splitting mixed
    clusters"). ``split_lend_both``: the pre-split communities lend as well, so a split
    never lowers a score. ``split_gather`` (> 0; off): anchors elsewhere whose template
    activity is mostly a split-off part's join it (``split_gather_anchors_only``): off
    because it pulled benign part-1 anchors into a campaign's part on two worlds.
    ``split_kinds``: the behaviour kinds the split reads (None = ``tie_kinds``, templates);
    adding lockstep or system prompts was measured worse (docs/linking.md).
    ``evidence_anchor_cap`` (off): a group's evidence is the mean of at most as many top
    scores as it has anchors (not the top decile), so a small fleet inside a big honest
    community is read on its own members. Measured for paraphrasing fleets (docs/
    linking.md, "Paraphrasing fleets"): their recall rose on two of three worlds, but
    honest cohorts with as many anchors (a class, jailbreakers sharing public prompts)
    lent as well (+14 benign flags on 19 worlds), so it stays off.
    ``propagate_blocks``: let Fraudar-style dense blocks lend evidence too (the camouflage-
    resistant view: a fleet that Leiden split or merged with honest traffic still lends).
    ``anchor_weighting``: how much a shared behaviour entity counts: ``"purity"`` (share of
    its users that are flagged members: a generic template the fleet also sends as
    camouflage counts little) or ``"count"`` (``c / (c + 1)`` other flagged users).
    See ``docs/linking.md`` for the rest.
    """

    incidence: IncidenceConfig = field(default_factory=IncidenceConfig)
    kind_weights: dict[str, float] | None = None
    clique_max: int = 24
    ring_k: int = 2
    max_entity_share: float = 0.2
    lockstep_min_shared: int = 2
    resolution: float = 0.5
    seed: int = 0
    n_dense_blocks: int = 3
    dense_eps: float = 0.25
    dense_min_density_ratio: float = 2.0
    evidence_quantile: float = 0.1
    min_evidence_members: int = 3
    evidence_margin: float = 0.3
    min_ref: float = 0.05
    propagate_blocks: bool = True
    anchor_weighting: str = "purity"
    global_floor: bool = False
    tie_power: float = 1.0
    tie_kinds: frozenset[str] = BEHAVIOUR_KINDS
    purity_prior: float = 5.0
    flag_threshold: float | None = None
    min_cluster_size: int = 2
    anchor_score: float | None = None
    split_mixed: bool = True
    split_max_cross: float = 0.15
    split_resolution: float = 1.0
    split_gather: float = 0.0
    split_lend_both: bool = True
    split_gather_anchors_only: bool = True
    split_kinds: frozenset[str] | None = None
    evidence_anchor_cap: bool = False

    def validate(self) -> None:
        if not 0.0 < self.evidence_quantile <= 1.0:
            raise ConfigError(f"evidence_quantile must be in (0, 1], got {self.evidence_quantile}")
        if self.clique_max < 2 * self.ring_k + 1:
            raise ConfigError("clique_max must be at least 2 * ring_k + 1")
        if self.flag_threshold is not None and not 0.0 <= self.flag_threshold <= 1.0:
            raise ConfigError(f"flag_threshold must be in [0, 1], got {self.flag_threshold}")
        if self.min_ref <= 0:
            raise ConfigError(f"min_ref must be > 0, got {self.min_ref}")
        if not 0.0 <= self.evidence_margin < 1.0:
            raise ConfigError(f"evidence_margin must be in [0, 1), got {self.evidence_margin}")
        if self.resolution <= 0:
            raise ConfigError(f"resolution must be > 0, got {self.resolution}")
        if self.split_resolution <= 0 or self.split_max_cross <= 0:
            raise ConfigError("split_resolution and split_max_cross must be > 0")


@dataclass(frozen=True)
class SharedEntity:
    """An entity several cluster members share: kind, readable value, member count."""

    kind: str
    entity: str
    n_accounts: int


@dataclass(frozen=True)
class Cluster:
    """One linked group of accounts and why it is one.

    ``score``: group evidence (mean of the top member part-1 scores, see propagate.py).
    ``density``: in-cluster edge weight / possible pairs (how tight the group is).
    ``evidence``: the most-shared entities per kind, with member counts.
    ``kind_strength``: share of in-cluster tie weight carried by each kind.
    ``dense_block``: True when most members also sit in a Fraudar-style dense block.
    ``split``: set when the cluster is one part of a Leiden community that was split by
    what its anchors send (``graph/split.py``): the community's size and the templates
    this part's anchors use and the other parts' do not.
    """

    cluster_id: str
    accounts: tuple[str, ...]
    score: float
    density: float
    n_flagged: int
    evidence: tuple[SharedEntity, ...]
    kind_strength: tuple[tuple[str, float], ...]
    dense_block: bool = False
    attribution: tuple[Attribution, ...] = ()
    split: str = ""

    @property
    def size(self) -> int:
        return len(self.accounts)

    def describe(self, max_items: int = 6) -> str:
        """One-line infrastructure/behaviour summary with counts (and why it was split)."""
        parts = [f"{e.kind} {e.entity} ({e.n_accounts} accts)" for e in self.evidence[:max_items]]
        if self.split:
            parts.append(self.split)
        return "; ".join(parts)


@dataclass(frozen=True)
class LinkResult:
    """``accounts``: ``account_id, cluster_id, score, flagged, link_reasons`` (+ ``own_score``).

    ``clusters`` are sorted by score, highest first. ``graph`` and ``blocks`` are kept for the
    report's network view.
    """

    accounts: pl.DataFrame
    clusters: list[Cluster]
    threshold: float
    graph: AccountGraph | None = None
    blocks: tuple[DenseBlock, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    def cluster(self, cluster_id: str) -> Cluster:
        for c in self.clusters:
            if c.cluster_id == cluster_id:
                return c
        raise KeyError(cluster_id)


def _entity_label(kind: str, entity: str, cfg: IncidenceConfig) -> str:
    """Human-readable entity: time buckets become UTC times."""
    try:
        if kind == "lockstep":
            t = dt.datetime.fromtimestamp(int(entity) * cfg.lockstep_seconds, tz=dt.UTC)
            return t.strftime("%Y-%m-%dT%H:%M") + f"+{cfg.lockstep_seconds}s"
        if kind == "signup_burst":
            off = cfg.signup_seconds // 2 if entity.endswith("b") else 0
            t = dt.datetime.fromtimestamp(int(entity[:-1]) * cfg.signup_seconds - off, tz=dt.UTC)
            return t.strftime("%Y-%m-%dT%H:%M") + f"+{cfg.signup_seconds}s"
    except (ValueError, OverflowError):
        return entity
    return entity


def _all_ids(events: pl.DataFrame, accounts: pl.DataFrame, scores: pl.DataFrame) -> list[str]:
    s: set[str] = set()
    for df in (events, accounts, scores):
        if "account_id" in df.columns and df.height:
            col = df.get_column("account_id").drop_nulls().unique()
            s.update(col.cast(pl.String()).to_list())
    return sorted(s)


@dataclass
class PreparedLinks:
    """The half of linking that needs no scores: incidence, graph, and the Leiden partition
    (started, possibly in a child process). Built by :func:`prepare_links` so a scan can
    start it before part-1 scoring and let Leiden run beside features and scoring."""

    ids: list[str]
    incidence: pl.DataFrame
    graph: AccountGraph
    leiden: LeidenJob
    config: GraphConfig
    timings: dict[str, float] = field(default_factory=dict)
    _spilled: tempfile.TemporaryDirectory[str] | None = None

    _FRAMES = ("incidence", "edges", "kind_edges", "entities")

    def spill(self) -> None:
        """Move the incidence and graph frames (~1 GB at 16M events) to a temporary
        directory until :meth:`restore`, so they do not add to the peak of whatever runs
        meanwhile (the scan's features). Arrow IPC, uncompressed: written and read back
        at disk speed, bit for bit."""
        if self._spilled is not None:
            return
        tmp = tempfile.TemporaryDirectory(prefix="distillguard-links-")
        d = Path(tmp.name)
        g = self.graph
        for name, df in zip(self._FRAMES, (self.incidence, g.edges, g.kind_edges, g.entities),
                            strict=True):
            df.write_ipc(d / f"{name}.arrow", compression="uncompressed")
        empty = pl.DataFrame()
        self.incidence = empty
        self.graph = AccountGraph(g.account_ids, empty, empty, empty, g.n_accounts, g.stats)
        self._spilled = tmp

    def restore(self) -> None:
        """Read spilled frames back (a no-op if nothing was spilled)."""
        if self._spilled is None:
            return
        d = Path(self._spilled.name)
        inc, edges, kind_edges, entities = (
            pl.read_ipc(d / f"{name}.arrow") for name in self._FRAMES)
        g = self.graph
        self.incidence = inc
        self.graph = AccountGraph(g.account_ids, edges, kind_edges, entities, g.n_accounts,
                                  g.stats)
        self._spilled.cleanup()
        self._spilled = None


def prepare_links(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    *,
    config: GraphConfig | None = None,
    scores: pl.DataFrame | None = None,
    incidence: pl.DataFrame | None = None,
) -> PreparedLinks:
    """Incidence, account graph and (started) Leiden partition; see :func:`link_accounts`.

    The graph has a vertex for every account in ``events``, ``accounts`` and, if given,
    ``scores``. ``incidence``: as in :func:`link_accounts`.
    """
    import time

    cfg = config or GraphConfig()
    cfg.validate()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if events.schema.get("account_id") == pl.String():
        # one pass turns the 16M id strings into categorical codes; the distinct ids below
        # and every per-account group-by in the incidence then hash integers, not strings
        events = events.with_columns(pl.col("account_id").cast(pl.Categorical()))
    ids = _all_ids(events, accounts, scores if scores is not None else pl.DataFrame())
    inc = (build_incidence(events, accounts, config=cfg.incidence) if incidence is None
           else incidence)
    timings["incidence_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    graph = build_graph(
        inc,
        ids,
        kind_weights=cfg.kind_weights,
        clique_max=cfg.clique_max,
        ring_k=cfg.ring_k,
        max_entity_share=cfg.max_entity_share,
        lockstep_min_shared=cfg.lockstep_min_shared,
    )
    timings["graph_s"] = time.perf_counter() - t1
    job = start_leiden(graph, resolution=cfg.resolution, seed=cfg.seed)
    return PreparedLinks(ids, inc, graph, job, cfg, timings)


def link_accounts(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    scores: pl.DataFrame,
    *,
    config: GraphConfig | None = None,
    watchlist: Path | None = None,
    incidence: pl.DataFrame | None = None,
    prepared: PreparedLinks | None = None,
) -> LinkResult:
    """Link accounts into clusters and propagate part-1 scores along strong ties.

    ``events``: the scan's narrow per-event frame (``account_id``, ``ts`` and any of
    ``client_ip, asn, user_agent, tls_fingerprint, system_prompt_hash, template_id``...).
    ``accounts``: canonical accounts table. ``scores``: ``account_id, score, flagged`` and
    optionally ``lends`` (bool: whether the account's own evidence may be lent to its
    group; default true, see ``propagate_scores(lenders=...)``).
    ``watchlist``: optional indicator file; matching clusters get an ``attribution`` in
    their evidence (see attribution.py). Never reads labels.
    ``incidence``: :func:`~distillguard.aggregate.incidence.build_incidence` of the events
    and accounts, when an engine reduced it elsewhere (Spark); ``events`` is then only
    read for account ids.
    ``prepared``: :func:`prepare_links` of the same ``events``/``accounts``/``config``,
    started earlier so Leiden overlaps scoring (rebuilt here if ``scores`` names accounts
    it lacks).
    """
    import time

    cfg = config or GraphConfig()
    cfg.validate()
    t0 = time.perf_counter()
    if prepared is not None and prepared.config != cfg:
        raise ValueError("prepared links were built with a different GraphConfig")
    if prepared is not None and "account_id" in scores.columns and scores.height:
        extra = set(scores.get_column("account_id").drop_nulls().unique().cast(pl.String())
                    .to_list()) - set(prepared.ids)
        if extra:
            prepared = None  # the graph must have a vertex for every scored account
    if prepared is None:
        prepared = prepare_links(events, accounts, config=cfg, scores=scores,
                                 incidence=incidence)
    timings: dict[str, float] = dict(prepared.timings)
    prepared.restore()
    inc, graph = prepared.incidence, prepared.graph
    t2 = time.perf_counter()
    # dense blocks (numpy) run while Leiden finishes, in its child process on big graphs
    blocks = dense_blocks(
        inc,
        graph,
        n_blocks=cfg.n_dense_blocks,
        eps=cfg.dense_eps,
        min_density_ratio=cfg.dense_min_density_ratio,
    )
    timings["dense_blocks_s"] = time.perf_counter() - t2
    memb = prepared.leiden.result()
    timings["cluster_s"] = time.perf_counter() - t2
    if prepared.leiden.elapsed_s is not None:  # Leiden's own wall time (beside the scan)
        timings["leiden_s"] = prepared.leiden.elapsed_s
    if prepared.leiden.peak_rss_mb is not None:  # memory beside the scan's own
        timings["leiden_peak_rss_mb"] = prepared.leiden.peak_rss_mb
    n = graph.n_accounts
    sc = (
        pl.DataFrame({"account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String())})
        .join(
            scores.select(
                pl.col("account_id").cast(pl.String()),
                pl.col("score").cast(pl.Float64()),
                (
                    pl.col("flagged").cast(pl.Boolean())
                    if "flagged" in scores.columns
                    else pl.lit(False).alias("flagged")
                ),
                (
                    pl.col("lends").cast(pl.Boolean())
                    if "lends" in scores.columns
                    else pl.lit(True).alias("lends")
                ),
            ).unique("account_id"),
            on="account_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("score").fill_null(0.0), pl.col("flagged").fill_null(False),
                      pl.col("lends").fill_null(True))
    )
    own = sc.get_column("score").to_numpy().astype(float)
    own_flag = sc.get_column("flagged").to_numpy().astype(bool)
    lenders = sc.get_column("lends").to_numpy().astype(bool)
    sizes = np.bincount(memb, minlength=int(memb.max()) + 1 if n else 0)
    groups = np.where(sizes[memb] >= max(2, cfg.min_cluster_size), memb, -1) if n else memb
    block_of = np.full(n, -1, dtype=np.int64)
    for b, blk in enumerate(blocks):
        block_of[blk.accounts] = b
    if cfg.flag_threshold is not None:
        thr = cfg.flag_threshold
    elif own_flag.any():
        thr = float(own[own_flag].min())
    else:
        thr = 0.5
    splits: list[Split] = []
    t_split = time.perf_counter()
    communities = groups
    if cfg.split_mixed:
        groups, splits = split_groups(
            graph, inc, groups, own >= anchor_level(thr, cfg.anchor_score),
            kinds=cfg.tie_kinds if cfg.split_kinds is None else cfg.split_kinds,
            min_anchors=cfg.min_evidence_members, resolution=cfg.split_resolution,
            max_cross=cfg.split_max_cross, seed=cfg.seed, gather_min=cfg.split_gather,
            gather_anchors_only=cfg.split_gather_anchors_only)
    timings["split_s"] = time.perf_counter() - t_split
    t3 = time.perf_counter()  # propagate_s: propagation, clusters, reasons
    prop = propagate_scores(
        graph,
        inc,
        own,
        groups,
        block_of if cfg.propagate_blocks else np.full(n, -1, dtype=np.int64),
        evidence_quantile=cfg.evidence_quantile,
        min_evidence_members=cfg.min_evidence_members,
        evidence_margin=cfg.evidence_margin,
        anchor_threshold=thr,
        min_ref=cfg.min_ref,
        anchor_weighting=cfg.anchor_weighting,
        global_floor=cfg.global_floor,
        tie_power=cfg.tie_power,
        tie_kinds=cfg.tie_kinds,
        purity_prior=cfg.purity_prior,
        anchor_score=cfg.anchor_score,
        lenders=None if lenders.all() else lenders,
        # the whole pre-split partition, not only the split communities: the typical
        # lending group's coherence (a tie floor) is read over all of them (restricting
        # the view lowered 51 scores on m32)
        communities=communities if splits and cfg.split_lend_both else None,
        evidence_anchor_cap=cfg.evidence_anchor_cap,
    )
    flagged = own_flag | (prop.score >= thr)
    notes = {p.group: sp.describe(p.group) for sp in splits for p in sp.parts}
    clusters, cid_of = _make_clusters(graph, inc, groups, block_of, prop, flagged, cfg, notes)
    reasons = _reasons(graph, groups, cid_of, prop, own, clusters)
    acc = pl.DataFrame(
        {
            "account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()),
            "cluster_id": pl.Series(cid_of, dtype=pl.String()),
            "score": prop.score,
            "flagged": flagged,
            "link_reasons": pl.Series(reasons, dtype=pl.String()),
            "own_score": own,
        }
    )
    if watchlist is not None:
        from distillguard.graph.attribution import attribute_clusters, load_watchlist

        wl = load_watchlist(watchlist)
        clusters = attribute_clusters(clusters, inc, wl)
    timings["propagate_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0
    return LinkResult(
        accounts=acc,
        clusters=clusters,
        threshold=thr,
        graph=graph,
        blocks=tuple(blocks),
        timings=timings,
    )


def _make_clusters(
    graph: AccountGraph,
    inc: pl.DataFrame,
    groups: np.ndarray,
    block_of: np.ndarray,
    prop: PropagationResult,
    flagged: np.ndarray,
    cfg: GraphConfig,
    notes: dict[int, str] | None = None,
) -> tuple[list[Cluster], list[str | None]]:
    n = graph.n_accounts
    cid_of: list[str | None] = [None] * n
    if n == 0 or (groups < 0).all():
        return [], cid_of
    from distillguard.graph.propagate import group_evidence

    ev, _ = group_evidence(
        groups,
        np.asarray(prop.score),
        quantile=cfg.evidence_quantile,
        min_members=cfg.min_evidence_members,
    )
    df = pl.DataFrame(
        {"v": np.arange(n), "g": groups, "ev": ev, "fl": flagged, "blk": block_of >= 0}
    ).filter(pl.col("g") >= 0)
    per = (
        df.group_by("g")
        .agg(
            pl.col("v"),
            pl.col("ev").first(),
            pl.col("fl").sum().alias("n_flagged"),
            pl.col("blk").mean().alias("in_block"),
        )
        .sort(["ev", "n_flagged", "g"], descending=[True, True, False])
    )
    # edge weight inside each group, by kind
    ke = graph.kind_edges
    src = ke.get_column("src").to_numpy()
    dst = ke.get_column("dst").to_numpy()
    same = (groups[src] == groups[dst]) & (groups[src] >= 0)
    kin = ke.filter(pl.Series(same)).with_columns(pl.Series("g", groups[src[same]], dtype=pl.Int64))
    kind_w = kin.group_by("g", "kind").agg(pl.col("weight").sum())
    vid = pl.DataFrame(
        {"account_id": pl.Series(graph.account_ids.tolist(), dtype=pl.String()), "g": groups}
    ).filter(pl.col("g") >= 0)
    shared = (
        inc.join(vid, on="account_id")
        .group_by("g", "kind", "entity")
        # build_incidence emits one row per (account, kind, entity): rows = distinct members
        .agg(pl.len().cast(pl.UInt32()).alias("k"))
        .filter(pl.col("k") >= 2)
        .sort(["g", "k", "kind", "entity"], descending=[False, True, False, False])
        .group_by("g", "kind", maintain_order=True)
        .head(3)
    )
    shared_by_g = shared.partition_by("g", as_dict=True)
    kind_by_g = kind_w.partition_by("g", as_dict=True)
    clusters: list[Cluster] = []
    ids = graph.account_ids
    for rank, row in enumerate(per.iter_rows(named=True)):
        g = int(row["g"])
        cid = f"C{rank + 1:04d}"
        verts = np.asarray(row["v"], dtype=np.int64)
        for v in verts:
            cid_of[int(v)] = cid
        kw = kind_by_g.get((g,))
        total = float(kw.get_column("weight").sum()) if kw is not None else 0.0
        ks: tuple[tuple[str, float], ...] = ()
        if kw is not None and total > 0:
            ks = tuple(
                (str(k), round(float(w) / total, 3))
                for k, w in kw.sort(["weight", "kind"], descending=[True, False])
                .select("kind", "weight")
                .iter_rows()
            )
        sh = shared_by_g.get((g,))
        evid: list[SharedEntity] = []
        if sh is not None:
            by_k = sh.sort(["k", "kind", "entity"], descending=[True, False, False])
            for k, e, c in by_k.select("kind", "entity", "k").iter_rows():
                evid.append(SharedEntity(str(k), _entity_label(k, e, cfg.incidence), int(c)))
        m = len(verts)
        density = total / (m * (m - 1) / 2) if m > 1 else 0.0
        clusters.append(
            Cluster(
                cluster_id=cid,
                accounts=tuple(sorted(str(ids[v]) for v in verts)),
                score=round(float(row["ev"]), 6),
                density=round(density, 6),
                n_flagged=int(row["n_flagged"]),
                evidence=tuple(evid),
                kind_strength=ks,
                dense_block=bool(row["in_block"] >= 0.5),
                split=(notes or {}).get(g, ""),
            )
        )
    return clusters, cid_of


def _reasons(
    graph: AccountGraph,
    groups: np.ndarray,
    cid_of: list[str | None],
    prop: PropagationResult,
    own: np.ndarray,
    clusters: list[Cluster],
) -> list[str]:
    """Per-account sentence: which cluster, how tied, through which kinds (with counts)."""
    n = graph.n_accounts
    out = [""] * n
    if n == 0:
        return out
    ke = graph.kind_edges
    src = ke.get_column("src").to_numpy()
    dst = ke.get_column("dst").to_numpy()
    same = (groups[src] == groups[dst]) & (groups[src] >= 0)
    k = ke.filter(pl.Series(same))
    both = pl.concat(
        [
            k.select(pl.col("src").alias("v"), pl.col("dst").alias("u"), "kind", "weight"),
            k.select(pl.col("dst").alias("v"), pl.col("src").alias("u"), "kind", "weight"),
        ]
    )
    per = (
        both.group_by("v", "kind")
        .agg(pl.col("u").n_unique().alias("nb"), pl.col("weight").sum().alias("w"))
        .sort(["v", "w", "kind"], descending=[False, True, False])
        .group_by("v", maintain_order=True)
        .head(3)
        .group_by("v", maintain_order=True)
        .agg(pl.format("{} with {}", pl.col("kind"), pl.col("nb")).str.join(", ").alias("t"))
    )
    text = dict(zip(per.get_column("v").to_list(), per.get_column("t").to_list(), strict=True))
    size = {c.cluster_id: c.size for c in clusters}
    was_split = {c.cluster_id for c in clusters if c.split}
    for v in range(n):
        cid = cid_of[v]
        if cid is None:
            continue
        ties = text.get(v, "")
        s = f"cluster {cid} ({size.get(cid, 0)} accts)"
        if cid in was_split:
            s += " (split from its infrastructure community by templates)"
        if ties:
            s += f": shares {ties} members"
        if prop.raised_by[v] > 0 and prop.score[v] > own[v] + 1e-9:
            src_name = {1: "cluster", 2: "dense block"}.get(
                int(prop.raised_by[v]), "infrastructure community (before the split)")
            s += (
                f"; score raised {own[v]:.2f}->{prop.score[v]:.2f}: own score combined with "
                f"{src_name} evidence {prop.evidence[v]:.2f} x {prop.tie_kind[v]} tie "
                f"{prop.tie[v]:.2f}"
            )
        out[v] = s
    return out
