"""Weighted account graph from the account-entity incidence table.

Two accounts are tied when they touched the same entity. How much that tie is worth is
learned from the data, not from a list of "known-good" values:

* **Specificity (IDF over accounts).** An entity shared by ``d`` of ``N`` accounts gets
  ``idf = log(N / d) / log(N)``: a /24 used by three accounts is strong evidence, a cloud
  /16, a popular SDK user agent or ``gmail.com`` is close to none. Entities held by more than
  ``max_entity_share`` of all accounts (default 20%) are dropped outright (they would carry ~0 weight but
  cost edges).
* **Unit mass per entity (resource allocation).** Each member's tie through an entity is
  divided by ``d - 1``, so an entity gives each member the same total strength whatever its
  size; a 5,000-account template family does not outweigh everything else.
* **No quadratic blow-up.** Entities with at most ``clique_max`` members are projected to all
  pairs; larger ones to a ``2 * ring_k``-regular circulant over their members in a random
  order (hash of account and entity, so it differs per entity), with offsets 1 and
  golden-ratio chords, weights rescaled to keep each member's strength. Such a circulant is
  an expander, so community detection still sees the members as one group, at
  ``O(d * ring_k)`` edges instead of ``O(d^2)``.
* **Kinds are weighted** by ``GraphConfig.kind_weights`` (documented defaults), and the
  account's share of events on the entity scales its tie (``sqrt(share_a * share_b)``): an
  IP seen once in 5,000 requests ties less than the IP carrying all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "ip": 1.0,
    "ip_block": 0.5,
    "asn": 0.25,
    "user_agent": 0.5,
    "tls": 0.5,
    "system_prompt": 1.0,
    "template": 1.0,
    "payment": 2.0,
    "payment_prefix": 1.0,
    "email_domain": 0.5,
    "org": 1.0,
    "signup_burst": 0.75,
    "lockstep": 1.0,
    "profile": 1.0,  # opt-in request-shape kind (IncidenceConfig.profile_fields)
}

# Kinds that only say "the traffic came through the same network path".
NETWORK_KINDS: frozenset[str] = frozenset({"ip", "ip_block", "asn", "tls"})

# Kinds that describe what an account *does*, not where it comes from or who paid. A proxy
# reseller buys accounts in bulk (same cards, org, sign-up burst), routes them through one
# pool (same IPs, TLS, user agent) and may wrap all traffic in its own system prompt; then
# it sells some accounts to honest customers and gives others to a distillation operation.
# All of that is shared by the fleet *and* the honest resold customers: it says "same
# reseller". Only sending the same prompt templates (the user turn's skeleton family) as
# the flagged members says "same operation", so score propagation ties through templates
# only (see propagate.py). System prompts and lockstep timing still shape the clusters:
# lockstep through *repeated* pair co-activity in the graph edges (co-activity in one busy
# minute is chance), system prompts as one more shared entity.
BEHAVIOUR_KINDS: frozenset[str] = frozenset({"template"})


@dataclass(frozen=True)
class AccountGraph:
    """Undirected weighted account graph.

    ``account_ids[i]`` names vertex ``i``. ``edges`` has ``src < dst`` (int32 vertex ids) and
    ``weight``; ``kind_edges`` keeps the per-kind split (``src, dst, kind, weight``) that the
    explanations and the network-only guard need. ``entities`` holds the learned entity
    statistics (``kind, entity, degree, idf``) for the entities that were used.
    """

    account_ids: np.ndarray
    edges: pl.DataFrame
    kind_edges: pl.DataFrame
    entities: pl.DataFrame
    n_accounts: int
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        return self.edges.height


def entity_stats(
    incidence: pl.DataFrame, n_accounts: int, *, max_entity_share: float
) -> pl.DataFrame:
    """Degree and IDF per (kind, entity), learned from how many accounts share it."""
    n = max(n_accounts, 2)
    logn = math.log(n)
    cap = max(2, int(max_entity_share * n))
    return (
        incidence.group_by("kind", "entity")
        .agg(pl.col("account_id").n_unique().alias("degree"))
        .filter((pl.col("degree") >= 2) & (pl.col("degree") <= cap))
        .with_columns(
            ((pl.lit(n, dtype=pl.Float64) / pl.col("degree")).log() / logn)
            .clip(0.0, 1.0)
            .alias("idf")
        )
        .sort("kind", "entity")  # deterministic order downstream (dense-block ids, sums)
    )


def _sum_kind_pairs(pairs: pl.DataFrame, lockstep_min_shared: int) -> pl.DataFrame:
    """Sum ``pairs`` per ``(src, dst, kind)``, sorted by those; drop rare lockstep pairs.

    One stable numpy sort on the integer keys (kinds as codes in name order) and a segment
    sum: a hash group-by on ``(int, int, string)`` plus a sort cost ~1.4 s at 4M pairs.
    """
    schema = {
        "src": pairs.schema["src"],
        "dst": pairs.schema["dst"],
        "kind": pl.String(),
        "weight": pl.Float64(),
    }
    if pairs.height == 0:
        return pl.DataFrame(schema=schema)
    kind_col = pairs.get_column("kind")
    kinds = np.asarray(sorted(kind_col.unique().to_list()), dtype=object)
    kcode = kind_col.replace_strict(
        kinds.tolist(), list(range(len(kinds))), return_dtype=pl.Int32()
    ).to_numpy()
    src = pairs.get_column("src").to_numpy()
    dst = pairs.get_column("dst").to_numpy()
    w = pairs.get_column("weight").to_numpy().astype(np.float64)
    # one int64 key (src, dst, kind) sorts faster than a three-column lexsort; stable, so
    # the rows of one key are summed in the order they were produced
    n_v = int(max(src.max(), dst.max())) + 1
    key = (src.astype(np.int64) * n_v + dst) * len(kinds) + kcode
    order = np.argsort(key, kind="stable")
    src, dst, kcode, w = src[order], dst[order], kcode[order], w[order]
    new = np.concatenate(
        [[True], (src[1:] != src[:-1]) | (dst[1:] != dst[:-1]) | (kcode[1:] != kcode[:-1])]
    )
    start = np.flatnonzero(new)
    count = np.diff(np.append(start, len(w)))
    kc = kcode[start]
    keep = (kinds[kc] != "lockstep") | (count >= lockstep_min_shared)
    start, kc = start[keep], kc[keep]
    return pl.DataFrame(
        {
            "src": pl.Series(src[start], dtype=schema["src"]),
            "dst": pl.Series(dst[start], dtype=schema["dst"]),
            "kind": pl.Series(kinds[kc].tolist(), dtype=pl.String()),
            "weight": np.add.reduceat(w, np.flatnonzero(new))[keep],
        }
    )


def _sum_sorted_pairs(kind_edges: pl.DataFrame) -> pl.DataFrame:
    """Total weight per ``(src, dst)`` from ``kind_edges`` sorted by ``src, dst, kind``.

    The rows of one pair are adjacent, so a segment sum (``np.add.reduceat``) over the
    sorted column replaces a hash group-by plus a sort (1.9 -> 0.1 s at 3M edges); the
    kinds of a pair are added in kind order, so the weights are reproducible.
    """
    src = kind_edges.get_column("src").to_numpy()
    dst = kind_edges.get_column("dst").to_numpy()
    w = kind_edges.get_column("weight").to_numpy()
    if len(w) == 0:
        return pl.DataFrame(
            schema={"src": kind_edges.schema["src"], "dst": kind_edges.schema["dst"], "weight": pl.Float64()}
        )
    start = np.flatnonzero(np.concatenate([[True], (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]))
    return pl.DataFrame(
        {
            "src": pl.Series(src[start], dtype=kind_edges.schema["src"]),
            "dst": pl.Series(dst[start], dtype=kind_edges.schema["dst"]),
            "weight": np.add.reduceat(w, start).astype(np.float64),
        }
    )


def build_graph(
    incidence: pl.DataFrame,
    account_ids: list[str] | np.ndarray,
    *,
    kind_weights: dict[str, float] | None = None,
    clique_max: int = 24,
    ring_k: int = 2,
    max_entity_share: float = 0.2,
    lockstep_min_shared: int = 2,
) -> AccountGraph:
    """Project the incidence table to a weighted account graph (see module docstring)."""
    ids = np.asarray(sorted(set(map(str, account_ids))), dtype=object)
    n = len(ids)
    kw = dict(DEFAULT_KIND_WEIGHTS)
    if kind_weights:
        kw.update(kind_weights)
    idx = pl.DataFrame(
        {
            "account_id": pl.Series(ids.tolist(), dtype=pl.String()),
            "v": np.arange(n, dtype=np.int32),
        }
    )
    ents = entity_stats(incidence, n, max_entity_share=max_entity_share)
    kw_df = pl.DataFrame(
        {"kind": list(kw), "kw": [float(v) for v in kw.values()]},
        schema={"kind": pl.String(), "kw": pl.Float64()},
    )
    ents = ents.join(kw_df, on="kind", how="inner").filter(pl.col("kw") > 0)
    memb = (
        incidence.join(ents.select("kind", "entity", "degree", "idf", "kw"), on=["kind", "entity"])
        .join(idx, on="account_id")
        .with_columns(
            pl.struct("account_id", "entity").hash(seed=3).alias("_h"),
            (pl.col("idf") * pl.col("kw") * pl.col("share").sqrt()).alias("_m"),
        )
        .select("kind", "entity", "v", "degree", "_m", "_h")
    )
    small = memb.filter(pl.col("degree") <= clique_max)
    pairs_small = (
        small.join(small, on=["kind", "entity"], suffix="_b")
        .filter(pl.col("v") < pl.col("v_b"))
        .select(
            pl.col("v").alias("src"),
            pl.col("v_b").alias("dst"),
            "kind",
            (pl.col("_m") * pl.col("_m_b") / (pl.col("degree") - 1)).alias("weight"),
        )
    )
    # Lockstep ties need repetition (CopyCatch): a pair co-active in one busy minute is
    # chance. Buckets larger than clique_max cannot show repetition through a random ring,
    # so they are skipped, and lockstep pairs must share >= lockstep_min_shared buckets.
    big = memb.filter(
        (pl.col("degree") > clique_max) & (pl.col("kind") != "lockstep")
    ).with_columns(pl.col("_h").rank("ordinal").over("kind", "entity").cast(pl.Int64).alias("_p"))
    # The member at position p ties to p + o for ring_k offsets o: 1 and golden-ratio
    # chords (~0.382 d, ~0.236 d, ...). Long chords make each entity's ring an expander
    # (a plain cycle would be cut into segments by community detection).
    ring_parts = []
    k = max(1, int(ring_k))
    fracs = [0.0, 0.381966, 0.236068, 0.145898, 0.090170][:k]
    for j, f in enumerate(fracs):
        off = (pl.col("degree") * f).floor().cast(pl.Int64).clip(j + 1, None) if f else pl.lit(1)
        nxt = big.select(
            "kind",
            "entity",
            (((pl.col("_p") - 1 - off) % pl.col("degree")) + 1).alias("_p"),
            pl.col("v").alias("v_b"),
            pl.col("_m").alias("_m_b"),
        )
        ring_parts.append(
            big.join(nxt, on=["kind", "entity", "_p"]).select(
                pl.min_horizontal("v", "v_b").alias("src"),
                pl.max_horizontal("v", "v_b").alias("dst"),
                "kind",
                (pl.col("_m") * pl.col("_m_b") / (2 * k)).alias("weight"),
            )
        )
    kind_edges = _sum_kind_pairs(
        pl.concat([pairs_small, *ring_parts], how="vertical").filter(
            pl.col("src") != pl.col("dst")
        ),
        lockstep_min_shared,
    )
    edges = _sum_sorted_pairs(kind_edges)
    return AccountGraph(
        account_ids=ids,
        edges=edges,
        kind_edges=kind_edges,
        entities=ents.select("kind", "entity", "degree", "idf"),
        n_accounts=n,
        stats={"entities": float(ents.height), "edges": float(edges.height)},
    )
