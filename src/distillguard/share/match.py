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
(the share of the account's events that match any of its indicators of that type),
publishers combine as independent evidence (``1 - prod(1 - s)``), and signal types
combine the same way. Strength is the signal's weight times the indicator's corroborated
confidence (sightings and false-positive reports from other members move it), and for
traffic signals times the square root of the matched share of the account's events, so
an honest customer who once used a proxy exit, or once used a phrasing an operation also
uses, gets little while an account that lives on the operation's exits and templates
gets the full weight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

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


@dataclass
class MatchCache:
    """What repeated matching of the *same* traffic can compute once (the live sensor
    matches every pushed batch against the lab's traffic held in memory): per-account
    event totals, per-column ``(account, value)`` counts, distinct IPs with their blocks,
    template candidate values, and the keyed hashes of the lab's distinct values per
    signal and epoch. Bound to one ``events``/``accounts`` pair: build a new one when
    the traffic changes. Without a cache every call recomputes everything.
    """

    frames: dict[tuple[str, ...], pl.DataFrame] = field(default_factory=dict)

    def get(self, key: tuple[str, ...], build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        if key not in self.frames:
            self.frames[key] = build()
        return self.frames[key]


def _memo(cache: MatchCache | None, key: tuple[str, ...],
          build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    return build() if cache is None else cache.get(key, build)


def _totals(events: pl.DataFrame, cache: MatchCache | None = None) -> pl.DataFrame:
    return _memo(cache, ("totals",),
                 lambda: events.group_by("account_id").agg(pl.len().alias("total")))


#: A raw head/tail skeleton is worth hashing only if it repeats: a template wraps many
#: payloads, a one-off prompt is no family. (Hashing "hi" too is harmless, only work.)
MIN_SKELETON_EVENTS = 3
#: Event columns carrying template values that partner template indicators match (read
#: here and by the Spark engine's partner matching).
TEMPLATE_COLUMNS = ("template_id", "tpl_head", "tpl_tail")


def _hits(values: pl.Series, partner: pl.DataFrame, ring: KeyRing, signal: str,
          cache: MatchCache | None = None, name: str = "") -> pl.DataFrame:
    """``value, indicator_id`` for the distinct own ``values`` whose keyed hash (under any
    partner epoch we hold) is in a partner indicator. One HMAC per distinct value (once
    per epoch with a cache; ``name`` tells the cache which values these are)."""
    mine = partner.filter(pl.col("signal_type") == signal)
    out = []
    for epoch in mine.get_column("epoch").unique().to_list():
        if not ring.has(ring.key_id, epoch):
            continue
        p = mine.filter(pl.col("epoch") == epoch).select("indicator_id", "hash")

        def hashed(epoch: str = epoch) -> pl.DataFrame:
            uniq = pl.DataFrame({"value": values.unique()}).with_columns(
                pl.col("value").cast(pl.String).str.strip_chars().str.to_lowercase()
                .alias("norm"))
            table = keyed_hashes_of(uniq.get_column("norm"), ring.key(epoch),
                                    DOMAINS[signal])
            return uniq.join(table.select(pl.col("value").alias("norm"), "hash"), on="norm"
                             ).select("value", "hash")

        table = _memo(cache if name else None, ("hash", signal, name, ring.key_id, epoch),
                      hashed)
        out.append(table.join(p, on="hash").select("value", "indicator_id"))
    if not out:
        return pl.DataFrame({"value": values.head(0),
                             "indicator_id": pl.Series([], dtype=pl.String)})
    return pl.concat(out).unique()


@dataclass(frozen=True)
class Source:
    """Values of one column the lab holds that match partner indicators.

    ``table`` is ``"accounts"`` (one value per account: cards, domains, ids) or
    ``"events"`` (one value per event: IP, template ids); ``hits`` maps ``value`` to
    ``indicator_id``. Each source is evidence on its own; the same indicator reached by
    two sources (a family id and its raw skeleton) counts once, at the stronger one.
    """

    name: str
    table: str
    col: str
    hits: pl.DataFrame


def _account_source(accounts: pl.DataFrame, col: str, partner: pl.DataFrame, ring: KeyRing,
                    signal: str, cache: MatchCache | None = None) -> Source:
    own = accounts.get_column(col).drop_nulls()
    return Source(signal, "accounts", col, _hits(own, partner, ring, signal, cache,
                                                 f"accounts:{col}"))


def _block_source(events: pl.DataFrame, partner: pl.DataFrame, raw_blocks: pl.DataFrame,
                  ring: KeyRing, cache: MatchCache | None = None) -> Source:
    """IP blocks are computed per distinct IP, hashed per distinct block; the hits map
    each matching IP to the indicator."""
    ips = _memo(cache, ("ips",), lambda: events.select(
        pl.col("client_ip").drop_nulls().unique()).with_columns(
        ip_block_expr("client_ip").alias("block")).drop_nulls("block"))
    hits = _hits(ips.get_column("block"), partner, ring, "network-infrastructure", cache,
                 "blocks")
    if raw_blocks.height:
        hits = pl.concat([hits, raw_blocks.select(pl.col("block").alias("value"),
                                                  "indicator_id")]).unique()
    ip_hits = ips.join(hits.rename({"value": "block"}), on="block").select(
        pl.col("client_ip").alias("value"), "indicator_id")
    return Source("ip", "events", "client_ip", ip_hits)


def _template_sources(events: pl.DataFrame, partner: pl.DataFrame, ring: KeyRing,
                      cache: MatchCache | None = None) -> list[Source]:
    cols = [c for c in TEMPLATE_COLUMNS if c in events.columns]
    if not cols:
        return []

    def candidates() -> pl.DataFrame:
        cands = []
        for col in cols:
            vc = events.get_column(col).drop_nulls().value_counts(name="n")
            if col != "template_id":
                vc = vc.filter(pl.col("n") >= MIN_SKELETON_EVENTS)
            cands.append(vc.get_column(col).cast(pl.UInt64))
        return pl.DataFrame({"value": pl.concat(cands).unique()})

    cands = _memo(cache, ("tpl_candidates",), candidates).get_column("value")
    hits = _hits(cands, partner, ring, "prompt-template", cache, "tpl_candidates")
    return [Source(f"template:{col}", "events", col,
                   hits.with_columns(pl.col("value").cast(events.schema[col])))
            for col in cols]


def _sketch_sources(events: pl.DataFrame, skeletons: pl.DataFrame, store: IndicatorStore,
                    ring: KeyRing, live: pl.Series) -> list[Source]:
    meta, sigs = store.sketches()
    keep = (meta.get_column("indicator_id").is_in(live.implode())
            & (meta.get_column("key_id") == ring.key_id)).to_numpy()
    meta, sigs = meta.filter(pl.Series(keep)), sigs[keep] if sigs.size else sigs
    out = []
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
        for col in (c for c in TEMPLATE_COLUMNS if c in events.columns):
            out.append(Source(f"sketch:{epoch}:{col}", "events", col, hits.with_columns(
                pl.col("value").cast(events.schema[col]))))
    return out


def match_sources(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    store: IndicatorStore,
    *,
    keyring: KeyRing,
    identity: str | None = None,
    skeletons: pl.DataFrame | None = None,
    cache: MatchCache | None = None,
) -> tuple[list[Source], pl.DataFrame]:
    """Every value of the lab's own that matches a live partner indicator, by source,
    and the live indicators (``IndicatorStore.indicators``). One HMAC per distinct value;
    nothing here is per event."""
    ind = store.indicators(exclude_publisher=identity)
    if ind.height == 0:
        return [], ind
    live = ind.get_column("indicator_id")
    partner = store.hashes().filter(pl.col("indicator_id").is_in(live.implode())
                                    & (pl.col("key_id") == keyring.key_id))
    out: list[Source] = []
    present = set(partner.get_column("signal_type").unique().to_list())
    acc_cols = {"payment-fingerprint": "payment_fingerprint", "email-domain": "email_domain"}
    for signal, col in acc_cols.items():
        if signal in present and col in accounts.columns:
            out.append(_account_source(accounts, col, partner, keyring, signal, cache))
    if "model-api-account" in present:
        out.append(_account_source(accounts.with_columns(pl.col("account_id").cast(pl.String)),
                                   "account_id", partner, keyring, "model-api-account", cache))
    raw_blocks = store.blocks().filter(pl.col("indicator_id").is_in(live.implode()))
    if "client_ip" in events.columns and ("network-infrastructure" in present
                                          or raw_blocks.height):
        out.append(_block_source(events, partner, raw_blocks, keyring, cache))
    if "prompt-template" in present:
        out += _template_sources(events, partner, keyring, cache)
    if skeletons is not None and skeletons.height:
        out += _sketch_sources(events, skeletons, store, keyring, live)
    return [s for s in out if s.hits.height], ind


def _own_values(accounts: pl.DataFrame, src: Source) -> pl.DataFrame:
    """``account_id, value``: the lab's own values of an account-level source's column
    (what its hits are joined to)."""
    return accounts.select(pl.col("account_id").cast(pl.String),
                           pl.col(src.col).alias("value")).drop_nulls()


def _value_counts(events: pl.DataFrame, src: Source, cache: MatchCache | None = None
                  ) -> pl.DataFrame:
    """``account_id, value, n``: matched events per account and matched value."""
    if cache is not None:
        counts = cache.get(("counts", src.col), lambda: events.group_by(
            "account_id", pl.col(src.col).alias("value")).agg(pl.len().alias("n"))
            .drop_nulls("value"))
        return counts.join(src.hits.select("value").unique(), on="value", how="semi")
    keep = src.hits.get_column("value").unique().implode()
    return (events.filter(pl.col(src.col).is_in(keep))
            .group_by("account_id", pl.col(src.col).alias("value")).agg(pl.len().alias("n")))


def match_indicators(
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    store: IndicatorStore,
    *,
    keyring: KeyRing | None = None,
    identity: str | None = None,
    skeletons: pl.DataFrame | None = None,
    cache: MatchCache | None = None,
) -> pl.DataFrame:
    """``account_id, share_boost (0..1), share_reasons`` for every account in ``accounts``.

    ``keyring`` defaults to the file named by ``$DISTILLGUARD_KEYRING``; without any
    keyring only raw (policy-allowed infrastructure) indicators can match.

    ``events``: the stage-1 frame (``account_id``, ``client_ip``, ``template_id`` and/or
    ``tpl_head``/``tpl_tail``); ``accounts``: canonical accounts; ``identity``: this lab's
    STIX identity (its own indicators are ignored); ``skeletons``: optional
    ``template_id, skeleton`` text of the lab's families for fuzzy (sketch) matching;
    ``cache``: a :class:`MatchCache` kept across calls on the same traffic (same result,
    less work).
    """
    base = accounts.select(pl.col("account_id").cast(pl.String)).unique()
    keyring = keyring if keyring is not None else default_keyring()
    sources, ind = match_sources(events, accounts, store, keyring=keyring, identity=identity,
                                 skeletons=skeletons, cache=cache)
    return _combine(base, publisher_evidence(events, accounts, sources, ind, cache))


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
    cache: MatchCache | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per indicator: ``account_id, indicator_id, frac`` (share of the account's events
    the indicator matches; 1 for account-level signals) and the live indicators.
    ``cache``: as in :func:`match_indicators` (shared with it on the same traffic)."""
    sources, ind = match_sources(events, accounts, store, keyring=keyring, identity=identity,
                                 skeletons=skeletons, cache=cache)
    totals = _totals(events, cache)
    ev = []
    for src in sources:
        if src.table == "accounts":
            ev.append(_own_values(accounts, src).join(src.hits, on="value").select(
                "account_id", "indicator_id", pl.lit(1.0).alias("frac")))
            continue
        ev.append(_value_counts(events, src, cache).join(src.hits, on="value")
                  .group_by("account_id", "indicator_id").agg(pl.col("n").sum())
                  .join(totals, on="account_id")
                  .select("account_id", "indicator_id",
                          (pl.col("n") / pl.col("total")).alias("frac")))
    evidence = (pl.concat([e.cast(_EVIDENCE) for e in ev])  # type: ignore[arg-type]
                .group_by("account_id", "indicator_id").agg(pl.col("frac").max())
                if ev else pl.DataFrame(schema=_EVIDENCE))
    return evidence, ind


def _by_publisher(src: Source, ind: pl.DataFrame) -> pl.DataFrame:
    """``value, publisher, signal_type, confidence, fps``: each matched value once per
    publisher and signal type (a block re-published at every scan is one block)."""
    return (src.hits.join(ind, on="indicator_id")
            .group_by("value", "publisher", "signal_type")
            .agg(pl.col("confidence").max(), pl.col("fps").max()))


def publisher_evidence(events: pl.DataFrame, accounts: pl.DataFrame, sources: list[Source],
                       ind: pl.DataFrame, cache: MatchCache | None = None) -> pl.DataFrame:
    """``account_id, publisher, signal_type, frac, confidence, fps``.

    ``frac`` is the share of the account's events that match *any* of the publisher's
    indicators of that type (distinct values cover disjoint events, so it is a sum),
    the strongest source winning; 1 for account-level signals. An attack account that
    spreads its prompts over 30 published template families, or rotates over 20
    published exits, is measured by its whole matched traffic, not by its one busiest
    family, while an honest account that touched a published block once stays near 0.
    """
    totals = _totals(events, cache)
    parts = []
    for src in sources:
        byp = _by_publisher(src, ind)
        if src.table == "accounts":
            parts.append(_own_values(accounts, src).join(byp, on="value").group_by(
                "account_id", "publisher", "signal_type").agg(
                pl.lit(1.0).alias("frac"), pl.col("confidence").max(), pl.col("fps").max()))
            continue
        parts.append(
            _value_counts(events, src, cache).join(byp, on="value")
            .group_by("account_id", "publisher", "signal_type")
            .agg(pl.col("n").sum(), pl.col("confidence").max(), pl.col("fps").max())
            .join(totals, on="account_id")
            .select("account_id", "publisher", "signal_type",
                    (pl.col("n") / pl.col("total")).clip(0, 1).alias("frac"),
                    "confidence", "fps"))
    if not parts:
        return pl.DataFrame(schema=_PUB_EVIDENCE)
    return (pl.concat([p.cast(_PUB_EVIDENCE) for p in parts])  # type: ignore[arg-type]
            .group_by("account_id", "publisher", "signal_type")
            .agg(pl.col("frac").max(), pl.col("confidence").max(), pl.col("fps").max()))


_PUB_EVIDENCE = {"account_id": pl.String(), "publisher": pl.String(),
                 "signal_type": pl.String(), "frac": pl.Float64(),
                 "confidence": pl.Int64(), "fps": pl.Int64()}
#: Signal types measured on the account's traffic (their strength scales with the share
#: of the account's events that match); the others are facts about the account.
TRAFFIC = ("network-infrastructure", "prompt-template")


def strength_expr() -> pl.Expr:
    """Strength of one publisher's evidence of one type: the signal's weight x the
    indicator's corroborated confidence x, for traffic signals, the square root of the
    matched share of the account's events.

    A harvester lives on the operation's exits and templates (share near 1); an honest
    customer of the same reseller, or a user whose one prompt shares a phrasing with the
    operation, touches them in passing (a share of 1-3% gives 10-17% of the weight, where
    the earlier ``0.5 + 0.5 x share`` of the single strongest indicator gave 50%). The
    square root, not the share itself, because a low-and-slow account mixes the
    operation's templates into otherwise ordinary traffic and must keep most of its
    evidence (a 25% share keeps half the weight). No constant to tune.
    """
    traffic = pl.col("signal_type").is_in(list(TRAFFIC))
    return (pl.col("w") * pl.col("confidence") / 100.0
            * pl.when(traffic).then(pl.col("frac").clip(0, 1).sqrt()).otherwise(1.0))


def combine_evidence(evidence: pl.DataFrame, keys: Sequence[str] = ("account_id",)
                     ) -> pl.DataFrame:
    """``keys, share_boost, share_reasons, share_signals`` from publisher evidence.

    Publishers of one signal type, then signal types, combine as independent evidence
    ``1 - prod(1 - s)``."""
    keys = list(keys)
    weights = pl.DataFrame({"signal_type": list(WEIGHTS), "w": list(WEIGHTS.values()),
                            "phrase": [PHRASE[k] for k in WEIGHTS]})
    ev = evidence.join(weights, on="signal_type").with_columns(strength_expr().alias("s"))
    per_sig = ev.group_by(*keys, "signal_type", "phrase").agg(
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
    return per_sig.with_columns(reason.alias("r")).group_by(*keys).agg(
        (1 - (1 - pl.col("s")).product()).clip(0, 1).alias("share_boost"),
        pl.col("r").str.join("; ").alias("share_reasons"),
        pl.col("signal_type").sort().str.join(",").alias("share_signals"),
    )


def _combine(base: pl.DataFrame, evidence: pl.DataFrame) -> pl.DataFrame:
    return (
        base.join(combine_evidence(evidence), on="account_id", how="left")
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


def share_flag_expr(threshold: float) -> pl.Expr:
    """True where partner evidence alone flags an account (see :func:`apply_boosts`);
    reads the scan's own ``score`` and the ``share_boost`` / ``share_signals`` columns."""
    new_score = 1 - (1 - pl.col("score")) * (1 - pl.col("share_boost"))
    kinds = pl.col("share_signals").str.split(",")
    corroborated = (kinds.list.len() >= 2) & kinds.list.eval(
        pl.element().is_in(list(BEHAVIOURAL))).list.any()
    return ((pl.col("share_boost") > 0) & (new_score >= threshold)
            & (corroborated | (pl.col("score") >= threshold / 2)))


def operating_threshold(scan_accounts: pl.DataFrame) -> float:
    """The scan's own operating point: the lowest score it flagged (0.5 if none)."""
    flagged = scan_accounts.filter("flagged").get_column("score")
    return float(flagged.min()) if flagged.len() else 0.5  # type: ignore[arg-type]


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
        threshold = operating_threshold(acc)
    drop = [c for c in ("share_boost", "share_reasons", "share_signals") if c in acc.columns]
    b = boosts if "share_signals" in boosts.columns else boosts.with_columns(
        pl.lit("").alias("share_signals"))
    out = acc.drop(drop).join(b, on="account_id", how="left").with_columns(
        pl.col("share_boost").fill_null(0.0), pl.col("share_reasons").fill_null(""),
        pl.col("share_signals").fill_null(""))
    new_score = 1 - (1 - pl.col("score")) * (1 - pl.col("share_boost"))
    return out.with_columns(
        new_score.round(6).alias("score"),
        (pl.col("flagged") | share_flag_expr(threshold)).alias("flagged"),
        pl.when(pl.col("share_reasons") != "")
        .then(pl.when(pl.col("reasons") != "")
              .then(pl.col("reasons") + "; " + pl.col("share_reasons"))
              .otherwise(pl.col("share_reasons")))
        .otherwise(pl.col("reasons")).alias("reasons"),
    ).sort("score", "account_id", descending=[True, False])
