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
    kind_edges = (
        pl.concat([pairs_small, *ring_parts], how="vertical")
        .filter(pl.col("src") != pl.col("dst"))
        .group_by("src", "dst", "kind")
        .agg(pl.col("weight").sum(), pl.len().alias("_n"))
        .filter((pl.col("kind") != "lockstep") | (pl.col("_n") >= lockstep_min_shared))
        .drop("_n")
        .sort("src", "dst", "kind")
    )
    edges = kind_edges.group_by("src", "dst").agg(pl.col("weight").sum()).sort("src", "dst")
    return AccountGraph(
        account_ids=ids,
        edges=edges,
        kind_edges=kind_edges,
        entities=ents.select("kind", "entity", "degree", "idf"),
        n_accounts=n,
        stats={"entities": float(ents.height), "edges": float(edges.height)},
    )
