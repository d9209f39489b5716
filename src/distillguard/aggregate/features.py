"""Stage 2: account-level features as dataframe operations over the enriched event frame.

Every feature is a group-by over ``account_id`` (or a join of small per-account tables), so
this stage is expressible in Spark SQL unchanged in spirit. Nothing here decides anything;
signals (``distillguard.signals``) turn features into evidence and the scorer weighs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from distillguard.enrich.content import AREAS, INTENTS, classify_prompts

#: ``max_tokens`` at or above this counts as "asks for long outputs".
HIGH_MAX_TOKENS = 4000
#: Prompts per account kept for content classification (lowest sample keys).
SAMPLE_PER_ACCOUNT = 6
#: Characters of an example prompt kept as evidence.
EXAMPLE_CHARS = 90
#: Accounts created within the same window form a sign-up burst.
SIGNUP_BUCKET = "10m"

_AUTOMATION_UA = (
    r"(?i)python-requests|httpx|aiohttp|urllib|curl/|wget|go-http-client|okhttp|node-fetch|"
    r"axios|undici|java/|libwww|scrapy|postman|insomnia|rest-client|guzzle|reqwest|hyper/"
)


def ua_classes(ev: pl.LazyFrame) -> pl.DataFrame:
    """``user_agent -> ua_class`` (browser / http_lib / sdk / none), over distinct UAs only."""
    uas = ev.select(pl.col("user_agent").unique()).collect()
    ua = pl.col("user_agent").cast(pl.String)
    return uas.with_columns(
        pl.when(ua.is_null()).then(pl.lit("none"))
        .when(ua.str.contains(_AUTOMATION_UA)).then(pl.lit("http_lib"))
        .when(ua.str.contains(r"(?i)mozilla/|safari|chrome/|firefox")).then(pl.lit("browser"))
        .otherwise(pl.lit("sdk")).alias("ua_class")
    )


def _hours_mask(h: pl.Series) -> pl.Series:
    return pl.Series(np.left_shift(np.int64(1), h.to_numpy().astype(np.int64)))


def _quiet_run(masks: pl.Series) -> pl.Series:
    """Longest stretch of hours of the day (UTC, circular) with no activity: humans sleep,
    whatever their time zone, so their traffic leaves a quiet window; 24/7 scripts do not.
    Vectorised over accounts: 48 passes over one integer array."""
    m = masks.fill_null(0).to_numpy().astype(np.int64)
    run = np.zeros(m.shape, dtype=np.int32)
    best = np.zeros(m.shape, dtype=np.int32)
    for h in range(48):  # two laps so runs wrap around midnight
        off = ((m >> (h % 24)) & 1) == 0
        run = np.where(off, np.minimum(run + 1, 24), 0)
        np.maximum(best, run, out=best)
    return pl.Series(best)


def _entropy(counts: pl.Expr) -> pl.Expr:
    p = counts / counts.sum()
    return -(p * p.log()).sum()


def shared_prompt_accounts(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Exact prompts sent by at least 3 accounts: ``prompt_hash, prompt_accounts``.

    A dataset-wide statistic (a group-by on ``prompt_hash``), separate so that a
    partitioned engine computes it once over all events and passes it in.
    """
    return (
        ev.filter(pl.col("prompt_hash").is_not_null())
        .group_by("prompt_hash")
        .agg(pl.col("account_id").n_unique().alias("prompt_accounts"))
        .filter(pl.col("prompt_accounts") >= 3)
    )


def account_templates(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Requests per (account, template family): ``account_id, template_id, n``.

    The template features, the per-family intent and freshness shares all start from this
    table; :func:`account_features` builds it once and hands it to each of them.
    """
    return (ev.filter(pl.col("template_id").is_not_null())
            .group_by("account_id", "template_id").agg(pl.len().alias("n")))


def account_owners(accounts: pl.DataFrame) -> pl.LazyFrame:
    """``account_id, owner``: the customer behind each account -- its declared organisation
    (``org_id``), else the account itself.

    Why: what makes a template family evidence of an operation is its breadth across
    *customers*: an operation spreads its templates over many accounts it holds separately.
    200 seats of one company on SSO, provisioned in an afternoon and sharing the internal
    assistant's prompt library, are one customer's tooling, not 200 users converging on a
    template (counting accounts flagged ~10% of such a company and linking then lent that
    to nearly all of it; docs/detection.md "Generalisation probe"). A fleet that declares
    one organisation for its accounts gives up the width, but is then one customer the
    provider can act on as a whole, and linking still joins it through the shared org.
    """
    org = (pl.col("org_id").cast(pl.String) if "org_id" in accounts.columns
           else pl.lit(None, dtype=pl.String))
    aid = pl.col("account_id").cast(pl.String)
    return accounts.lazy().select(
        aid, pl.coalesce(pl.lit("org:") + org, pl.lit("acct:") + aid).alias("owner"))


def _with_owner(per_template: pl.LazyFrame, owners: pl.LazyFrame | None) -> pl.LazyFrame:
    """``per_template`` plus ``owner`` (an account missing from ``owners``: itself)."""
    aid = pl.col("account_id").cast(pl.String)
    if owners is None:
        return per_template.with_columns((pl.lit("acct:") + aid).alias("owner"))
    return (per_template.with_columns(aid.alias("_aid"))
            .join(owners.rename({"account_id": "_aid"}), on="_aid", how="left")
            .with_columns(pl.col("owner").fill_null(pl.lit("acct:") + pl.col("_aid")))
            .drop("_aid"))


def family_width(per_template: pl.LazyFrame, owners: pl.LazyFrame | None = None
                 ) -> pl.LazyFrame:
    """``template_id, fam_accounts``: distinct customers (:func:`account_owners`) sending
    each template family. A group-by on ``template_id`` over :func:`account_templates`;
    ``owners`` None counts every account as its own customer."""
    return (_with_owner(per_template, owners).group_by("template_id")
            .agg(pl.col("owner").n_unique().cast(pl.UInt32).alias("fam_accounts")))


def behaviour_features(ev: pl.LazyFrame, families: pl.DataFrame,
                       shared_prompts: pl.LazyFrame | None = None,
                       per_template: pl.LazyFrame | None = None,
                       fam_width: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Volume, timing, tokens, templates, automation per account (one group-by pass).

    ``shared_prompts``: :func:`shared_prompt_accounts` over the whole dataset when ``ev``
    holds only some accounts (default: computed from ``ev``). ``per_template``:
    :func:`account_templates` of ``ev`` if the caller has it (default: computed).
    ``fam_width``: :func:`family_width` over the whole dataset, the customers per family
    that ``wide_family_share`` / ``max_family_accounts`` count (default: the families'
    ``n_accounts``, every account its own customer).
    """
    # per distinct UA, the two flags the shares need: joined onto every event as booleans
    # rather than as the ua_class string (16 B a row at 16M events)
    uas = ua_classes(ev).lazy().select(
        "user_agent",
        pl.col("ua_class").is_in(["http_lib", "none"]).alias("_ua_auto"),
        (pl.col("ua_class") == "browser").alias("_ua_browser"),
    )
    fam = (families.lazy().select("template_id", pl.col("n_accounts").alias("fam_accounts"))
           if fam_width is None else fam_width)
    if shared_prompts is None:
        shared_prompts = shared_prompt_accounts(ev)
    x = (
        ev.join(uas, on="user_agent", how="left")
        .join(shared_prompts, on="prompt_hash", how="left")
        .with_columns(pl.col("ts").dt.hour().alias("hour"))
    )
    # inter-arrival gaps sorted within each account's group: sorting the whole event frame
    # by (account, ts) first was the largest allocation of the stage at 16M events
    gap_s = pl.col("ts").sort().diff().dt.total_milliseconds() / 1000.0
    first = [
        pl.len().alias("n_events"),
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
        pl.col("ts").dt.date().n_unique().alias("active_days"),
        pl.col("ts").dt.truncate("1h").n_unique().alias("active_hours"),
        pl.col("model").n_unique().alias("n_models"),
        pl.col("input_tokens").sum().alias("input_tokens"),
        pl.col("output_tokens").sum().alias("output_tokens"),
        pl.col("output_tokens").mean().alias("mean_output_tokens"),
        (pl.col("max_tokens") >= HIGH_MAX_TOKENS).mean().alias("high_max_tokens_share"),
        pl.col("temperature").mean().alias("temp_mean"),
        pl.col("temperature").std().alias("temp_std"),
        (pl.col("temperature") == 0).mean().alias("temp_zero_share"),
        (pl.col("status") >= 400).mean().fill_null(0.0).alias("error_share"),
        (pl.col("status") == 429).mean().fill_null(0.0).alias("rate_limited_share"),
        pl.col("_ua_auto").mean().alias("automation_ua_share"),
        pl.col("_ua_browser").mean().alias("browser_share"),
        pl.col("user_agent").n_unique().alias("n_user_agents"),
        pl.col("client_ip").n_unique().alias("n_ips"),
        pl.col("prompt_hash").is_not_null().mean().alias("prompt_share"),
        (pl.col("prompt_hash").n_unique() / pl.len()).alias("distinct_prompt_ratio"),
        pl.col("prompt_accounts").is_not_null().mean().alias("shared_prompt_share"),
        pl.col("prompt_chars").mean().alias("mean_prompt_chars"),
        pl.col("system_prompt_hash").n_unique().alias("n_system_prompts"),
        pl.col("system_prompt_hash").is_not_null().mean().alias("system_prompt_share"),
        (pl.col("n_tools").fill_null(0) > 0).mean().alias("tools_share"),
        pl.col("template_id").is_not_null().mean().alias("templated_share"),
    ]
    gaps = [gap_s.mean().alias("gap_mean_s"), gap_s.std().alias("gap_std_s")]
    # the family features (distinct families, top family's share and id, ties: smallest
    # id; requests in wide families, widest family) from the (account, family) counts:
    # value_counts / mode / n_unique over every event's template_id and a join of the
    # families onto every event were a fifth of this stage's cost; same counts
    if per_template is None:
        per_template = account_templates(ev)
    top = per_template.join(fam, on="template_id", how="left").group_by("account_id").agg(
        pl.len().alias("_n_templates"),
        pl.col("n").max().alias("_top_n"),
        pl.col("template_id").filter(pl.col("n") == pl.col("n").max()).min()
        .alias("top_template"),
        pl.col("n").filter(pl.col("fam_accounts").fill_null(0) >= 5).sum().alias("_wide_n"),
        pl.col("fam_accounts").max().alias("_max_fam"),
    )
    base = (
        x.group_by("account_id").agg(*first, *gaps)
        .join(top, on="account_id", how="left")
        .select(
            "account_id", *[e.meta.output_name() for e in first],
            pl.col("_n_templates").fill_null(0).alias("n_templates"),
            (pl.col("_top_n") / pl.col("n_events")).alias("top_template_share"),
            "top_template",
            (pl.col("_wide_n").fill_null(0) / pl.col("n_events")).alias("wide_family_share"),
            pl.col("_max_fam").fill_null(0).alias("max_family_accounts"),
            *[e.meta.output_name() for e in gaps],
        )
    )
    hours = (
        x.group_by("account_id", "hour").agg(pl.len().alias("c"))
        .group_by("account_id")
        .agg((_entropy(pl.col("c")) / math.log(24)).alias("hour_entropy"),
             pl.col("hour").cast(pl.Int64).map_batches(_hours_mask, return_dtype=pl.Int64)
             .sum().alias("_mask"))
        .with_columns(pl.col("_mask").map_batches(_quiet_run, return_dtype=pl.Int32)
                      .alias("quiet_hours"))
        .drop("_mask")
    )
    return base.join(hours, on="account_id", how="left").with_columns(
        (pl.col("gap_std_s") / pl.col("gap_mean_s")).alias("gap_cv"),
        (pl.col("n_events") / pl.col("active_days")).alias("events_per_day"),
        (pl.col("output_tokens") / pl.col("input_tokens").clip(1)).alias("out_in_ratio"),
    )


def release_features(ev: pl.LazyFrame, releases: pl.DataFrame) -> pl.LazyFrame:
    """Model pivot right after a release: share of an account's traffic moved to the new
    model within 48 h, and hours until its first use (only accounts active before it)."""
    empty = pl.LazyFrame(schema={"account_id": pl.String(), "pivot_share": pl.Float64(),
                                 "pivot_hours": pl.Float64(), "pivot_model": pl.String()})
    if releases.height == 0:
        return empty
    # one group-by over the events with each release's counts as literals-keyed columns
    # (releases are a handful), then one frame per release: a cross join of events x
    # releases materialised every event once per release, and a group-by per release
    # read every event once per release. The model is compared as the Categorical it is
    # (no per-event String cast).
    aggs: list[pl.Expr] = []
    rels = list(releases.select("model", "released_at").iter_rows())
    for i, (rel_model, released_at) in enumerate(rels):
        t0 = pl.lit(released_at, dtype=releases.schema["released_at"])
        after = (pl.col("ts") >= t0) & (pl.col("ts") < t0 + pl.duration(hours=48))
        new_model = pl.col("model") == pl.lit(rel_model, dtype=pl.String)
        aggs += [
            (pl.col("ts") < t0).sum().alias(f"n_before{i}"),
            after.sum().alias(f"n_after{i}"),
            (after & new_model).sum().alias(f"n_after_new{i}"),
            ((pl.col("ts").filter(new_model).min() - t0).dt.total_minutes() / 60.0)
            .alias(f"pivot_hours{i}"),
        ]
    wide = ev.group_by("account_id").agg(aggs).collect().lazy()
    parts = [
        wide.select(
            "account_id",
            *[pl.col(f"{c}{i}").alias(c)
              for c in ("n_before", "n_after", "n_after_new", "pivot_hours")],
        ).with_columns(pl.lit(rel_model, dtype=pl.String).alias("rel_model"))
        for i, (rel_model, _) in enumerate(rels)
    ]
    per = (
        pl.concat(parts)
        .filter((pl.col("n_before") > 0) & (pl.col("n_after") > 0))
        .with_columns((pl.col("n_after_new") / pl.col("n_after")).alias("pivot_share"))
    )
    return (
        per.sort("pivot_share", descending=True)
        .group_by("account_id")
        .agg(pl.col("pivot_share").first(), pl.col("pivot_hours").first(),
             pl.col("rel_model").first().alias("pivot_model"))
    )


def account_facts(accounts: pl.DataFrame) -> pl.LazyFrame:
    """Sign-up burst size (accounts created in the same window) and declared facts.

    ``org_id`` (the declared organisation, null when none) is passed through so that
    signals can read customer-level facts over an organisation's accounts (scoring sees
    every account's row at once; see ``signals.builtin.release_pivot``)."""
    acc = accounts.lazy()
    for c, t in (("tier", pl.String()), ("country", pl.String()), ("org_id", pl.String())):
        if c not in accounts.columns:
            acc = acc.with_columns(pl.lit(None, dtype=t).alias(c))
    return acc.with_columns(
        pl.len().over(pl.col("created_at").dt.truncate(SIGNUP_BUCKET)).alias("signup_burst"),
        pl.col("org_id").cast(pl.String),
    ).select("account_id", "created_at", "tier", "country", "org_id", "signup_burst")


def reduce_sample(sample: pl.DataFrame) -> pl.DataFrame:
    """Keep the ``SAMPLE_PER_ACCOUNT`` lowest sample keys per account (a bottom-k sample:
    associative, so partial samples from any batches/partitions merge to the same result)."""
    return sample.filter(
        pl.col("sample_key").rank("ordinal").over("account_id") <= SAMPLE_PER_ACCOUNT
    )


def content_features(sample: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Classify the per-account prompt sample: intent shares and capability-area spread.

    Returns ``(per-account content features, classified sample rows)``; the rows feed the
    evidence ("example prompt") and the report.
    """
    s = reduce_sample(sample)
    distinct = s.unique("prompt", keep="first").select("prompt", "n_tools")
    cls = pl.concat(
        [distinct, classify_prompts(distinct.get_column("prompt"), distinct.get_column("n_tools"))],
        how="horizontal",
    ).drop("n_tools")
    rows = s.join(cls, on="prompt", how="left")
    feats = rows.group_by("account_id").agg(
        pl.len().alias("n_sampled"),
        *[(pl.col(f"p_{k}") > 0.5).mean().alias(f"{k}_share") for k in INTENTS],
        # the most typical sampled prompt per intent: evidence shown in `reasons`
        *[pl.col("prompt").sort_by(f"p_{k}", descending=True).first()
          .str.head(EXAMPLE_CHARS).alias(f"{k}_example") for k in INTENTS],
        pl.col("area").n_unique().alias("n_areas"),
    )
    area_ent = (
        rows.group_by("account_id", "area").agg(pl.len().alias("c"))
        .group_by("account_id")
        .agg((_entropy(pl.col("c")) / math.log(len(AREAS))).alias("area_entropy"))
    )
    return feats.join(area_ent, on="account_id", how="left"), rows


def family_intents(families: pl.DataFrame, rows: pl.DataFrame, min_rows: int = 3
                   ) -> pl.DataFrame:
    """Per template family, the share of its classified sample rows with each intent
    (``template_id, f_<intent>``; families with at least ``min_rows`` rows)."""
    ids = families.get_column("template_id").implode()
    fam_rows = rows.with_columns(
        pl.when(pl.col("tpl_head").is_in(ids)).then(pl.col("tpl_head"))
        .when(pl.col("tpl_tail").is_in(ids)).then(pl.col("tpl_tail"))
        .otherwise(None).alias("template_id")
    ).filter(pl.col("template_id").is_not_null())
    return (
        fam_rows.group_by("template_id")
        .agg(pl.len().alias("n_rows"),
             *[(pl.col(f"p_{k}") > 0.5).mean().alias(f"f_{k}") for k in INTENTS])
        .filter(pl.col("n_rows") >= min_rows)
        .drop("n_rows")
    )


def family_content(ev: pl.LazyFrame, families: pl.DataFrame, rows: pl.DataFrame,
                   min_rows: int = 3, fam_intent: pl.DataFrame | None = None,
                   per_template: pl.LazyFrame | None = None,
                   totals: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Intent shares pooled per template family, spread back over each account's traffic.

    A template's intent is a property of its fixed text, so the classified sample rows of
    *all* accounts using a family estimate it far better than one account's few samples.
    Per account: ``<intent>_family_share`` = share of its requests in families whose
    sampled prompts mostly carry that intent (weighted by the family's intent share).
    ``fam_intent``: :func:`family_intents` of the whole dataset's sample when ``ev`` and
    ``rows`` hold only some accounts (default: computed from ``rows``).
    ``per_template``, ``totals``: :func:`account_templates` of ``ev`` and its requests per
    account (``account_id, _n``) if the caller has them (default: computed from ``ev``).
    """
    cols = [f"{k}_family_share" for k in INTENTS]
    if families.height == 0 or (rows.height == 0 if fam_intent is None
                                else fam_intent.height == 0):
        return pl.LazyFrame(schema={"account_id": pl.String(),
                                    **{c: pl.Float64() for c in cols}})
    if fam_intent is None:
        fam_intent = family_intents(families, rows, min_rows)
    per = (
        (account_templates(ev) if per_template is None else per_template)
        .join(fam_intent.lazy(), on="template_id", how="inner")
        .group_by("account_id")
        .agg(*[(pl.col(f"f_{k}") * pl.col("n")).sum().alias(f"_{k}") for k in INTENTS])
    )
    if totals is None:
        totals = _totals(ev)
    return per.join(totals, on="account_id", how="left").select(
        "account_id", *[(pl.col(f"_{k}") / pl.col("_n")).alias(f"{k}_family_share")
                        for k in INTENTS])


def family_freshness(ev: pl.LazyFrame, ages: pl.LazyFrame, fresh_hours: float = 30 * 24.0,
                     min_accounts: int = 5, per_template: pl.LazyFrame | None = None,
                     owners: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Per template family sent by ``min_accounts`` or more customers
    (:func:`account_owners`; ``owners`` None: every account its own): ``fam_n_accounts``
    (those customers) and ``fam_fresh``, the mean over them of the share of their accounts
    under ``fresh_hours`` old at first use -- a company that provisions 200 seats at once
    is one fresh customer, not 200. A group-by on ``template_id`` (``ages``: every
    account's ``age_at_first_use_h``; ``per_template``: :func:`account_templates` of
    ``ev`` if the caller has it)."""
    per = _with_owner(account_templates(ev) if per_template is None else per_template,
                      owners).join(ages, on="account_id", how="left")
    return (per.group_by("template_id", "owner")
            .agg((pl.col("age_at_first_use_h").fill_null(1e9) < fresh_hours).mean()
                 .alias("_fresh"))
            .group_by("template_id")
            .agg(pl.len().alias("fam_n_accounts"), pl.col("_fresh").mean().alias("fam_fresh"))
            .filter(pl.col("fam_n_accounts") >= min_accounts))


def ages_at_first_use(first_ts: pl.LazyFrame, facts: pl.LazyFrame) -> pl.LazyFrame:
    """``account_id, age_at_first_use_h`` from ``account_id, first_ts`` and the facts."""
    return (first_ts.select("account_id", "first_ts")
            .join(facts.select("account_id", "created_at"), on="account_id", how="left")
            .select("account_id", ((pl.col("first_ts") - pl.col("created_at"))
                                   .dt.total_minutes() / 60.0).alias("age_at_first_use_h")))


def fresh_family_share(ev: pl.LazyFrame, families: pl.DataFrame, ages: pl.LazyFrame,
                       fresh_hours: float = 30 * 24.0, min_accounts: int = 5,
                       fam: pl.LazyFrame | None = None,
                       per_template: pl.LazyFrame | None = None,
                       totals: pl.LazyFrame | None = None,
                       owners: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Share of each account's requests in wide families whose *users are mostly fresh*.

    A public problem template is used by a normal cross-section of the customer base; a
    distillation operation's template is used by accounts it created for the purpose
    (young at first use, replaced as they are banned). Per family: the share of its
    accounts that were under ``fresh_hours`` old at first use; per account: requests in
    families with at least ``min_accounts`` accounts, weighted by that share.
    ``fam``: :func:`family_freshness` of the whole dataset when ``ev`` holds only some
    accounts (default: computed from ``ev``, ``ages`` and ``owners``). ``per_template``,
    ``totals``: as in :func:`family_content`.
    """
    if families.height == 0:
        return pl.LazyFrame(schema={"account_id": pl.String(),
                                    "fresh_wide_family_share": pl.Float64()})
    if per_template is None:
        per_template = account_templates(ev)
    if fam is None:
        fam = family_freshness(ev, ages, fresh_hours, min_accounts, per_template, owners)
    if totals is None:
        totals = _totals(ev)
    return (per_template.join(fam, on="template_id", how="inner")
            .group_by("account_id").agg((pl.col("n") * pl.col("fam_fresh")).sum().alias("_w"))
            .join(totals, on="account_id", how="left")
            .select("account_id", (pl.col("_w") / pl.col("_n")).alias("fresh_wide_family_share")))


def _totals(ev: pl.LazyFrame) -> pl.LazyFrame:
    """Requests per account: ``account_id, _n``."""
    return ev.group_by("account_id").agg(pl.len().alias("_n"))


def _str_ids(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col("account_id").cast(pl.String()))


@dataclass(frozen=True)
class SharedStats:
    """Dataset-wide inputs of the per-account features, for callers that compute features
    on a subset of accounts at a time (a Spark partition of accounts): computed once over
    all events and passed to every part, so each part's rows equal the whole-dataset ones.

    ``shared_prompts``: :func:`shared_prompt_accounts`; ``content``, ``rows``:
    :func:`content_features` of the whole sample; ``fam_intent``: :func:`family_intents`;
    ``fam_fresh``: :func:`family_freshness`; ``fam_width``: :func:`family_width`.
    """

    shared_prompts: pl.DataFrame
    content: pl.DataFrame
    rows: pl.DataFrame
    fam_intent: pl.DataFrame
    fam_fresh: pl.DataFrame
    fam_width: pl.DataFrame


def account_features(
    ev: pl.LazyFrame,
    families: pl.DataFrame,
    sample: pl.DataFrame,
    accounts: pl.DataFrame,
    releases: pl.DataFrame,
    *,
    shared: SharedStats | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per account of ``accounts`` (and any account seen only in events).

    Returns ``(features, classified content sample)``. ``shared``: the dataset-wide
    statistics when ``ev`` holds only some accounts' events (``sample`` is then unused).
    """
    # each per-event pass collected on its own: one lazy plan ran them side by side, each
    # holding its joined / grouped copy of the event columns at once (the stage's peak).
    # ``ev.account_id`` may be Categorical (the scan casts it once: every group-by below
    # then hashes 4-byte codes, not 16M id strings); per-account results go back to String.
    # (account, family) request counts, read by four features below: one group-by
    per_tpl = account_templates(ev).collect().lazy()
    owners = account_owners(accounts)
    fam_width = (family_width(per_tpl, owners).collect() if shared is None
                 else shared.fam_width).lazy()
    beh_coded = behaviour_features(
        ev, families, None if shared is None else shared.shared_prompts.lazy(), per_tpl,
        fam_width,
    ).collect()
    totals = beh_coded.lazy().select("account_id", pl.col("n_events").alias("_n"))
    beh = _str_ids(beh_coded).lazy()
    rel = _str_ids(release_features(ev, releases).collect()).lazy()
    if shared is None:
        content, rows = content_features(sample)
    else:
        content, rows = shared.content, shared.rows
    fam_content = _str_ids(family_content(
        ev, families, rows, fam_intent=None if shared is None else shared.fam_intent,
        per_template=per_tpl, totals=totals,
    ).collect()).lazy()
    facts = account_facts(accounts)
    ids = pl.concat(
        [accounts.lazy().select("account_id"),
         ev.select("account_id").unique().select(pl.col("account_id").cast(pl.String()))]
    ).unique()
    ev_id_type = ev.collect_schema()["account_id"]
    ages = ages_at_first_use(beh, facts).with_columns(pl.col("account_id").cast(ev_id_type))
    fresh_fam = _str_ids(fresh_family_share(
        ev, families, ages, fam=None if shared is None else shared.fam_fresh.lazy(),
        per_template=per_tpl, totals=totals, owners=owners,
    ).collect()).lazy()
    feats = (
        ids.join(facts, on="account_id", how="left")
        .join(beh, on="account_id", how="left")
        .join(rel, on="account_id", how="left")
        .join(content.lazy(), on="account_id", how="left")
        .join(fam_content, on="account_id", how="left")
        .join(fresh_fam, on="account_id", how="left")
        .with_columns(
            pl.col("n_events").fill_null(0),
            ((pl.col("first_ts") - pl.col("created_at")).dt.total_minutes() / 60.0)
            .alias("age_at_first_use_h"),
        )
        .sort("account_id")
        .collect()
    )
    return feats, rows
