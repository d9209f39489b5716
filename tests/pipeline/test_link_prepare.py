"""Linking split in two for speed: the score-free half (incidence, graph, Leiden) is
prepared before scoring, and Leiden runs in a child process on big graphs. Both must give
exactly what one in-process ``link_accounts`` call gives."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from distillguard.graph import GraphConfig, link_accounts
from distillguard.graph.build import AccountGraph
from distillguard.graph.cluster import leiden_membership, start_leiden
from distillguard.graph.link import prepare_links


def _random_graph(n: int, m: int, seed: int) -> AccountGraph:
    rng = np.random.default_rng(seed)
    # mostly local ties (index neighbours) so the partition is not trivial
    src = rng.integers(0, n, m)
    dst = np.where(rng.random(m) < 0.8, (src + rng.integers(1, 40, m)) % n,
                   rng.integers(0, n, m))
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    keep = a != b
    edges = (pl.DataFrame({"src": a[keep].astype(np.int32), "dst": b[keep].astype(np.int32),
                           "weight": rng.random(int(keep.sum())) + 0.01})
             .unique(["src", "dst"], keep="first").sort("src", "dst"))
    return AccountGraph(
        account_ids=np.asarray([f"a{i:05d}" for i in range(n)], dtype=object),
        edges=edges,
        kind_edges=edges.with_columns(pl.lit("ip").alias("kind")),
        entities=pl.DataFrame(schema={"kind": pl.String(), "entity": pl.String(),
                                      "degree": pl.UInt32(), "idf": pl.Float64()}),
        n_accounts=n,
    )


def test_leiden_in_a_child_process_gives_the_in_process_partition() -> None:
    g = _random_graph(3_000, 20_000, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to in-process would warn
        job = start_leiden(g, resolution=0.5, seed=0, process=True)
        child = job.result()
    assert job.peak_rss_mb is not None and job.peak_rss_mb > 10
    here_job = start_leiden(g, resolution=0.5, seed=0, process=False)
    here = here_job.result()
    assert here_job.peak_rss_mb is None
    assert len(np.unique(here)) > 1
    np.testing.assert_array_equal(child, here)
    np.testing.assert_array_equal(leiden_membership(g, resolution=0.5, seed=0), here)


def test_the_leiden_childs_peak_memory_is_its_own() -> None:
    """A child forked from a big process reports what *it* used (Linux carries ru_maxrss
    across exec: a child of the 7.5 GB 16M-event scan read 7.5 GB)."""
    g = _random_graph(3_000, 20_000, seed=5)
    ballast = np.ones(800 * 2**20 // 8)  # 800 MB resident in this process
    job = start_leiden(g, resolution=0.5, seed=0, process=True)
    job.result()
    assert ballast[-1] == 1.0
    del ballast
    assert job.peak_rss_mb is not None and 10 < job.peak_rss_mb < 600


def test_leiden_job_closed_early_stops_its_child() -> None:
    g = _random_graph(3_000, 20_000, seed=6)
    job = start_leiden(g, resolution=0.5, seed=0, process=True)
    proc = job._proc
    job.close()
    assert proc is None or proc.poll() is not None


def test_prepared_links_give_the_same_result_as_one_call(proxy_scan) -> None:
    result, _ = proxy_scan
    ev = result.events
    acc = pl.read_parquet(proxy_scan[1] / "accounts.parquet")
    scores = result.accounts.select("account_id", pl.col("score_part1").alias("score"),
                                    pl.col("flagged_part1").alias("flagged"))
    cfg = GraphConfig(flag_threshold=0.5)
    one = link_accounts(ev, acc, scores, config=cfg)
    prep = prepare_links(ev, acc, config=cfg)
    two = link_accounts(ev, acc, scores, config=cfg, prepared=prep)
    assert one.accounts.equals(two.accounts)
    assert [c.accounts for c in one.clusters] == [c.accounts for c in two.clusters]
    # spilled to disk while scoring runs, read back bit for bit
    prep = prepare_links(ev, acc, config=cfg)
    inc = prep.incidence
    prep.spill()
    assert prep.incidence.height == 0 and prep.graph.edges.height == 0
    spilled = link_accounts(ev, acc, scores, config=cfg, prepared=prep)
    assert prep.incidence.equals(inc)
    assert one.accounts.equals(spilled.accounts)
    assert one.graph is not None and spilled.graph is not None
    assert one.graph.kind_edges.equals(spilled.graph.kind_edges)
    # a scored account the prepared graph lacks: rebuilt, not silently dropped
    extra = pl.concat([scores, pl.DataFrame({"account_id": ["zz-new"], "score": [0.0],
                                             "flagged": [False]})])
    three = link_accounts(ev, acc, extra, config=cfg,
                          prepared=prepare_links(ev, acc, config=cfg))
    assert "zz-new" in set(three.accounts.get_column("account_id"))
    with pytest.raises(ValueError, match="different GraphConfig"):
        link_accounts(ev, acc, scores, config=GraphConfig(flag_threshold=0.4),
                      prepared=prepare_links(ev, acc, config=cfg))


def test_graph_read_from_an_edge_file_gives_the_in_memory_partition(monkeypatch) -> None:
    """Big graphs are built by igraph's C edge-list reader: same graph, same partition,
    and vertices past the last one with an edge are still there."""
    import random

    import igraph as ig

    from distillguard.graph import cluster

    g = _random_graph(3_000, 20_000, seed=7)
    src = g.edges.get_column("src").to_list()
    dst = g.edges.get_column("dst").to_list()
    one = ig.Graph(n=g.n_accounts, edges=list(zip(src, dst, strict=True)), directed=False)
    ig.set_random_number_generator(random.Random(0))
    try:
        ref = one.community_leiden(objective_function="modularity",
                                   weights=g.edges.get_column("weight").to_list(),
                                   resolution=0.5, n_iterations=2).membership
    finally:
        ig.set_random_number_generator(random)
    monkeypatch.setattr(cluster, "_EDGE_CHUNK", 1_000)
    got = start_leiden(g, resolution=0.5, seed=0, process=False).result()
    np.testing.assert_array_equal(got, np.asarray(ref))
    src_a, dst_a = np.asarray(src), np.asarray(dst)
    g2 = cluster._igraph(g.n_accounts + 3, src_a, dst_a)
    assert g2.vcount() == g.n_accounts + 3 and g2.ecount() == len(src)
    assert g2.get_edgelist() == list(zip(src, dst, strict=True))
