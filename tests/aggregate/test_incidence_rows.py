"""Incidence rows that are derived (ip_block) or sampled (lockstep) equal their definition
computed straight from the events."""

from __future__ import annotations

import datetime as dt

import polars as pl

from distillguard.aggregate.incidence import IncidenceConfig, build_incidence, ip_block_expr

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _events() -> pl.DataFrame:
    ips = ["10.0.0.1", "10.0.0.2", "10.0.1.7", "2001:db8::1", "2001:DB8:0:0::9", "bad", ""]
    rows = []
    for a in range(6):
        for i in range(40 + 7 * a):  # a5 has 75 events over 75 distinct minutes
            rows.append((f"a{a}", T0 + dt.timedelta(minutes=i * (a + 1), seconds=a),
                         ips[(i * (a + 2)) % len(ips)]))
    rows.append(("quiet", T0, "10.0.0.1"))  # under lockstep_min_events: no lockstep rows
    return pl.DataFrame(rows, schema={"account_id": pl.String(), "ts": pl.Datetime("us", "UTC"),
                                      "client_ip": pl.String()}, orient="row")


def test_ip_block_rows_are_per_event_block_counts() -> None:
    ev = _events()
    got = (build_incidence(ev, config=IncidenceConfig(kinds=("ip_block",)))
           .select("account_id", "entity", "n").sort("account_id", "entity"))
    want = (ev.with_columns(ip_block_expr().alias("entity"))
            .filter(pl.col("entity").is_not_null() & (pl.col("entity") != ""))
            .group_by("account_id", "entity").agg(pl.len().cast(pl.Int64()).alias("n"))
            .sort("account_id", "entity"))
    assert got.equals(want)


def test_lockstep_rows_are_the_bottom_k_minutes_by_hash() -> None:
    cfg = IncidenceConfig(kinds=("lockstep",), max_entities_per_kind=5)
    ev = _events()
    got = build_incidence(ev, config=cfg).select("account_id", "entity", "n")
    minutes = (ev.with_columns((pl.col("ts").dt.epoch("s") // cfg.lockstep_seconds)
                               .cast(pl.String()).alias("entity"))
               .group_by("account_id", "entity").agg(pl.len().cast(pl.Int64()).alias("n")))
    busy = ev.group_by("account_id").len().filter(pl.col("len") >= cfg.lockstep_min_events)
    want = (minutes.join(busy.select("account_id"), on="account_id", how="semi")
            .sort(pl.col("entity").hash(seed=11))
            .group_by("account_id", maintain_order=True).head(5))
    key = ["account_id", "entity"]
    assert got.sort(key).equals(want.select("account_id", "entity", "n").sort(key))
    assert "quiet" not in got.get_column("account_id").to_list()
