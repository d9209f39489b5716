"""Splitting mixed clusters by what their anchors send (graph/split.py, issue #5).

Hand-built worlds: one proxy reseller (shared IPs, cards, sign-up burst) sells accounts to
a big operation, a small one and honest customers. Infrastructure puts them in one Leiden
community; only templates tell the operations apart.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from distillguard.graph import GraphConfig, link_accounts

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _world(ops: dict[str, list[list[str]]], *, n_resold: int = 20, n_benign: int = 400,
           seed: int = 3) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``ops``: operation -> per sub-fleet the template pool its accounts draw from.
    Sub-fleet ``i`` of an op has 16 accounts (12 loud: part-1 0.75-0.95, 4 low-and-slow:
    0.05-0.25, 5 requests). All ops and ``n_resold`` honest customers buy from one
    reseller: its IP pool, sequential cards, one sign-up burst. ``n_benign`` ordinary
    customers with home IPs send untemplated traffic."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    acc: list[dict[str, object]] = []
    lab: list[dict[str, object]] = []
    sc: list[dict[str, object]] = []

    def add(aid: str, n_ev: int, pool: list[str] | None, ips: list[str], score: float,
            card: str, created: dt.datetime, op: str, persona: str) -> None:
        acc.append({"account_id": aid, "payment_fingerprint": card, "created_at": created,
                    "email_domain": "mail.example"})
        lab.append({"account_id": aid, "op": op, "persona": persona})
        sc.append({"account_id": aid, "score": score, "flagged": score >= 0.5})
        for _ in range(n_ev):
            rows.append({
                "account_id": aid,
                "ts": T0 + dt.timedelta(seconds=int(rng.integers(0, 20 * 86400))),
                "client_ip": ips[int(rng.integers(0, len(ips)))],
                "user_agent": "python-httpx/0.27",
                "template_id": None if pool is None else pool[int(rng.integers(0, len(pool)))],
            })

    pool_ips = [f"203.0.113.{i}" for i in range(1, 40)]
    k = 0
    for op, fleets in ops.items():
        for f, tpl in enumerate(fleets):
            for j in range(16):
                low = j >= 12
                add(f"{op}-{f}-{j:02d}", 5 if low else 40, tpl, pool_ips,
                    float(rng.uniform(0.05, 0.25) if low else rng.uniform(0.75, 0.95)),
                    f"card-77{k:04d}", T0 + dt.timedelta(minutes=int(rng.integers(0, 8))),
                    op, "low_and_slow" if low else "attacker")
                k += 1
    for j in range(n_resold):
        add(f"resold-{j:02d}", 30, None, pool_ips, float(rng.uniform(0.0, 0.1)),
            f"card-77{k:04d}", T0 + dt.timedelta(minutes=int(rng.integers(0, 8))), "",
            "resold_customer")
        k += 1
    for j in range(n_benign):
        add(f"user-{j:03d}", 20, None, [f"198.51.{j // 200}.{j % 200 + 1}"],
            float(rng.uniform(0.0, 0.2)), f"card-{j:05d}x",
            T0 + dt.timedelta(days=int(rng.integers(1, 300))), "", "casual")
    return (pl.DataFrame(rows).sort("ts"), pl.DataFrame(acc), pl.DataFrame(sc),
            pl.DataFrame(lab))


def _link(world: tuple[pl.DataFrame, ...], **kw: object) -> pl.DataFrame:
    ev, acc, sc, lab = world
    res = link_accounts(ev, acc, sc, config=GraphConfig(flag_threshold=0.5, **kw))  # type: ignore[arg-type]
    return res.accounts.join(lab, on="account_id")


def _op_clusters(d: pl.DataFrame, op: str) -> list[str]:
    return d.filter((pl.col("op") == op) & pl.col("flagged")).get_column("cluster_id") \
        .unique().to_list()


@pytest.fixture(scope="module")
def two_ops() -> tuple[pl.DataFrame, ...]:
    """A big operation (3 sub-fleets' worth of accounts, 24 templates) and a small one (6
    own templates) that also sends two of the big one's generic templates."""
    big = [f"big-{i}" for i in range(24)]
    small = [f"small-{i}" for i in range(6)] + ["big-0", "big-1"]
    return _world({"big": [big, big, big], "small": [small]})


def test_without_the_split_the_two_operations_share_one_cluster(two_ops) -> None:  # type: ignore[no-untyped-def]
    d = _link(two_ops, split_mixed=False)
    assert _op_clusters(d, "small") == _op_clusters(d, "big")  # the problem, as built


def test_operations_behind_one_reseller_get_their_own_clusters(two_ops) -> None:  # type: ignore[no-untyped-def]
    ev, acc, sc, lab = two_ops
    res = link_accounts(ev, acc, sc, config=GraphConfig(flag_threshold=0.5))
    d = res.accounts.join(lab, on="account_id")
    fl = d.filter(pl.col("flagged") & (pl.col("op") != ""))
    comp = fl.group_by("cluster_id", "op").agg(pl.len().alias("k")).with_columns(
        (pl.col("k") / pl.col("k").sum().over("cluster_id")).alias("frac"))
    main = {}
    for op in ("small", "big"):
        # issue 5's purity: share of the op's flagged accounts in clusters >= 90% that op
        pure = comp.filter((pl.col("op") == op) & (pl.col("frac") >= 0.9))
        assert pure.get_column("k").sum() / fl.filter(pl.col("op") == op).height >= 0.9
        main[op] = pure.sort("k").get_column("cluster_id")[-1]
    assert main["small"] != main["big"]
    small = [main["small"]]
    # each operation's quiet accounts are raised by their own fleet's templates
    for op in ("small", "big"):
        slow = d.filter((pl.col("op") == op) & (pl.col("persona") == "low_and_slow"))
        assert slow.get_column("flagged").mean() >= 0.75
    # the reseller's honest customers sit with the fleets but are not flagged
    assert d.filter(pl.col("persona") == "resold_customer").get_column("flagged").sum() == 0
    # the split is explained: the small op's private templates, in the cluster and reasons
    c = res.cluster(small[0])
    assert "split by behaviour" in c.split and "small-" in c.split
    assert "small-" in c.describe(max_items=0)
    assert d.filter(pl.col("cluster_id") == small[0]).get_column("link_reasons") \
        .str.contains("split from its infrastructure community").all()


def test_one_operation_with_several_template_families_stays_one_cluster() -> None:
    """Three sub-fleets (e.g. languages) each favour their own family but share a common
    core, as one operation's do: not split."""
    core = [f"core-{i}" for i in range(6)]
    fleets = [core + [f"fam{f}-{i}" for i in range(8)] for f in range(3)]
    d = _link(_world({"op": fleets}))
    assert len(_op_clusters(d, "op")) == 1
    assert d.filter(pl.col("op") == "op").get_column("flagged").mean() >= 0.9


def test_split_is_off_switchable_and_deterministic(two_ops) -> None:  # type: ignore[no-untyped-def]
    a = _link(two_ops)
    b = _link(two_ops)
    assert a.equals(b)
    off = _link(two_ops, split_mixed=False)
    assert off.get_column("cluster_id").n_unique() < a.get_column("cluster_id").n_unique()


def test_a_split_never_lowers_a_score(two_ops) -> None:  # type: ignore[no-untyped-def]
    on = _link(two_ops).sort("account_id")
    off = _link(two_ops, split_mixed=False).sort("account_id")
    assert (on.get_column("score") >= off.get_column("score") - 1e-9).all()


def test_a_small_operation_scattered_over_communities_is_gathered() -> None:
    """With ``split_gather`` on, the small op's anchors that infrastructure put with a second reseller's fleet (its
    own IP pool) join the part split off from the first community: they send its
    templates."""
    big = [f"big-{i}" for i in range(24)]
    small = [f"small-{i}" for i in range(6)] + ["big-0", "big-1"]
    ev, acc, sc, lab = _world({"big": [big, big, big], "small": [small]})
    other = [f"other-{i}" for i in range(20)]
    ev2, acc2, sc2, lab2 = _world({"other": [other, other]}, n_resold=0, n_benign=0, seed=5)
    acc2 = acc2.with_columns(pl.col("created_at") + dt.timedelta(days=3))
    # three of the small op's loud accounts bought from the second reseller instead
    moved = ["small-0-00", "small-0-01", "small-0-02"]
    pool2 = ev2.get_column("client_ip").unique().sort().to_list()
    ev = ev.with_columns(
        pl.when(pl.col("account_id").is_in(moved))
        .then(pl.lit(pool2[0])).otherwise(pl.col("client_ip")).alias("client_ip"))
    ev2 = ev2.with_columns(pl.lit(pool2[0]).alias("client_ip"))
    burst2 = acc2.get_column("created_at").min()
    acc = acc.with_columns(
        pl.when(pl.col("account_id").is_in(moved))
        .then(pl.lit(burst2)).otherwise(pl.col("created_at")).alias("created_at"),
        pl.when(pl.col("account_id").is_in(moved))
        .then(pl.lit("card-880000")).otherwise(pl.col("payment_fingerprint"))
        .alias("payment_fingerprint"))
    acc2 = acc2.with_columns(pl.lit("card-880000").alias("payment_fingerprint"))
    world = (pl.concat([ev, ev2]).sort("ts"), pl.concat([acc, acc2]), pl.concat([sc, sc2]),
             pl.concat([lab, lab2]))
    base = _link(world)  # gathering is off by default (docs/linking.md)
    d = _link(world, split_gather=0.1)
    home = d.filter(pl.col("account_id") == "small-0-05").get_column("cluster_id")[0]
    # as built: infrastructure puts them with the second reseller's fleet, apart from home
    assert not base.filter(pl.col("account_id").is_in(moved)).get_column("cluster_id") \
        .is_in([home]).any()
    assert d.filter(pl.col("account_id").is_in(moved)).get_column("cluster_id") \
        .is_in([home]).all()


def test_three_operations_behind_one_reseller_get_three_clusters() -> None:
    """The real-world case: one reseller serving three labs' operations of different size,
    each with its own templates plus a generic family they all send."""
    generic = ["gen-0", "gen-1", "gen-2"]
    ops = {"a": [[f"a-{i}" for i in range(12)] + generic] * 3,
           "b": [[f"b-{i}" for i in range(8)] + generic] * 2,
           "c": [[f"c-{i}" for i in range(6)] + generic]}
    d = _link(_world(ops))
    fl = d.filter(pl.col("flagged") & (pl.col("op") != ""))
    main = set()
    for op in ops:
        cl = fl.filter(pl.col("op") == op).group_by("cluster_id").len().sort("len")
        top = cl.get_column("cluster_id")[-1]
        main.add(top)
        assert cl.get_column("len")[-1] / cl.get_column("len").sum() >= 0.9
        assert (fl.filter(pl.col("cluster_id") == top).get_column("op") == op).mean() >= 0.9
    assert len(main) == 3
    assert d.filter(pl.col("persona") == "resold_customer").get_column("flagged").sum() == 0
    off = _link(_world(ops), split_mixed=False)
    assert off.filter(pl.col("flagged") & (pl.col("op") != "")).get_column("cluster_id") \
        .n_unique() < 3  # infrastructure alone merges them


def test_campaigns_json_and_report_say_why_a_cluster_was_split(two_ops) -> None:  # type: ignore[no-untyped-def]
    from distillguard.graph import summarize_campaigns
    from distillguard.graph.render import campaign_section_html

    ev, acc, sc, _ = two_ops
    res = link_accounts(ev, acc, sc, config=GraphConfig(flag_threshold=0.5))
    camps = summarize_campaigns(res, ev, acc, None)
    split = [c for c in camps if c["split"]]
    assert split and all("split by behaviour" in c["split"] for c in split)
    whole = [c for c in camps if not c["split"]]
    assert all(c["split"] == "" for c in whole)
    html = campaign_section_html(res, split[0], ev)
    assert "class='split'" in html and "split by behaviour" in html
