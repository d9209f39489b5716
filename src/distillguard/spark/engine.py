"""``run_scan_spark``: stages 1-2 on Spark, stages 3-4 on the driver.

What runs where (``docs/spark.md`` has the picture):

* **Spark, per batch** -- validation casts and bad-row rules (``read.read_events``), then
  stage 1 as ``mapInArrow`` over :func:`distillguard.enrich.enrich_frame`. Its two outputs
  (narrow event rows, content-sample candidates) travel as one Arrow stream with a
  ``_kind`` column.
* **Spark, per key partition** -- each stage-2 statistic is computed by the *same*
  polars function as in the local engine, called on a partition that holds every event of
  its keys (``repartition(key)``), so per-key results are exact: template families per
  skeleton, ``template_id`` per event (families broadcast), shared prompts per prompt
  hash, bottom-k sample per account, family freshness per template family, then the
  per-account features and the account-entity incidence per account (the dataset-wide
  tables broadcast as :class:`~distillguard.aggregate.features.SharedStats`).
* **Driver** -- the small tables (accounts, releases), classification of the <= 6
  sampled prompts per account, and stages 3-4 (:func:`distillguard.pipeline.finish_scan`).
  Back from Spark come only account-level tables plus, for the campaign summaries and
  their report timelines, the events of the flagged accounts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from distillguard.aggregate.features import (
    SharedStats,
    account_facts,
    account_features,
    account_owners,
    account_templates,
    ages_at_first_use,
    content_features,
    family_freshness,
    family_intents,
    family_width,
    reduce_sample,
    shared_prompt_accounts,
)
from distillguard.aggregate.incidence import build_incidence
from distillguard.aggregate.templates import (
    FAMILY_SCHEMA,
    TemplateConfig,
    assign_templates,
    skeleton_families,
    template_families,
)
from distillguard.enrich import enrich_frame
from distillguard.graph import GraphConfig
from distillguard.ingest import ValidationReport, open_dataset, read_table
from distillguard.pipeline import PART1_FLAG_SCORE, PartnerIntel, ScanResult, finish_scan
from distillguard.signals.registry import DetectionConfig, load_config
from distillguard.spark.arrow import collect, spark_schema, to_polars, to_transport
from distillguard.spark.read import read_events
from distillguard.spark.session import spark_session

Schema = dict[str, pl.DataType]


def _stage1_schemas() -> tuple[Schema, Schema]:
    n, s = enrich_frame(pl.DataFrame(schema={"event_id": pl.String()}))
    return dict(n.schema), dict(s.schema)


NARROW, SAMPLE = _stage1_schemas()
#: Sample candidates carry their event's position in the file (``_mid``): the local
#: engine's sample is in file order, and ``content_features`` keeps the first row of a
#: prompt sent by several accounts, so order is part of the result.
SAMPLE_POS: Schema = {**SAMPLE, "_mid": pl.Int64()}
#: Stage 1's output stream: narrow rows (``_kind`` 0) and sample candidates (``_kind`` 1).
STAGE1: Schema = {**NARROW, **{c: t for c, t in SAMPLE_POS.items() if c not in NARROW},
                  "_kind": pl.Int8()}
#: The narrow frame after stage 2 assigned template families.
EVENTS: Schema = {**NARROW, "template_id": pl.UInt64()}
#: Event columns the campaign summaries and the report's campaign views read: all that
#: comes back per event, and only for the flagged accounts.
CAMPAIGN_EVENTS: Schema = {c: EVENTS[c] for c in (
    "account_id", "ts", "model", "client_ip", "asn", "user_agent", "input_tokens",
    "output_tokens", "template_id")}


def _empty(schema: Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _per_partition(fn: Callable[[pl.DataFrame], pl.DataFrame], schema_in: Schema,
                   schema_out: Schema) -> Callable[[Iterator[pa.RecordBatch]],
                                                   Iterator[pa.RecordBatch]]:
    """A ``mapInArrow`` function: the whole partition as one polars frame through ``fn``."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        df = collect(batches, schema_in)
        if df.height:
            yield from to_transport(fn(df), schema_out).to_batches()
    return run


def _enrich(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Stage 1 per Arrow batch (``mapInArrow``): the local engine's ``enrich_frame``."""
    for b in batches:
        if not b.num_rows:
            continue
        df = pl.from_arrow(b)
        assert isinstance(df, pl.DataFrame)
        narrow, sample = enrich_frame(df)
        sample = sample.join(df.select("event_id", "_mid"), on="event_id", how="left")
        out = pl.concat([narrow.with_columns(pl.lit(0, pl.Int8).alias("_kind")),
                         sample.with_columns(pl.lit(1, pl.Int8).alias("_kind"))],
                        how="diagonal_relaxed")
        yield from to_transport(out, STAGE1).to_batches()


def _by_key(sdf: Any, key: str, cols: list[str], n: int, fn: Callable[[pl.DataFrame],
            pl.DataFrame], schema_in: Schema, schema_out: Schema) -> pl.DataFrame:
    """``fn`` over partitions holding every row of their ``key`` values; collected."""
    from pyspark.sql import functions as F

    part = sdf.filter(F.col(key).isNotNull()).select(*cols).repartition(n, key)
    sub = {c: schema_in[c] for c in cols}
    out = part.mapInArrow(_per_partition(fn, sub, schema_out), spark_schema(schema_out))
    return to_polars(out, schema_out)


def run_scan_spark(
    input_dir: str | Path,
    *,
    spark: Any = None,
    master: str | None = None,
    partitions: int | None = None,
    config: DetectionConfig | None = None,
    config_path: str | Path | None = None,
    strict: bool = False,
    quarantine: str | Path | None = None,
    template_config: TemplateConfig | None = None,
    watchlist: str | Path | None = None,
    graph_config: GraphConfig | None = None,
    intel: PartnerIntel | None = None,
) -> ScanResult:
    """Scan one dataset directory with stages 1-2 on Spark; same result as ``run_scan``.

    ``spark``: a SparkSession (default: :func:`spark_session` for ``master``);
    ``partitions``: shuffle partitions of the per-key passes (default: twice the
    session's default parallelism). ``result.events`` holds the flagged accounts' events
    only, in the :data:`CAMPAIGN_EVENTS` columns (what the campaign summaries and the
    report's campaign views read); ``result.n_events`` counts all events.
    ``quarantine``: a directory for the rejected rows (accounts/releases as the local
    engine writes them; events as Spark part files, see :func:`~distillguard.spark.read.
    write_quarantine`). ``intel``: partners' indicators, matched against the traffic Spark
    holds (:func:`_partner_intel`: only per-account totals, distinct values and the counts
    of matched values reach the driver).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    cfg = config or load_config(config_path)
    tcfg = template_config or TemplateConfig()
    gcfg = graph_config or GraphConfig(flag_threshold=PART1_FLAG_SCORE)
    spark = spark or spark_session(master)
    sc = spark.sparkContext
    n_part = partitions or max(2, 2 * sc.defaultParallelism)
    t: dict[str, float] = {}
    t0 = time.perf_counter()

    ds = open_dataset(input_dir)
    report = ValidationReport()
    q = Path(quarantine) if quarantine is not None else None
    if q is not None:
        q.mkdir(parents=True, exist_ok=True)
    acc_tbl = read_table(ds, "accounts", report=report, quarantine=q, strict=strict)
    rel_tbl = read_table(ds, "releases", report=report, quarantine=q, strict=strict)
    accounts, releases = pl.from_arrow(acc_tbl), pl.from_arrow(rel_tbl)
    assert isinstance(accounts, pl.DataFrame) and isinstance(releases, pl.DataFrame)
    t["read_small_tables"] = time.perf_counter() - t0

    # -- stage 1: validation + enrichment, one pass per batch ---------------------------
    t1 = time.perf_counter()
    f = ds.file("events")
    assert f is not None  # open_dataset requires it
    valid = read_events(spark, f, acc_tbl.column("account_id"), report, strict=strict,
                        quarantine=q)
    enriched = valid.mapInArrow(_enrich, spark_schema(STAGE1)).persist(
        StorageLevel.MEMORY_AND_DISK)
    narrow = enriched.filter(F.col("_kind") == 0).select(*NARROW)
    cand = enriched.filter(F.col("_kind") == 1).select(*SAMPLE_POS)
    t["spark_validate"] = time.perf_counter() - t1

    # -- stage 2 on Spark: template families, per skeleton -------------------------------
    t2 = time.perf_counter()
    # head and tail skeletons in one pass: rows keyed by (window, skeleton)
    skel: Schema = {"_w": pl.Int8(), "skeleton": pl.UInt64(), "account_id": pl.String(),
                    "prompt_hash": pl.UInt64()}
    fam_w: Schema = {"_w": pl.Int8(), **FAMILY_SCHEMA}
    both = narrow.select(F.lit(0).cast("tinyint").alias("_w"),
                         F.col("tpl_head").alias("skeleton"), "account_id", "prompt_hash").union(
        narrow.select(F.lit(1).cast("tinyint").alias("_w"),
                      F.col("tpl_tail").alias("skeleton"), "account_id", "prompt_hash"))

    def skeleton_templates(ev: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([
            skeleton_families(ev.filter(pl.col("_w") == w).lazy(), "skeleton", tcfg)
            .filter("is_template").collect().select(pl.lit(w, pl.Int8).alias("_w"), pl.all())
            for w in (0, 1)])

    cands = _by_key(both, "skeleton", list(skel), n_part, skeleton_templates, skel, fam_w)
    heads, tails = (cands.filter(pl.col("_w") == w).drop("_w").lazy() for w in (0, 1))
    families = template_families(heads, tails).sort("template_id")
    fam_bc = sc.broadcast(families)
    # every per-account pass reads the events partitioned by account, template ids set
    events = (
        narrow.mapInArrow(_per_partition(
            lambda ev: assign_templates(ev.lazy(), fam_bc.value).collect(), NARROW, EVENTS),
            spark_schema(EVENTS))
        .repartition(n_part, "account_id").persist(StorageLevel.MEMORY_AND_DISK)
    )
    sample = (reduce_sample(_by_key(cand, "account_id", list(SAMPLE_POS), n_part,
                                    reduce_sample, SAMPLE_POS, SAMPLE_POS))
              .sort("_mid").drop("_mid"))
    n_events = events.count()
    enriched.unpersist()
    t["spark_enrich_templates"] = time.perf_counter() - t2

    # -- stage 2: dataset-wide statistics, then features per account partition ----------
    t3 = time.perf_counter()
    sp_schema = dict(shared_prompt_accounts(_empty(EVENTS).lazy()).collect().schema)
    shared_prompts = _by_key(events, "prompt_hash", ["prompt_hash", "account_id"], n_part,
                             lambda ev: shared_prompt_accounts(ev.lazy()).collect(),
                             EVENTS, sp_schema)
    content, rows = content_features(sample)  # classifies <= 6 prompts per account
    fam_intent = family_intents(families, rows)
    first = to_polars(events.groupBy("account_id").agg(F.min("ts").alias("first_ts")),
                      {"account_id": pl.String(), "first_ts": EVENTS["ts"]})
    ages = ages_at_first_use(first.lazy(), account_facts(accounts)).collect()
    ages_bc = sc.broadcast(ages)
    owners = account_owners(accounts).collect()
    owners_bc = sc.broadcast(owners)
    fr_schema = dict(family_freshness(_empty(EVENTS).lazy(), ages.lazy()).collect().schema)
    fam_fresh = _by_key(events, "template_id", ["account_id", "template_id"], n_part,
                        lambda ev: family_freshness(ev.lazy(), ages_bc.value.lazy(),
                                                    owners=owners_bc.value.lazy()).collect(),
                        EVENTS, fr_schema)
    fw_schema = dict(family_width(account_templates(_empty(EVENTS).lazy())).collect().schema)
    fam_width = _by_key(events, "template_id", ["account_id", "template_id"], n_part,
                        lambda ev: family_width(account_templates(ev.lazy()),
                                                owners_bc.value.lazy()).collect(),
                        EVENTS, fw_schema)
    stats = SharedStats(shared_prompts, content, rows, fam_intent, fam_fresh, fam_width)
    no_events, _ = account_features(_empty(EVENTS).lazy(), families, _empty(SAMPLE), accounts,
                                    releases, shared=stats)
    feat_schema = dict(no_events.schema)
    ctx = sc.broadcast((families, accounts, releases, stats))

    def features_of(ev: pl.DataFrame) -> pl.DataFrame:
        fams, acc, rel, st = ctx.value
        feats, _ = account_features(ev.lazy(), fams, _empty(SAMPLE), acc, rel, shared=st)
        return feats.filter(pl.col("account_id").is_in(ev.get_column("account_id").unique()
                                                       .implode()))

    feats = to_polars(events.mapInArrow(_per_partition(features_of, EVENTS, feat_schema),
                                        spark_schema(feat_schema)), feat_schema)
    seen = feats.get_column("account_id").implode()
    features = (pl.concat([feats, no_events.filter(~pl.col("account_id").is_in(seen))])
                .sort("account_id"))
    t["spark_features"] = time.perf_counter() - t3

    # -- stage 2: account-entity incidence, per account partition -----------------------
    t4 = time.perf_counter()
    icfg = gcfg.incidence
    inc_acc = build_incidence(_empty(EVENTS), accounts, config=icfg)
    inc_schema = dict(inc_acc.schema)
    inc_ev = to_polars(events.mapInArrow(
        _per_partition(lambda ev: build_incidence(ev, None, config=icfg), EVENTS, inc_schema),
        spark_schema(inc_schema)), inc_schema)
    incidence = pl.concat([inc_ev, inc_acc]).sort("account_id", "kind", "entity")
    t["spark_incidence"] = time.perf_counter() - t4

    def campaign_events(ids: list[str]) -> pl.DataFrame:
        if not ids:
            return _empty(CAMPAIGN_EVENTS)
        want = spark.createDataFrame(pa.table({"account_id": pa.array(ids, pa.string())}))
        return to_polars(events.join(F.broadcast(want), "account_id", "left_semi")
                         .select(*CAMPAIGN_EVENTS), CAMPAIGN_EVENTS)

    try:
        if intel is not None:
            t5 = time.perf_counter()
            intel = _partner_intel(spark, events, accounts, intel)
            t["spark_partner_intel"] = time.perf_counter() - t5
        return finish_scan(features, rows, _empty(EVENTS), families, accounts, releases,
                           report, cfg, t, t0, watchlist=watchlist, graph_config=gcfg,
                           incidence=incidence, campaign_events=campaign_events,
                           n_events=n_events, intel=intel)
    finally:
        events.unpersist()
        for b in (fam_bc, ages_bc, owners_bc, ctx):
            b.destroy()


def _partner_intel(spark: Any, events: Any, accounts: pl.DataFrame,
                   intel: PartnerIntel) -> PartnerIntel:
    """``intel`` with a :class:`~distillguard.share.match.MatchCache` that already holds
    what partner matching reads from the traffic, computed on Spark.

    Matching needs, per event column it matches on (``client_ip``, the template columns):
    the distinct values (hashed once each on the driver), and per account the event
    total and the count of each *matched* value. Spark computes the totals, the distinct
    IPs and template candidates; the driver hashes them and finds the partner hits; Spark
    then counts only the hit values per account (a broadcast semi-join). The cache is
    filled under the keys ``share.match`` reads, so the local code path does the rest and
    the verdicts are the local engine's (tested).
    """
    import dataclasses

    from pyspark.sql import functions as F

    from distillguard.share._ip import ip_block_expr
    from distillguard.share.match import (
        MIN_SKELETON_EVENTS,
        TEMPLATE_COLUMNS,
        MatchCache,
        default_keyring,
        match_sources,
    )

    cache = MatchCache()
    cache.frames[("totals",)] = to_polars(
        events.groupBy("account_id").agg(F.count("*").alias("total")),
        {"account_id": pl.String(), "total": pl.UInt32()})
    ips = to_polars(events.select("client_ip").where(F.col("client_ip").isNotNull()).distinct(),
                    {"client_ip": pl.String()})
    cache.frames[("ips",)] = ips.with_columns(
        ip_block_expr("client_ip").alias("block")).drop_nulls("block")
    cands = []
    for col in TEMPLATE_COLUMNS:
        vals = events.select(col).where(F.col(col).isNotNull())
        vals = (vals.distinct() if col == "template_id" else
                vals.groupBy(col).count().where(F.col("count") >= MIN_SKELETON_EVENTS)
                .select(col))
        cands.append(to_polars(vals, {col: EVENTS[col]}).get_column(col).cast(pl.UInt64))
    cache.frames[("tpl_candidates",)] = pl.DataFrame({"value": pl.concat(cands).unique()})
    traffic = _empty(EVENTS)
    store, ring = intel.open()
    try:
        sources, _ = match_sources(traffic, accounts, store,
                                   keyring=ring if ring is not None else default_keyring(),
                                   identity=intel.identity or None, cache=cache)
    finally:
        store.close()
    hit_values: dict[str, list[pl.Series]] = {}
    for src in sources:
        if src.table == "events":
            hit_values.setdefault(src.col, []).append(src.hits.get_column("value"))
    for col, parts in hit_values.items():
        dtype = EVENTS[col]
        keep = pl.DataFrame({col: pl.concat(parts).unique().cast(dtype)})
        want = spark.createDataFrame(to_transport(keep, {col: dtype}))
        counts = (events.join(F.broadcast(want), col, "left_semi")
                  .groupBy("account_id", col).agg(F.count("*").alias("n")))
        cache.frames[("counts", col)] = to_polars(
            counts, {"account_id": pl.String(), col: dtype, "n": pl.UInt32()}
        ).rename({col: "value"})
    return dataclasses.replace(intel, cache=cache, traffic=traffic)
