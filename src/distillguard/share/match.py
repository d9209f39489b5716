"""Match partners' indicators against the lab's own traffic -> per-account score boosts.

Each kind of indicator is matched by a join on values the lab computes itself under the
indicator's epoch key (never by reversing anything):

=======================  =============================================================
payment-fingerprint      keyed hash of the account's payment fingerprint
email-domain             keyed hash of the account's e-mail domain
model-api-account        keyed hash of the account id
network-infrastructure   keyed hash of the /24 or /48 block of each event's IP, or the
                         block itself for raw (proxy / datacenter) indicators
prompt-template          keyed hash of each event's template family id (and of its raw
                         head/tail skeleton ids, so a low-volume lab that never saw
                         enough traffic to call the family a template still matches);
                         with skeleton text, keyed MinHash similarity >= 0.6
=======================  =============================================================

Evidence is combined per account: within one signal type, each *publisher* counts once
(its strongest indicator), publishers combine as independent evidence
(``1 - prod(1 - s)``), and signal types combine the same way. Strength is the signal's
weight times the indicator's corroborated confidence (sightings and false-positive
reports from other members move it), and for traffic signals also grows with the share
of the account's events that match, so an honest customer who once used a proxy exit
gets a smaller boost than an account that lives on it.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from distillguard.share._ip import ip_block_expr
from distillguard.share.keys import KeyRing, keyed_hashes_of
from distillguard.share.publish import DOMAINS
from distillguard.share.sketch import keyed_minhash, sketch_matches
from distillguard.share.store import IndicatorStore

WEIGHTS: Mapping[str, float] = {
    "model-api-account": 0.9,
    "prompt-template": 0.7,
    "payment-fingerprint": 0.6,
    "email-domain": 0.45,
    "network-infrastructure": 0.35,
}
PHRASE: Mapping[str, str] = {
    "model-api-account": "account",
    "prompt-template": "template family",
    "payment-fingerprint": "payment fingerprint",
    "email-domain": "e-mail domain",
    "network-infrastructure": "IP block",
}
SKETCH_THRESHOLD = 0.6
OUT_SCHEMA = {"account_id": pl.String(), "share_boost": pl.Float64(),
              "share_reasons": pl.String()}
_EVIDENCE = {"account_id": pl.String(), "indicator_id": pl.String(), "frac": pl.Float64()}


def _own_account_values(accounts: pl.DataFrame, col: str) -> pl.DataFrame:
    return accounts.select("account_id", pl.col(col).alias("value")).drop_nulls()


def _own_event_values(events: pl.DataFrame, expr: pl.Expr) -> pl.DataFrame:
    """``account_id, value, frac`` (share of the account's events with that value)."""
    ev = events.select("account_id", expr.alias("value"))
    total = ev.group_by("account_id").agg(pl.len().alias("total"))
    return (
        ev.drop_nulls("value").group_by("account_id", "value").agg(pl.len().alias("n"))
        .join(total, on="account_id")
        .select("account_id", "value", (pl.col("n") / pl.col("total")).alias("frac"))
    )


def _template_values(events: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in ("template_id", "tpl_head", "tpl_tail") if c in events.columns]
    if not cols:
        return pl.DataFrame(schema={"account_id": pl.String, "value": pl.String,
                                    "frac": pl.Float64})
    parts = [_own_event_values(events, pl.col(c).cast(pl.UInt64).cast(pl.String)) for c in cols]
    return (pl.concat(parts).group_by("account_id", "value")
            .agg(pl.col("frac").max()))


def _hash_evidence(own: pl.DataFrame, partner: pl.DataFrame, ring: KeyRing, signal: str
                   ) -> pl.DataFrame:
    """Join own values (hashed under each partner epoch) with partner hashes."""
    mine = partner.filter(pl.col("signal_type") == signal)
    out = []
    for epoch in mine.get_column("epoch").unique().to_list():
        if not ring.has(ring.key_id, epoch):
            continue
        p = mine.filter(pl.col("epoch") == epoch).select("indicator_id", "hash")
        table = keyed_hashes_of(own.get_column("value"), ring.key(epoch), DOMAINS[signal])
        own_n = own.with_columns(pl.col("value").cast(pl.String).str.strip_chars()
                                 .str.to_lowercase())
        hit = (table.join(p, on="hash").join(own_n, on="value")
               .select("account_id", "indicator_id",
                       (pl.col("frac") if "frac" in own_n.columns
                        else pl.lit(1.0)).cast(pl.Float64).alias("frac")))
        out.append(hit)
    return pl.concat(out) if out else pl.DataFrame(schema=_EVIDENCE)


def match_indicators(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    store: IndicatorStore,
    *,
    keyring: KeyRing,
    identity: str | None = None,
    skeletons: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``account_id, share_boost (0..1), share_reasons`` for every account in ``accounts``.

    ``events``: the stage-1 frame (``account_id``, ``client_ip``, ``template_id`` and/or
    ``tpl_head``/``tpl_tail``); ``accounts``: canonical accounts; ``identity``: this lab's
    STIX identity (its own indicators are ignored); ``skeletons``: optional
    ``template_id, skeleton`` text of the lab's families for fuzzy (sketch) matching.
    """
    base = accounts.select(pl.col("account_id").cast(pl.String)).unique()
    evidence, ind = match_evidence(events, accounts, store, keyring=keyring,
                                   identity=identity, skeletons=skeletons)
    return _combine(base, evidence, ind)


def match_evidence(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    store: IndicatorStore,
    *,
    keyring: KeyRing,
    identity: str | None = None,
    skeletons: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw evidence rows ``account_id, indicator_id, frac`` and the live indicators."""
    ind = store.indicators(exclude_publisher=identity)
    base = accounts.select(pl.col("account_id").cast(pl.String)).unique()
    if ind.height == 0:
        return pl.DataFrame(schema=_EVIDENCE), ind
    live = ind.get_column("indicator_id").implode()
    partner = store.hashes().filter(pl.col("indicator_id").is_in(live)
                                    & (pl.col("key_id") == keyring.key_id))
    ev: list[pl.DataFrame] = []
    present = set(partner.get_column("signal_type").unique().to_list())
    acc_cols = {"payment-fingerprint": "payment_fingerprint", "email-domain": "email_domain"}
    for signal, col in acc_cols.items():
        if signal in present and col in accounts.columns:
            ev.append(_hash_evidence(_own_account_values(accounts, col), partner, keyring, signal))
    if "model-api-account" in present:
        ev.append(_hash_evidence(base.select("account_id", pl.col("account_id").alias("value")),
                                 partner, keyring, "model-api-account"))
    blocks: pl.DataFrame | None = None
    raw_blocks = store.blocks().filter(pl.col("indicator_id").is_in(live))
    if "client_ip" in events.columns and ("network-infrastructure" in present
                                          or raw_blocks.height):
        blocks = _own_event_values(events, ip_block_expr("client_ip"))
        if "network-infrastructure" in present:
            ev.append(_hash_evidence(blocks, partner, keyring, "network-infrastructure"))
        if raw_blocks.height:
            ev.append(blocks.join(raw_blocks.rename({"block": "value"}), on="value")
                      .select("account_id", "indicator_id", "frac"))
    templates: pl.DataFrame | None = None
    if "prompt-template" in present:
        templates = _template_values(events)
        ev.append(_hash_evidence(templates, partner, keyring, "prompt-template"))
    if skeletons is not None and skeletons.height:
        ev.append(_sketch_evidence(events, skeletons, store, keyring, live))
    evidence = (pl.concat([e.cast(_EVIDENCE) for e in ev])  # type: ignore[arg-type]
                if ev else pl.DataFrame(schema=_EVIDENCE))
    return evidence, ind


def _sketch_evidence(events: pl.DataFrame, skeletons: pl.DataFrame, store: IndicatorStore,
                     ring: KeyRing, live: pl.Series) -> pl.DataFrame:
    meta, sigs = store.sketches()
    keep = (meta.get_column("indicator_id").is_in(live)
            & (meta.get_column("key_id") == ring.key_id)).to_numpy()
    meta, sigs = meta.filter(pl.Series(keep)), sigs[keep] if sigs.size else sigs
    out = []
    fam = _template_values(events)
    for epoch in meta.get_column("epoch").unique().to_list():
        if not ring.has(ring.key_id, epoch):
            continue
        sel = (meta.get_column("epoch") == epoch).to_numpy()
        own = keyed_minhash(skeletons.get_column("skeleton").to_list(), ring.key(epoch),
                            num_perm=sigs.shape[1])
        pairs = sketch_matches(skeletons.get_column("template_id").cast(pl.String), own,
                               meta.filter(pl.Series(sel)).get_column("indicator_id"),
                               sigs[sel], SKETCH_THRESHOLD)
        out.append(pairs.join(fam, left_on="own_id", right_on="value")
                   .select("account_id", pl.col("partner_id").alias("indicator_id"), "frac"))
    return pl.concat(out) if out else pl.DataFrame(schema=_EVIDENCE)


def _combine(base: pl.DataFrame, evidence: pl.DataFrame, ind: pl.DataFrame) -> pl.DataFrame:
    weights = pl.DataFrame({"signal_type": list(WEIGHTS), "w": list(WEIGHTS.values()),
                            "phrase": [PHRASE[k] for k in WEIGHTS]})
    traffic = pl.col("signal_type").is_in(["network-infrastructure", "prompt-template"])
    ev = (
        evidence.join(ind, on="indicator_id").join(weights, on="signal_type")
        .with_columns(
            (pl.col("w") * pl.col("confidence") / 100.0
             * pl.when(traffic).then(0.5 + 0.5 * pl.col("frac").clip(0, 1)).otherwise(1.0))
            .alias("s"))
    )
    per_pub = ev.group_by("account_id", "signal_type", "phrase", "publisher").agg(
        pl.col("s").max(), pl.col("fps").max())
    per_sig = per_pub.group_by("account_id", "signal_type", "phrase").agg(
        (1 - (1 - pl.col("s")).product()).alias("s"),
        pl.col("publisher").n_unique().alias("n_pub"),
        pl.col("fps").max().alias("fps"),
    ).sort("s", descending=True)
    reason = (
        pl.col("phrase") + pl.lit(" matches an indicator published by ")
        + pl.col("n_pub").cast(pl.String) + pl.lit(" other member")
        + pl.when(pl.col("n_pub") > 1).then(pl.lit("s")).otherwise(pl.lit(""))
        + pl.when(pl.col("fps") > 0).then(pl.lit(" (disputed by ") + pl.col("fps").cast(pl.String)
                                          + pl.lit(" false-positive report(s))"))
        .otherwise(pl.lit(""))
    )
    per_acc = per_sig.with_columns(reason.alias("r")).group_by("account_id").agg(
        (1 - (1 - pl.col("s")).product()).clip(0, 1).alias("share_boost"),
        pl.col("r").str.join("; ").alias("share_reasons"),
    )
    return (
        base.join(per_acc, on="account_id", how="left")
        .with_columns(pl.col("share_boost").fill_null(0.0), pl.col("share_reasons").fill_null(""))
        .cast(OUT_SCHEMA)  # type: ignore[arg-type]
    )


def matched_indicators(
    events: pl.DataFrame, accounts: pl.DataFrame, store: IndicatorStore, *, keyring: KeyRing,
    identity: str | None = None,
) -> pl.DataFrame:
    """Per matched indicator: ``indicator_id, n_accounts, n_events, first_seen, last_seen``
    (what a sighting reports: counts and a time range, nothing else)."""
    ind = store.indicators(exclude_publisher=identity)
    if ind.height == 0:
        return pl.DataFrame(schema={"indicator_id": pl.String, "n_accounts": pl.UInt32,
                                    "n_events": pl.UInt32, "first_seen": pl.Datetime("us", "UTC"),
                                    "last_seen": pl.Datetime("us", "UTC")})
    hits, _ = match_evidence(events, accounts, store, keyring=keyring, identity=identity)
    acc = hits.select("account_id", "indicator_id").unique()
    span = events.group_by("account_id").agg(pl.len().alias("n"), pl.col("ts").min().alias("a"),
                                             pl.col("ts").max().alias("b"))
    return (
        acc.join(span, on="account_id")
        .group_by("indicator_id")
        .agg(pl.col("account_id").n_unique().cast(pl.UInt32).alias("n_accounts"),
             pl.col("n").sum().cast(pl.UInt32).alias("n_events"),
             pl.col("a").min().alias("first_seen"), pl.col("b").max().alias("last_seen"))
        .sort("indicator_id")
    )


def apply_boosts(scan_accounts: pl.DataFrame, boosts: pl.DataFrame,
                 threshold: float | None = None) -> pl.DataFrame:
    """Fold share boosts into a scan's accounts table (``accounts.csv`` columns).

    ``score' = 1 - (1 - score) * (1 - share_boost)``; an account is flagged when it was,
    or when a boost lifts it to ``threshold`` (default: the lowest score the scan flagged,
    i.e. the scan's own operating point; 0.5 when it flagged nothing).
    """
    acc = scan_accounts.with_columns(
        pl.col("score").cast(pl.Float64),
        pl.col("flagged").cast(pl.String).str.to_lowercase().is_in(["true", "1"])
        if scan_accounts.schema["flagged"] != pl.Boolean() else pl.col("flagged"),
        pl.col("reasons").cast(pl.String).fill_null(""),
    )
    if threshold is None:
        flagged = acc.filter("flagged").get_column("score")
        threshold = float(flagged.min()) if flagged.len() else 0.5  # type: ignore[arg-type]
    drop = [c for c in ("share_boost", "share_reasons") if c in acc.columns]
    out = acc.drop(drop).join(boosts, on="account_id", how="left").with_columns(
        pl.col("share_boost").fill_null(0.0), pl.col("share_reasons").fill_null(""))
    new_score = 1 - (1 - pl.col("score")) * (1 - pl.col("share_boost"))
    return out.with_columns(
        new_score.round(6).alias("score"),
        (pl.col("flagged") | ((pl.col("share_boost") > 0) & (new_score >= threshold)))
        .alias("flagged"),
        pl.when(pl.col("share_reasons") != "")
        .then(pl.when(pl.col("reasons") != "")
              .then(pl.col("reasons") + "; " + pl.col("share_reasons"))
              .otherwise(pl.col("share_reasons")))
        .otherwise(pl.col("reasons")).alias("reasons"),
    ).sort("score", "account_id", descending=[True, False])
