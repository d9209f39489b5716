from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from distillguard.aggregate.incidence import IncidenceConfig, build_incidence, ip_block_expr


def test_ip_block_handles_ipv4_ipv6_compression_and_garbage() -> None:
    df = pl.DataFrame(
        {
            "client_ip": [
                "1.2.3.4",
                "2001:db8::1",
                "2001:0DB8:0000:0000:1::",
                "fe80::1:2:3:4:5:6",
                "2001:db8:abcd:12::1",
                "not-an-ip",
                None,
            ]
        }
    )
    got = df.select(ip_block_expr()).to_series().to_list()
    assert got == [
        "1.2.3.0/24",
        "2001:db8:0::/48",
        "2001:db8:0::/48",  # same /48 spelled differently
        "fe80:0:1::/48",  # '::' stands for one zero group here
        "2001:db8:abcd::/48",
        None,
        None,
    ]


def test_degrades_to_lockstep_only_with_minimal_columns() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ev = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "b", "b", "b"],
            "ts": [t0 + dt.timedelta(seconds=s) for s in (0, 60, 120, 1, 61, 121)],
        }
    )
    inc = build_incidence(ev, None)
    assert set(inc.get_column("kind").unique()) == {"lockstep"}
    # both accounts share all three one-minute buckets
    shared = inc.group_by("entity").agg(pl.col("account_id").n_unique().alias("k"))
    assert (shared.get_column("k") == 2).all()


def test_bottom_k_caps_entities_and_shares_sum_to_one(world) -> None:  # type: ignore[no-untyped-def]
    cfg = IncidenceConfig(max_entities_per_kind=5)
    inc = build_incidence(world.events, world.accounts, config=cfg)
    per = inc.group_by("account_id", "kind").agg(pl.len().alias("n"), pl.col("share").sum())
    assert per.get_column("n").max() <= 5
    assert ((per.get_column("share") - 1.0).abs() < 1e-9).all()


def test_bottom_k_sample_is_consistent_across_accounts() -> None:
    """Two accounts with the same 40 IPs keep the same 5: overlap survives sampling."""
    ips = [f"9.9.{i}.1" for i in range(40)]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ev = pl.DataFrame(
        {"account_id": ["a"] * 40 + ["b"] * 40, "ts": [t0] * 80, "client_ip": ips + ips[::-1]}
    )
    inc = build_incidence(ev, None, config=IncidenceConfig(max_entities_per_kind=5, kinds=("ip",)))
    a = set(inc.filter(pl.col("account_id") == "a").get_column("entity"))
    b = set(inc.filter(pl.col("account_id") == "b").get_column("entity"))
    assert len(a) == 5 and a == b


def test_payment_prefix_groups_sequential_cards() -> None:
    acc = pl.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "payment_fingerprint": ["card_77410031", "card_77410032", "card_99999999"],
        }
    )
    ev = pl.DataFrame({"account_id": ["a"], "ts": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]})
    inc = build_incidence(ev, acc, config=IncidenceConfig(kinds=("payment_prefix",)))
    pref = dict(zip(inc["account_id"], inc["entity"], strict=True))
    assert pref["a"] == pref["b"] != pref["c"]


def test_profile_kind_is_opt_in_and_keys_on_request_shape() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ev = pl.DataFrame(
        {
            "account_id": ["a", "a", "b", "c"],
            "ts": [t0 + dt.timedelta(minutes=i) for i in range(4)],
            "max_tokens": [16384, 16384, 16384, None],
            "temperature": [0.7, 0.7, 0.7, 0.0],
            "n_messages": [1, 2, 1, 12],
            "n_tools": [0, 0, 0, 3],
            "input_tokens": [100, 100, 100, 1000],
            "output_tokens": [3100, 3300, 3200, 10],
        }
    )
    assert "profile" not in build_incidence(ev)["kind"].to_list()  # off by default
    inc = build_incidence(ev, config=IncidenceConfig(
        kinds=("profile",), profile_fields=("max_tokens", "temperature", "n_messages", "io")))
    rows = {(r["account_id"], r["entity"]): r["n"] for r in inc.iter_rows(named=True)}
    # a's two requests differ only in message count (1 vs 2: separate buckets); b's one
    # request has a's first shape; io is log2((out+1)/(in+1)) rounded: 5
    assert rows == {("a", "16384|0.7|1|5"): 1, ("a", "16384|0.7|2|5"): 1,
                    ("b", "16384|0.7|1|5"): 1, ("c", "-|0.0|9|-4"): 1}
    # a field whose column is missing is skipped, not an error
    inc2 = build_incidence(ev.drop("temperature"), config=IncidenceConfig(
        kinds=("profile",), profile_fields=("max_tokens", "temperature")))
    assert sorted(inc2["entity"].unique().to_list()) == ["-", "16384"]
    with pytest.raises(ValueError, match="unknown profile fields"):
        build_incidence(ev, config=IncidenceConfig(profile_fields=("max_token",)))
