"""When would live matching have flagged each account? Event-exact, no time grid.

A lab that follows the hub's push channel matches a partner's publication against its
traffic the moment it arrives, and every later event of its traffic against the
indicators it holds (matching is a join at ingest). :func:`share_flag_times` answers,
for one window ``(start, end]`` with a fixed indicator store and a fixed (last) scan:
the first moment each account's partner evidence, measured on its traffic *so far*,
flags it under :func:`distillguard.share.match.apply_boosts`' rule. Moments are
``start`` itself (the publication reached the lab: its traffic up to then) and every
later event of an account with evidence, so an account first seen after the publication
is flagged at the arrival of the event that tips it, not at the next grid point.

The evidence is the same as ``match_indicators`` (same sources, same per-publisher union
share, same strength, same combination); only the share of matching events is taken
cumulatively. Vectorised: matched events are counted with cumulative sums and read at
each moment with an as-of join.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from distillguard.share.keys import KeyRing
from distillguard.share.match import (
    MIN_SKELETON_EVENTS,
    _by_publisher,
    _own_values,
    combine_evidence,
    match_sources,
    operating_threshold,
    share_flag_expr,
)
from distillguard.share.store import IndicatorStore

_KEYS = ["account_id", "publisher", "signal_type", "source"]


def share_flag_times(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    scan: pl.DataFrame,
    store: IndicatorStore,
    *,
    keyring: KeyRing,
    start: datetime,
    end: datetime,
    identity: str | None = None,
    threshold: float | None = None,
) -> pl.DataFrame:
    """``account_id, at, share_reasons``: first moment in ``[start, end]`` at which
    partner evidence flags each account (accounts never flagged are absent).

    ``events``: stage-1 frame with ``ts`` (only rows with ``ts <= end`` are used);
    per-event columns only (``client_ip``, ``tpl_head``/``tpl_tail``; a resolved
    ``template_id`` would use future traffic, so callers drop it). ``scan``: the last
    scan's ``account_id, score, flagged`` (accounts missing from it count as score 0).
    A raw skeleton only counts once it has repeated ``MIN_SKELETON_EVENTS`` times in the
    lab's traffic, as in ``match_indicators``; that moment is part of the timeline.
    """
    empty = pl.DataFrame(schema={"account_id": pl.String, "at": events.schema["ts"],
                                 "share_reasons": pl.String})
    ev = events.filter(pl.col("ts") <= end).with_columns(pl.col("account_id").cast(pl.String))
    sources, ind = match_sources(ev, accounts, store, keyring=keyring, identity=identity)
    if not sources:
        return empty
    base = scan.select(pl.col("account_id").cast(pl.String), pl.col("score").cast(pl.Float64),
                       pl.col("flagged").cast(pl.Boolean))
    thr = operating_threshold(base) if threshold is None else threshold

    hits, acc_hits = [], []
    for src in sources:
        byp = _by_publisher(src, ind).with_columns(pl.lit(src.name).alias("source"))
        if src.table == "accounts":
            acc_hits.append(_own_values(accounts, src).join(byp, on="value").drop("value"))
            continue
        rows = ev.select("account_id", "ts", pl.col(src.col).alias("value")).join(
            byp, on="value")
        if src.col in ("tpl_head", "tpl_tail"):  # hashed only once the skeleton repeats
            active = (ev.select(pl.col(src.col).alias("value"), "ts")
                      .filter(pl.col("value").is_in(byp.get_column("value").implode()))
                      .sort("ts").group_by("value")
                      .agg(pl.col("ts").get(MIN_SKELETON_EVENTS - 1, null_on_oob=True)
                           .alias("active")).drop_nulls("active"))
            rows = rows.join(active, on="value").with_columns(
                pl.max_horizontal("ts", "active").alias("ts")).drop("active")
        hits.append(rows.drop("value"))
    cand = pl.concat([h.select("account_id") for h in hits + acc_hits]).unique()
    if cand.height == 0:
        return empty

    # moments: the publication (state of traffic so far) and each later event
    mine = ev.join(cand, on="account_id").select("account_id", "ts").sort("account_id", "ts")
    mine = mine.with_columns(pl.int_range(1, pl.len() + 1).over("account_id").alias("n"))
    at_start = (mine.filter(pl.col("ts") <= start).group_by("account_id")
                .agg(pl.col("n").max()).with_columns(pl.lit(start).cast(ev.schema["ts"])
                                                     .alias("at")))
    later = (mine.filter(pl.col("ts") > start).group_by("account_id", pl.col("ts").alias("at"))
             .agg(pl.col("n").max()))
    moments = pl.concat([at_start.select("account_id", "at", "n"),
                         later.select("account_id", "at", "n")]).sort("at")

    parts = []
    if hits:
        h = pl.concat(hits).sort("ts")
        h = (h.group_by(*_KEYS, "ts").agg(pl.len().alias("k"), pl.col("confidence").max(),
                                          pl.col("fps").max())
             .sort("ts").with_columns(pl.col("k").cum_sum().over(_KEYS).alias("m"))
             .sort("ts"))
        grid = moments.join(h.select(_KEYS).unique(), on="account_id").sort("at")
        got = grid.join_asof(h.select(*_KEYS, "ts", "m", "confidence", "fps"), left_on="at",
                             right_on="ts", by=_KEYS, strategy="backward",
                             check_sortedness=False).drop_nulls("m")
        parts.append(got.select("account_id", "at", "publisher", "signal_type",
                                (pl.col("m") / pl.col("n")).clip(0, 1).alias("frac"),
                                "confidence", "fps"))
    if acc_hits:
        a = pl.concat(acc_hits).group_by("account_id", "publisher", "signal_type").agg(
            pl.col("confidence").max(), pl.col("fps").max())
        parts.append(moments.join(a, on="account_id").select(
            "account_id", "at", "publisher", "signal_type", pl.lit(1.0).alias("frac"),
            "confidence", "fps"))
    evidence = (pl.concat([p.cast({"confidence": pl.Int64, "fps": pl.Int64}) for p in parts])
                .group_by("account_id", "at", "publisher", "signal_type")
                .agg(pl.col("frac").max(), pl.col("confidence").max(), pl.col("fps").max()))
    combined = combine_evidence(evidence, keys=("account_id", "at"))
    judged = combined.join(base, on="account_id", how="left").with_columns(
        pl.col("score").fill_null(0.0), pl.col("flagged").fill_null(False))
    return (judged.filter(share_flag_expr(thr)).sort("at")
            .group_by("account_id", maintain_order=True).first()
            .select("account_id", "at", "share_reasons"))
