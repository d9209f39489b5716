"""Account <-> entity incidence: the bipartite table account linking is built from.

Why a bipartite table first: every linking signal (shared IPs, payment cards, template
families, sign-up bursts, lockstep timing) is "these accounts touched the same thing".
Writing each as rows ``(account_id, kind, entity, n)`` keeps this stage a pure group-by
over the event frame (it runs unchanged on Spark), and lets the graph stage learn how
common each entity is among all accounts before it turns shared entities into edges.

Kinds produced (each only when its source column exists and is non-null):

========== ============================================================================
ip         exact ``client_ip``
ip_block   /24 for IPv4, /48 for IPv6 (derived here, vectorised)
asn        ``asn``
user_agent ``user_agent``
tls        ``tls_fingerprint``
system_prompt  ``system_prompt_hash`` (or a hash of ``system_prompt`` text if only that exists)
template   ``template_id`` (template family from the scan's stage 1)
payment    ``accounts.payment_fingerprint``
payment_prefix the fingerprint minus its last characters: sequential cards share it
email_domain   ``accounts.email_domain`` (common domains are discounted later, by data)
org        ``accounts.org_id``
signup_burst   sign-up time bucket (two offset grids so a burst is never split in two)
lockstep   activity time bucket (SynchroTrap / CopyCatch spirit)
profile    opt-in (``IncidenceConfig.profile_fields``): a request's coarse *shape*, the
           exact ``max_tokens`` and ``temperature`` with ``n_messages`` / ``n_tools``
           buckets and the log2 output/input token ratio (docs/linking.md, "Paraphrasing
           fleets"); off by default
========== ============================================================================

Per (account, kind) an account keeps at most ``max_entities_per_kind`` entities, chosen by
bottom-k hashing of the entity (consistent sampling: two accounts with the same entity set
keep the same sample, so their overlap still estimates Jaccard similarity). ``share`` is the
account's event share on the entity among the kept entities of that kind, so a kind
contributes at most one unit of "mass" per account whatever its volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

INCIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "kind": pl.String(),
    "entity": pl.String(),
    "n": pl.Int64(),
    "share": pl.Float64(),
}

EVENT_KINDS: dict[str, str] = {
    "ip": "client_ip",
    "asn": "asn",
    "user_agent": "user_agent",
    "tls": "tls_fingerprint",
    "model": "model",
}


@dataclass(frozen=True)
class IncidenceConfig:
    """How entities are derived. Defaults are documented in ``docs/linking.md``.

    ``lockstep_seconds``: width of the co-activity window. Orchestrated fleets fire within
    seconds to minutes of each other; a minute keeps busy honest hours from collapsing
    into one bucket while still catching schedulers with jitter.
    ``signup_seconds``: width of the sign-up burst window (fleet accounts are created by
    a script in minutes).
    ``payment_prefix_drop``: trailing characters removed to get a card-sequence prefix.
    ``max_entities_per_kind``: bottom-k sample size per (account, kind); bounds the table
    for rotating-IP accounts and busy accounts' lockstep buckets.
    ``lockstep_min_events``: accounts with fewer events overall get no lockstep rows
    (two co-active events are coincidence, not orchestration).
    ``kinds``: restrict to these kinds (None = all available).
    ``profile_fields``: request-shape fields that make the opt-in ``profile`` kind (one
    entity per distinct combination); empty = no profile rows (the default). Fields:
    ``max_tokens``, ``temperature``, ``n_messages`` (1, 2, 3-4, 5-8, 9+), ``n_tools``
    (0, 1+), ``io`` (log2 of output/input tokens, rounded, -4..6), ``model``.
    """

    lockstep_seconds: int = 60
    signup_seconds: int = 600
    payment_prefix_drop: int = 2
    max_entities_per_kind: int = 16
    lockstep_min_events: int = 3
    kinds: tuple[str, ...] | None = None
    profile_fields: tuple[str, ...] = ()


PROFILE_FIELDS: dict[str, pl.Expr] = {
    "max_tokens": pl.col("max_tokens").cast(pl.String()).fill_null("-"),
    "temperature": pl.col("temperature").round(2).cast(pl.String()).fill_null("-"),
    "n_messages": pl.col("n_messages").cast(pl.Int64()).clip(0, 9)
    .replace_strict({0: 0, 1: 1, 2: 2, 3: 3, 4: 3, 5: 5, 6: 5, 7: 5, 8: 5, 9: 9},
                    default=None).cast(pl.String()).fill_null("-"),
    "n_tools": (pl.col("n_tools") > 0).cast(pl.String()).fill_null("-"),
    "io": ((pl.col("output_tokens") + 1) / (pl.col("input_tokens") + 1)).log(2).round(0)
    .clip(-4, 6).cast(pl.Int64()).cast(pl.String()).fill_null("-"),
    "model": pl.col("model").cast(pl.String()).fill_null("-"),
}
_PROFILE_COLS: dict[str, tuple[str, ...]] = {
    "io": ("output_tokens", "input_tokens"),
}


def _has(df: pl.DataFrame, col: str) -> bool:
    return col in df.columns and df.get_column(col).null_count() < df.height


def ip_block_expr(col: str = "client_ip") -> pl.Expr:
    """/24 for IPv4 and /48 for IPv6 as a string, fully vectorised (no Python per row).

    IPv6 ``::`` compression is expanded with list operations: the first three groups of
    ``left ++ zeros(8 - |left| - |right|) ++ right``; groups are normalised (lower case,
    leading zeros stripped) so different spellings of one block agree.
    """
    ip = pl.col(col).str.strip_chars().str.to_lowercase()
    v4 = ip.str.extract(r"^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$", 1)
    parts = ip.str.split("::")
    has_gap = parts.list.len() > 1

    def groups(e: pl.Expr) -> pl.Expr:
        g = e.str.split(":").list.eval(
            pl.element().filter(pl.element() != "").str.strip_chars_start("0")
        )
        return g.list.eval(pl.when(pl.element() == "").then(pl.lit("0")).otherwise(pl.element()))

    left = groups(parts.list.get(0, null_on_oob=True))
    right = groups(parts.list.get(1, null_on_oob=True).fill_null(""))
    missing = (8 - left.list.len() - right.list.len()).clip(0, 8)
    zeros = pl.lit(["0"] * 8, dtype=pl.List(pl.String()))
    padded = pl.concat_list([left, zeros]).list.slice(0, left.list.len() + missing)
    full = pl.when(has_gap).then(pl.concat_list([padded, right])).otherwise(left)
    v6 = pl.when(ip.str.contains(":") & (full.list.len() >= 3)).then(
        full.list.slice(0, 3).list.join(":") + "::/48"
    )
    return pl.when(v4.is_not_null()).then(v4 + ".0/24").otherwise(v6)


def _event_rows(events: pl.LazyFrame, kind: str, entity: pl.Expr) -> pl.LazyFrame:
    # Group on the column's own type and cast the (far fewer) groups to strings afterwards:
    # formatting 16M integers (asn, time buckets) as strings before the group-by cost more
    # than the group-by itself. Distinct values stay distinct strings, so rows are the same.
    return (
        events.select(pl.col("account_id"), entity.alias("entity"))
        .filter(pl.col("entity").is_not_null())
        .group_by("account_id", "entity")
        .agg(pl.len().cast(pl.Int64()).alias("n"))
        .with_columns(pl.col("entity").cast(pl.String()), pl.lit(kind).alias("kind"))
        .filter(pl.col("entity") != "")
    )


def _derived_rows(rows: pl.LazyFrame, kind: str, entity: pl.Expr) -> pl.LazyFrame:
    """Re-key already aggregated ``(account_id, entity, n)`` rows by a function of the entity.

    ``ip_block`` of an event is a function of its ``client_ip``, so summing the per-(account,
    ip) counts per (account, block) gives the same rows as a second pass over the events,
    at the cost of one pass over the (account, ip) pairs instead of every event. The
    function itself runs once per distinct entity and is joined back: ``ip_block_expr``'s
    list operations on every (account, ip) pair cost more than the rest of the incidence
    at 1M events (0.8 CPU-s on 261k pairs, 0.1 on their 30k distinct IPs).
    """
    derived = (rows.select(pl.col("entity").unique())
               .with_columns(entity.cast(pl.String()).alias("_derived")))
    return (
        rows.join(derived, on="entity", how="left")
        .select("account_id", pl.col("_derived").alias("entity"), "n")
        .filter(pl.col("entity").is_not_null() & (pl.col("entity") != ""))
        .group_by("account_id", "entity")
        .agg(pl.col("n").sum().cast(pl.Int64()))
        .with_columns(pl.lit(kind).alias("kind"))
    )


def _account_rows(accounts: pl.LazyFrame, kind: str, entity: pl.Expr) -> pl.LazyFrame:
    return (
        accounts.select(pl.col("account_id"), entity.cast(pl.String()).alias("entity"))
        .filter(pl.col("entity").is_not_null() & (pl.col("entity") != ""))
        .unique()
        .with_columns(pl.lit(1, dtype=pl.Int64()).alias("n"), pl.lit(kind).alias("kind"))
    )


def build_incidence(
    events: pl.DataFrame,
    accounts: pl.DataFrame | None = None,
    *,
    config: IncidenceConfig | None = None,
) -> pl.DataFrame:
    """Return the account-entity incidence table ``[account_id, kind, entity, n, share]``.

    ``events`` needs ``account_id`` and ``ts``; every other column is optional and a kind
    whose column is missing or all null is silently inactive (graceful degradation, as the
    contract requires). ``accounts`` may be None.
    """
    cfg = config or IncidenceConfig()
    wanted = set(cfg.kinds) if cfg.kinds is not None else None

    def on(kind: str) -> bool:
        return wanted is None or kind in wanted

    ev = events.lazy()
    if events.schema.get("account_id") == pl.String():
        # Every event kind is a group-by keyed on the account; hashing 16M id strings in
        # each of them cost more than the rest of the group-by. Categorical codes are
        # computed once (one pass) and the groups are turned back into strings below.
        ev = events.with_columns(pl.col("account_id").cast(pl.Categorical())).lazy()
    parts: list[pl.LazyFrame] = []
    ip_rows: pl.LazyFrame | None = None
    for kind, col in EVENT_KINDS.items():
        if kind == "model":
            continue  # every account uses a model; too coarse to link on
        if kind == "ip" and _has(events, col) and (on("ip") or on("ip_block")):
            # aggregated once, eagerly: both ``ip`` and ``ip_block`` rows come from it
            ip_rows = _event_rows(ev, "ip", pl.col(col)).collect().lazy()
            if on("ip"):
                parts.append(ip_rows)
        elif on(kind) and _has(events, col):
            parts.append(_event_rows(ev, kind, pl.col(col)))
    if on("ip_block") and ip_rows is not None:
        parts.append(_derived_rows(ip_rows, "ip_block", ip_block_expr("entity")))
    sp_col = None
    if _has(events, "system_prompt_hash"):
        sp_col = pl.col("system_prompt_hash")
    elif _has(events, "system_prompt"):
        sp_col = pl.col("system_prompt").hash(seed=7)
    if on("system_prompt") and sp_col is not None:
        parts.append(_event_rows(ev, "system_prompt", sp_col))
    if on("template") and _has(events, "template_id"):
        parts.append(_event_rows(ev, "template", pl.col("template_id")))
    unknown = set(cfg.profile_fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"unknown profile fields: {sorted(unknown)}")
    fields = [f for f in cfg.profile_fields
              if all(_has(events, c) for c in _PROFILE_COLS.get(f, (f,)))]
    if on("profile") and fields:
        parts.append(_event_rows(
            ev, "profile", pl.concat_str([PROFILE_FIELDS[f] for f in fields], separator="|")))
    if on("lockstep") and _has(events, "ts"):
        w = max(1, int(cfg.lockstep_seconds))
        busy = (
            ev.group_by("account_id")
            .agg(pl.len().alias("_n"))
            .filter(pl.col("_n") >= cfg.lockstep_min_events)
            .select("account_id")
        )
        bucket = pl.col("ts").dt.epoch("s") // w
        # the "busy" filter is per account, so it can run on the aggregated rows instead of
        # semi-joining every event
        # one row per active minute per account (~one per event): the bottom-k sample is
        # taken here already, so the union below ranks ~16 lockstep rows per account
        # instead of every minute (same sample: bottom-k of a part is bottom-k of the union).
        # The entity string and its sampling hash are functions of the minute alone, so
        # they are computed once per distinct minute (tens of thousands) and joined onto
        # the (account, minute) rows (millions), which stay integers until sampled.
        k_ls = max(1, int(cfg.max_entities_per_kind))
        minutes = (
            ev.select("account_id", bucket.alias("_b"))
            .filter(pl.col("_b").is_not_null())
            .group_by("account_id", "_b")
            .agg(pl.len().cast(pl.Int64()).alias("n"))
            .join(busy, on="account_id", how="semi")
            .collect()  # read twice below: its distinct minutes and the join onto them
            .lazy()
        )
        labels = (
            minutes.select(pl.col("_b").unique())
            .with_columns(pl.col("_b").cast(pl.String()).alias("entity"))
            .with_columns(pl.col("entity").hash(seed=11).alias("_h"))
        )
        parts.append(
            minutes.join(labels, on="_b", how="left")
            .filter(pl.col("entity") != "")
            .filter(pl.col("_h").rank("ordinal").over("account_id") <= k_ls)
            .select("account_id", "entity", "n", pl.lit("lockstep").alias("kind"))
        )

    if accounts is not None and accounts.height:
        ac = accounts.lazy()
        if on("payment") and _has(accounts, "payment_fingerprint"):
            parts.append(_account_rows(ac, "payment", pl.col("payment_fingerprint")))
        if on("payment_prefix") and _has(accounts, "payment_fingerprint"):
            fp = pl.col("payment_fingerprint").cast(pl.String())
            drop = max(1, int(cfg.payment_prefix_drop))
            prefix = pl.when(fp.str.len_chars() > drop + 3).then(
                fp.str.slice(0, fp.str.len_chars() - drop)
            )
            parts.append(_account_rows(ac, "payment_prefix", prefix))
        if on("email_domain") and _has(accounts, "email_domain"):
            parts.append(
                _account_rows(ac, "email_domain", pl.col("email_domain").str.to_lowercase())
            )
        if on("org") and _has(accounts, "org_id"):
            parts.append(_account_rows(ac, "org", pl.col("org_id")))
        if on("signup_burst") and _has(accounts, "created_at"):
            w = max(1, int(cfg.signup_seconds))
            t = pl.col("created_at").dt.epoch("s")
            parts.append(_account_rows(ac, "signup_burst", (t // w).cast(pl.String()) + "a"))
            parts.append(
                _account_rows(ac, "signup_burst", ((t + w // 2) // w).cast(pl.String()) + "b")
            )

    if not parts:
        return pl.DataFrame(schema=INCIDENCE_SCHEMA)
    cols = ["account_id", "kind", "entity", "n"]
    # account ids and kinds stay Categorical codes through the per-(account, kind) windows
    # (millions of rows before the bottom-k filter) and become strings only for the kept
    # rows; same rows in the same order in every window, so the same sample and shares
    inc = pl.concat(
        [p.select(pl.col("account_id").cast(pl.Categorical()),
                  pl.col("kind").cast(pl.Categorical()), *cols[2:]) for p in parts],
        how="vertical",
    )
    k = max(1, int(cfg.max_entities_per_kind))
    inc = (
        inc.with_columns(pl.col("entity").hash(seed=11).alias("_h"))
        .with_columns(pl.col("_h").rank("ordinal").over("account_id", "kind").alias("_r"))
        .filter(pl.col("_r") <= k)
        .with_columns((pl.col("n") / pl.col("n").sum().over("account_id", "kind")).alias("share"))
        .select(pl.col("account_id", "kind").cast(pl.String()), *cols[2:], "share")
        .sort("account_id", "kind", "entity")
    )
    return inc.collect().cast(INCIDENCE_SCHEMA)  # type: ignore[arg-type]
