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
              "share_reasons": pl.String(), "share_signals": pl.String()}
_EVIDENCE = {"account_id": pl.String(), "indicator_id": pl.String(), "frac": pl.Float64()}


def _totals(events: pl.DataFrame) -> pl.DataFrame:
    return events.group_by("account_id").agg(pl.len().alias("total"))


#: A raw head/tail skeleton is worth hashing only if it repeats: a template wraps many
#: payloads, a one-off prompt is no family. (Hashing "hi" too is harmless, only work.)
MIN_SKELETON_EVENTS = 3
_TPL_COLS = ("template_id", "tpl_head", "tpl_tail")


def _hits(values: pl.Series, partner: pl.DataFrame, ring: KeyRing, signal: str
          ) -> pl.DataFrame:
    """``value, indicator_id`` for the distinct own ``values`` whose keyed hash (under any
    partner epoch we hold) is in a partner indicator. One HMAC per distinct value."""
    mine = partner.filter(pl.col("signal_type") == signal)
    uniq = pl.DataFrame({"value": values.unique()}).with_columns(
        pl.col("value").cast(pl.String).str.strip_chars().str.to_lowercase().alias("norm"))
    out = []
    for epoch in mine.get_column("epoch").unique().to_list():
        if not ring.has(ring.key_id, epoch):
            continue
        p = mine.filter(pl.col("epoch") == epoch).select("indicator_id", "hash")
        table = keyed_hashes_of(uniq.get_column("norm"), ring.key(epoch), DOMAINS[signal])
        hit_norm = table.join(p, on="hash").select(pl.col("value").alias("norm"),
                                                   "indicator_id")
        out.append(uniq.join(hit_norm, on="norm").select("value", "indicator_id"))
    if not out:
        return pl.DataFrame({"value": values.head(0),
                             "indicator_id": pl.Series([], dtype=pl.String)})
    return pl.concat(out).unique()


def _account_evidence(accounts: pl.DataFrame, col: str, partner: pl.DataFrame, ring: KeyRing,
                      signal: str) -> pl.DataFrame:
    own = accounts.select("account_id", pl.col(col).alias("value")).drop_nulls()
    hits = _hits(own.get_column("value"), partner, ring, signal)
    return own.join(hits, on="value").select("account_id", "indicator_id",
                                             pl.lit(1.0).alias("frac"))


def _event_evidence(events: pl.DataFrame, totals: pl.DataFrame, col: str,
                    hits: pl.DataFrame) -> pl.DataFrame:
    """Evidence for events whose ``col`` is a matched value: share of each account's
    events that match (computed only over the matching events)."""
    if hits.height == 0:
        return pl.DataFrame(schema=_EVIDENCE)
    keep = hits.get_column("value").implode()
    counts = (events.filter(pl.col(col).is_in(keep))
              .group_by("account_id", pl.col(col).alias("value")).agg(pl.len().alias("n")))
    return (counts.join(hits, on="value").group_by("account_id", "indicator_id")
            .agg(pl.col("n").sum()).join(totals, on="account_id")
            .select("account_id", "indicator_id", (pl.col("n") / pl.col("total")).alias("frac")))


def _block_evidence(events: pl.DataFrame, totals: pl.DataFrame, partner: pl.DataFrame,
                    raw_blocks: pl.DataFrame, ring: KeyRing) -> pl.DataFrame:
    """IP blocks are computed per distinct IP, hashed per distinct block, and only the
    events on matched blocks are counted."""
    ips = events.select(pl.col("client_ip").drop_nulls().unique()).with_columns(
        ip_block_expr("client_ip").alias("block")).drop_nulls("block")
    hits = _hits(ips.get_column("block"), partner, ring, "network-infrastructure")
    if raw_blocks.height:
        hits = pl.concat([hits, raw_blocks.select(pl.col("block").alias("value"),
                                                  "indicator_id")]).unique()
    ip_hits = ips.join(hits.rename({"value": "block"}), on="block").select(
        pl.col("client_ip").alias("value"), "indicator_id")
    return _event_evidence(events, totals, "client_ip", ip_hits)


def _template_evidence(events: pl.DataFrame, totals: pl.DataFrame, partner: pl.DataFrame,
                       ring: KeyRing) -> pl.DataFrame:
    cols = [c for c in _TPL_COLS if c in events.columns]
    cands = []
    for col in cols:
        vc = events.get_column(col).drop_nulls().value_counts(name="n")
        if col != "template_id":
            vc = vc.filter(pl.col("n") >= MIN_SKELETON_EVENTS)
        cands.append(vc.get_column(col).cast(pl.UInt64))
    if not cands:
        return pl.DataFrame(schema=_EVIDENCE)
    hits = _hits(pl.concat(cands).unique(), partner, ring, "prompt-template")
    parts = [_event_evidence(events, totals, col, hits.with_columns(
        pl.col("value").cast(events.schema[col]))) for col in cols]
    # the same event may match through its family id and its raw skeleton: keep the max
    return (pl.concat(parts).group_by("account_id", "indicator_id")
            .agg(pl.col("frac").max().clip(0, 1)))


def match_indicators(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    store: IndicatorStore,
    *,
    keyring: KeyRing | None = None,
    identity: str | None = None,
    skeletons: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``account_id, share_boost (0..1), share_reasons`` for every account in ``accounts``.

    ``keyring`` defaults to the file named by ``$DISTILLGUARD_KEYRING``; without any
    keyring only raw (policy-allowed infrastructure) indicators can match.

    ``events``: the stage-1 frame (``account_id``, ``client_ip``, ``template_id`` and/or
    ``tpl_head``/``tpl_tail``); ``accounts``: canonical accounts; ``identity``: this lab's
    STIX identity (its own indicators are ignored); ``skeletons``: optional
    ``template_id, skeleton`` text of the lab's families for fuzzy (sketch) matching.
    """
    base = accounts.select(pl.col("account_id").cast(pl.String)).unique()
    keyring = keyring if keyring is not None else default_keyring()
    evidence, ind = match_evidence(events, accounts, store, keyring=keyring,
                                   identity=identity, skeletons=skeletons)
    return _combine(base, evidence, ind)


def default_keyring() -> KeyRing:
    """The keyring in ``$DISTILLGUARD_KEYRING``, else a throwaway one (matches nothing
    keyed: its random key shares no hash with any partner)."""
    import os

    from distillguard.share.keys import load_keyring, new_keyring

    path = os.environ.get("DISTILLGUARD_KEYRING")
    return load_keyring(path) if path else new_keyring("none", ["none"])


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
            ev.append(_account_evidence(accounts, col, partner, keyring, signal))
    if "model-api-account" in present:
        ev.append(_account_evidence(base.with_columns(pl.col("account_id").alias("id")), "id",
                                    partner, keyring, "model-api-account"))
    totals = _totals(events)
    raw_blocks = store.blocks().filter(pl.col("indicator_id").is_in(live))
    if "client_ip" in events.columns and ("network-infrastructure" in present
                                          or raw_blocks.height):
        ev.append(_block_evidence(events, totals, partner, raw_blocks, keyring))
    if "prompt-template" in present:
        ev.append(_template_evidence(events, totals, partner, keyring))
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
    totals = _totals(events)
    for epoch in meta.get_column("epoch").unique().to_list():
        if not ring.has(ring.key_id, epoch):
            continue
        sel = (meta.get_column("epoch") == epoch).to_numpy()
        own = keyed_minhash(skeletons.get_column("skeleton").to_list(), ring.key(epoch),
                            num_perm=sigs.shape[1])
        pairs = sketch_matches(skeletons.get_column("template_id").cast(pl.String), own,
                               meta.filter(pl.Series(sel)).get_column("indicator_id"),
                               sigs[sel], SKETCH_THRESHOLD)
        hits = pairs.select(pl.col("own_id").cast(pl.UInt64).alias("value"),
                            pl.col("partner_id").alias("indicator_id"))
        for col in (c for c in _TPL_COLS if c in events.columns):
            out.append(_event_evidence(events, totals, col, hits.with_columns(
                pl.col("value").cast(events.schema[col]))))
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
        pl.col("signal_type").sort().str.join(",").alias("share_signals"),
    )
    return (
        base.join(per_acc, on="account_id", how="left")
        .with_columns(pl.col("share_boost").fill_null(0.0), pl.col("share_reasons").fill_null(""),
                      pl.col("share_signals").fill_null(""))
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


#: Signal types that describe *behaviour*; the others describe infrastructure that a
#: proxy reseller's honest customers share with the attack accounts by construction.
BEHAVIOURAL = ("prompt-template",)


def apply_boosts(scan_accounts: pl.DataFrame, boosts: pl.DataFrame,
                 threshold: float | None = None) -> pl.DataFrame:
    """Fold share boosts into a scan's accounts table (``accounts.csv`` columns).

    ``score' = 1 - (1 - score) * (1 - share_boost)`` for every account. The flag is a
    decision, so it asks for more: an account is flagged when the scan flagged it, or
    when the boost lifts it to ``threshold`` (default: the lowest score the scan flagged,
    i.e. the scan's own operating point; 0.5 when it flagged nothing) *and* either its
    own score was already at least half the threshold, or the partner evidence is
    corroborated -- two or more signal types, one of them behavioural (a template
    family). Infrastructure alone (IPs, e-mail domains, cards) is shared by a reseller's
    honest customers, and one template family alone overlaps honest phrasing; both still
    raise the score and the reasons, but do not flag on their own.
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
    drop = [c for c in ("share_boost", "share_reasons", "share_signals") if c in acc.columns]
    b = boosts if "share_signals" in boosts.columns else boosts.with_columns(
        pl.lit("").alias("share_signals"))
    out = acc.drop(drop).join(b, on="account_id", how="left").with_columns(
        pl.col("share_boost").fill_null(0.0), pl.col("share_reasons").fill_null(""),
        pl.col("share_signals").fill_null(""))
    new_score = 1 - (1 - pl.col("score")) * (1 - pl.col("share_boost"))
    kinds = pl.col("share_signals").str.split(",")
    corroborated = (kinds.list.len() >= 2) & kinds.list.eval(
        pl.element().is_in(list(BEHAVIOURAL))).list.any()
    by_share = ((pl.col("share_boost") > 0) & (new_score >= threshold)
                & (corroborated | (pl.col("score") >= threshold / 2)))
    return out.with_columns(
        new_score.round(6).alias("score"),
        (pl.col("flagged") | by_share).alias("flagged"),
        pl.when(pl.col("share_reasons") != "")
        .then(pl.when(pl.col("reasons") != "")
              .then(pl.col("reasons") + "; " + pl.col("share_reasons"))
              .otherwise(pl.col("share_reasons")))
        .otherwise(pl.col("reasons")).alias("reasons"),
    ).sort("score", "account_id", descending=[True, False])
