"""``run_scan``: wires ingest -> enrich (stage 1) -> aggregate (stage 2) -> score (stage 3)
-> link (graph seam) -> outputs. No detection logic lives here.

Stage 1 (:func:`distillguard.enrich.enrich_frame`) is a pure function per Arrow batch;
stage 2 is group-bys over the concatenated narrow frame (no prompt text, a few dozen bytes
per event); stage 3 works on one row per account. On Spark, stage 1 is a ``mapInArrow``
and stage 2 the same aggregations in SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from distillguard.aggregate.features import account_features, reduce_sample
from distillguard.aggregate.templates import TemplateConfig, assign_templates, resolve_templates
from distillguard.enrich import INPUT_COLUMNS, SkeletonCache, enrich_frame
from distillguard.graph import GraphConfig, LinkResult, link_accounts, summarize_campaigns
from distillguard.graph.link import ANCHOR_SCORE, PreparedLinks, prepare_links
from distillguard.ingest import ValidationReport, iter_event_batches, open_dataset, read_table
from distillguard.ingest._sources import prefetch
from distillguard.scoring import Calibration, reasons, score_accounts
from distillguard.signals.registry import DetectionConfig, load_config

if TYPE_CHECKING:
    from distillguard.share.keys import KeyRing
    from distillguard.share.match import MatchCache
    from distillguard.share.store import IndicatorStore

BATCH_ROWS = 200_000
#: Part 1's calibrated operating point (``scoring``: ``flagged = score >= 0.5``), reused as
#: the flag threshold after score propagation.
PART1_FLAG_SCORE = 0.5
#: Batches between compactions of the narrow frame and sample merges (see ``_compact``):
#: each pending batch pins its reader buffers; 4 -> 2 cut the 1M read peak 1.32 -> 1.22 GB.
SAMPLE_MERGE_EVERY = 2
#: Event batches read ahead by a background thread while the current one is enriched
#: (``ingest._sources.prefetch``); each costs one batch of raw columns (~0.25 GB at 200k rows).
PREFETCH_BATCHES = 1


@dataclass(frozen=True)
class PartnerIntel:
    """Partners' indicators to match during a scan (the sharing half, issue 7).

    ``store``: the local SQLite store ``distillguard share pull`` fills; ``keyring``: the
    consortium keyring (default ``$DISTILLGUARD_KEYRING``); ``identity``: this lab's own
    STIX identity, whose indicators are ignored. Exact keyed-hash matching only: fuzzy
    template-sketch matching needs prompt text and runs in ``distillguard share match``.
    ``cache`` / ``traffic``: set by an engine that keeps the events elsewhere (Spark): a
    :class:`~distillguard.share.match.MatchCache` already holding the traffic's per-account
    totals, distinct values and matched-value counts, and an empty frame with the events'
    columns to match with instead of ``events`` (see ``spark.engine._partner_intel``).
    """

    store: Path
    keyring: Path | None = None
    identity: str | None = None
    cache: MatchCache | None = None
    traffic: pl.DataFrame | None = None

    def apply(self, events: pl.DataFrame, accounts: pl.DataFrame,
              scored: pl.DataFrame) -> pl.DataFrame:
        from distillguard.share.match import apply_boosts, match_indicators

        store, ring = self.open()
        try:
            boosts = match_indicators(self.traffic if self.traffic is not None else events,
                                      accounts, store, keyring=ring,
                                      identity=self.identity or None, cache=self.cache)
        finally:
            store.close()
        return apply_boosts(scored, boosts)

    def open(self) -> tuple[IndicatorStore, KeyRing | None]:
        """``(IndicatorStore, keyring or None)``; the caller closes the store."""
        from distillguard.share.keys import load_keyring
        from distillguard.share.store import IndicatorStore

        ring = load_keyring(self.keyring) if self.keyring is not None else None
        return IndicatorStore(self.store), ring


@dataclass
class ScanResult:
    """Everything a scan produced; ``write_outputs`` turns it into files."""

    accounts: pl.DataFrame  # account_id, score, flagged, cluster_id, reasons, + features
    campaigns: list[dict[str, Any]]
    events: pl.DataFrame  # stage-1 narrow enriched frame (with template_id)
    families: pl.DataFrame
    samples: pl.DataFrame  # classified content sample (prompt text, truncated)
    releases: pl.DataFrame
    calibration: Calibration
    report: ValidationReport
    config: DetectionConfig
    timings: dict[str, float] = field(default_factory=dict)
    n_events: int = 0
    link: LinkResult | None = None  # clusters and account graph, for the report's network view


def _compact(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate narrow frames into fresh, polars-owned buffers.

    ``pl.from_arrow`` is zero-copy: a pass-through column of the narrow frame (``ts``,
    ``account_id``, tokens...) is a slice of the reader's Arrow buffers, and a slice pins
    the whole buffer it came from (a Parquet row group's column); a string column is a
    view array whose views point into the Arrow data buffer, and concatenating views keeps
    those buffers. Measured at 1M events: a 160 MB narrow frame (plus a 13 MB prompt
    sample) pinned 690 MB of Arrow memory. Primitive columns are copied by a rechunking
    concat (a gather for a single frame), strings by rebuilding them; doing it every few
    batches bounds what is pinned to those few batches.
    """
    df = pl.concat(frames, rechunk=True) if len(frames) > 1 else frames[0].select(
        pl.all().gather(pl.int_range(pl.len())))
    return _own_strings(df)


def _own_strings(df: pl.DataFrame) -> pl.DataFrame:
    """Rebuild string columns so they stop pointing into Arrow buffers (see _compact)."""
    return df.with_columns(pl.concat_str([pl.col(c), pl.lit("")]).alias(c)
                           for c, t in df.schema.items() if t == pl.String())


def _read_events(ds: Any, report: ValidationReport, quarantine: Path | None, strict: bool,
                 known: pa.Array, on_rows: Callable[[int], None] | None,
                 timings: dict[str, float] | None = None,
                 ) -> tuple[pl.DataFrame, pl.DataFrame]:
    narrow: list[pl.DataFrame] = []  # compacted blocks
    pending: list[pl.DataFrame] = []  # zero-copy batches not yet compacted
    samples: list[pl.DataFrame] = []
    spent = 0.0
    skeletons = SkeletonCache()  # prompt windows already seen: no regexes for them again
    batches = iter_event_batches(ds, columns=list(INPUT_COLUMNS), batch_rows=BATCH_ROWS,
                                 report=report, quarantine=quarantine, strict=strict,
                                 known_accounts=known)
    for batch in prefetch(batches, PREFETCH_BATCHES):
        t0 = time.perf_counter()
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        n, s = enrich_frame(df, skeletons)
        del df
        pending.append(n)
        samples.append(_own_strings(s))
        if len(pending) >= SAMPLE_MERGE_EVERY:
            narrow.append(_compact(pending))
            pending = []
            # running bottom-k stays bounded; rebuilt because a filtered string column keeps
            # the dropped rows' text buffers alive (measured at 4M: ~0.35 GB pinned)
            samples = [_own_strings(reduce_sample(pl.concat(samples)))]
        spent += time.perf_counter() - t0
        if on_rows is not None:
            on_rows(batch.num_rows)
        del batch
    if pending:
        narrow.append(_compact(pending))
        pending = []
    pa.default_memory_pool().release_unused()  # hand freed Arrow pages back to the OS
    if timings is not None:
        timings["enrich"] = spent
    if not narrow:
        n, s = enrich_frame(pl.DataFrame(schema={"event_id": pl.String()}))
        return n, s
    return pl.concat(narrow, rechunk=False), _own_strings(reduce_sample(pl.concat(samples)))


#: Narrow-frame string columns that the per-account group-bys key on or count distinct.
CODED_COLUMNS = ("account_id", "client_ip")


def _coded_ids(events: pl.DataFrame) -> pl.DataFrame:
    """``events`` with ``account_id`` and ``client_ip`` as Categorical codes.

    Features and the linking incidence run ~20 group-bys keyed on the account (and count
    or group distinct IPs); on 16M string ids each hashes every string again. Cast once
    here (4 bytes a row each, beside the String columns the result keeps for the report and
    partner matching), they hash integers. Same groups, same rows in each group, so the
    same features.
    """
    cols = [c for c in CODED_COLUMNS if events.schema.get(c) == pl.String()]
    return events.with_columns(pl.col(cols).cast(pl.Categorical())) if cols else events


def _graph_config(graph_config: GraphConfig | None, tail_ratio: float = 1.0) -> GraphConfig:
    """The caller's config, or the default: flag at part 1's operating point, and when
    part 1's flag is the stricter right-skewed one (``tail_ratio`` > 1) members just under
    it still anchor their group (``ANCHOR_SCORE``): the two were chosen together."""
    if graph_config is not None:
        return graph_config
    return GraphConfig(flag_threshold=PART1_FLAG_SCORE,
                       anchor_score=ANCHOR_SCORE if tail_ratio > 1.0 else None)


#: Part-1 operation evidence (scoring's ``operation_evidence``: the weighted sum of the
#: operation-axis signal strengths, before dampeners) an account needs for its own evidence
#: to be lent to its cluster: a bit under half a full-weight signal's worth. Linking
#: spreads evidence of *one operation*; a cohort flagged on content alone (research groups
#: asking for step-by-step answers, sharing public benchmark templates) lent it to
#: colleagues (a research cluster of three universities: 7 of 16 flagged). Fleets' anchors
#: sit higher (lowest 5% at 0.61-0.67 on the dev worlds; from 0.7 a CoT fleet lost its
#: lending), research anchors at 0.29-0.49 (docs/detection.md, "Lenders must show
#: operation evidence").
LEND_MIN_OPERATION = 0.4


def link_stage(events: pl.DataFrame, accounts: pl.DataFrame, scored: pl.DataFrame,
               releases: pl.DataFrame | None = None, *, watchlist: Path | None = None,
               graph_config: GraphConfig | None = None,
               incidence: pl.DataFrame | None = None,
               campaign_events: Callable[[list[str]], pl.DataFrame] | None = None,
               prepared: PreparedLinks | None = None, tail_ratio: float = 1.0,
               ) -> tuple[pl.DataFrame, list[dict[str, Any]], LinkResult]:
    """THE graph seam: account linking after part-1 scoring.

    Calls :func:`distillguard.graph.link_accounts` with the stage-1 ``events`` frame, the
    canonical ``accounts`` and part-1 ``score``/``flagged``, then
    :func:`~distillguard.graph.summarize_campaigns` for ``campaigns.json``.

    Returns ``scored`` with ``score``/``flagged``/``cluster_id`` replaced by the linked
    values and ``score_part1``, ``flagged_part1``, ``link_reasons`` added (so readers see
    what linking added), the campaign dicts, and the ``LinkResult`` (for the report).

    ``flagged`` after propagation: linking keeps part 1's label-free operating point.
    Part 1's score is calibrated so that 0.5 is the threshold it derived from the score
    distribution for a target FPR, without labels (``flagged = score >= 0.5``); linking
    flags an account when part 1 flagged it or its propagated score reaches that same 0.5
    (``GraphConfig.flag_threshold``; a caller's ``graph_config`` overrides it).
    Propagation only raises scores (``max(own, evidence x tie)``), so part-1 verdicts are
    never withdrawn.

    For an engine that keeps the events elsewhere (Spark): ``incidence`` is the
    account-entity table it reduced, and ``campaign_events(flagged account ids)`` returns
    only those accounts' events, all the campaign summaries read.

    ``prepared``: :func:`~distillguard.graph.link.prepare_links` of the same events,
    accounts and config, started before scoring so Leiden overlaps it (see ``run_scan``).
    ``tail_ratio``: part 1's (``Calibration.tail_ratio``); above 1 the default config lets
    members just under the stricter flag anchor their group (``_graph_config``).
    Accounts whose part-1 ``operation_evidence`` is under ``LEND_MIN_OPERATION`` do not lend
    their evidence to their cluster (``link_accounts``' ``lends``).
    """
    cfg = _graph_config(graph_config, tail_ratio)
    lends = ([(pl.col("operation_evidence").fill_null(0.0) >= LEND_MIN_OPERATION)
              .alias("lends")] if "operation_evidence" in scored.columns else [])
    res = link_accounts(events, accounts, scored.select("account_id", "score", "flagged",
                                                        *lends),
                        config=cfg, watchlist=watchlist, incidence=incidence,
                        prepared=prepared)
    if campaign_events is not None:
        flagged = pl.concat([res.accounts.filter("flagged").select("account_id"),
                             scored.filter("flagged").select("account_id")])
        events = campaign_events(flagged.get_column("account_id").unique().sort().to_list())
    campaigns = summarize_campaigns(res, events, accounts, releases)
    linked = res.accounts.select(
        "account_id", pl.col("cluster_id").alias("_cid"), pl.col("score").alias("_score"),
        pl.col("flagged").alias("_flagged"), "link_reasons",
    )
    out = (
        scored.join(linked, on="account_id", how="left", maintain_order="left")
        .with_columns(pl.col("score").alias("score_part1"),
                      pl.col("flagged").alias("flagged_part1"))
        .with_columns(
            # max() guards against a missing row (an account the graph never saw)
            pl.max_horizontal("score", pl.col("_score").fill_null(0.0)).clip(0.0, 1.0)
            .alias("score"),
            (pl.col("flagged") | pl.col("_flagged").fill_null(False)).alias("flagged"),
            pl.col("_cid").fill_null("").alias("cluster_id"),
            pl.col("link_reasons").fill_null(""),
        )
        .drop("_cid", "_score", "_flagged")
    )
    return out, campaigns, res


def merge_reasons(part1: pl.Series, linked: pl.DataFrame) -> pl.Series:
    """Part-1 reasons, then the linking sentence where linking matters for the verdict.

    The linking sentence (cluster, tie strength, shared entities with counts) is appended
    for flagged accounts and for accounts whose score linking raised; an account that
    linking alone flagged thus always carries concrete evidence.
    """
    df = linked.select(
        part1.alias("_p1"), "link_reasons", "flagged",
        (pl.col("score") > pl.col("score_part1") + 1e-9).alias("_raised"),
    )
    show = (pl.col("flagged") | pl.col("_raised")) & (pl.col("link_reasons") != "")
    p1 = pl.when(pl.col("_p1").is_in(["", "no distillation evidence"]) & show) \
        .then(pl.lit("")).otherwise(pl.col("_p1"))
    return df.select(
        pl.when(show & (p1 != "")).then(pl.concat_str([p1, pl.lit("; linked: "),
                                                       pl.col("link_reasons")]))
        .when(show).then(pl.concat_str([pl.lit("linked: "), pl.col("link_reasons")]))
        .otherwise(pl.col("_p1")).alias("reasons")
    ).to_series()


def run_scan(
    input_dir: str | Path,
    *,
    config: DetectionConfig | None = None,
    config_path: str | Path | None = None,
    strict: bool = False,
    quarantine: str | Path | None = None,
    on_rows: Callable[[int], None] | None = None,
    template_config: TemplateConfig | None = None,
    watchlist: str | Path | None = None,
    graph_config: GraphConfig | None = None,
    intel: PartnerIntel | None = None,
) -> ScanResult:
    """Scan one dataset directory. Never reads ``labels.*``.

    ``watchlist``: YAML/JSON file of known actors' indicators; campaigns whose
    infrastructure matches are attributed (see ``docs/linking.md``).
    ``intel``: partners' indicators pulled from the hub (``distillguard share pull``);
    matches raise scores and add reasons (see ``docs/sharing.md``).
    """
    cfg = config or load_config(config_path)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    ds = open_dataset(input_dir)
    report = ValidationReport()
    q = Path(quarantine) if quarantine is not None else None
    if q is not None:
        q.mkdir(parents=True, exist_ok=True)
    acc_tbl = read_table(ds, "accounts", report=report, quarantine=q, strict=strict)
    rel_tbl = read_table(ds, "releases", report=report, quarantine=q, strict=strict)
    accounts = pl.from_arrow(acc_tbl)
    releases = pl.from_arrow(rel_tbl)
    assert isinstance(accounts, pl.DataFrame) and isinstance(releases, pl.DataFrame)
    t["read_small_tables"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    narrow, sample = _read_events(ds, report, q, strict, acc_tbl.column("account_id"), on_rows,
                                  t)
    t["ingest"] = time.perf_counter() - t1 - t["enrich"]

    t2 = time.perf_counter()
    # families count distinct accounts per skeleton: on the coded ids that hashes 4-byte
    # codes instead of every id string (same counts); ``events`` keeps the String ids.
    # Its template_id is assigned again rather than taken from ``coded``: a column with
    # other chunk boundaries than the frame's makes later joins rechunk (copy) the whole
    # frame (measured: +0.55 GB peak in the link stage at 16M events)
    coded = _coded_ids(narrow)
    ev_lazy, families = resolve_templates(coded.lazy(), template_config)
    coded = ev_lazy.collect()
    events = assign_templates(narrow.lazy(), families).collect()
    del narrow
    t["templates"] = time.perf_counter() - t2
    # The score-independent half of linking (incidence, graph) runs now; Leiden, which is
    # single-threaded and holds the GIL, then runs in a child process on big graphs while
    # features and scoring use this one: the two overlap on two cores.
    t_p = time.perf_counter()
    prepared = prepare_links(coded, accounts, config=_graph_config(graph_config, cfg.tail_ratio))
    prepared.spill()  # out of memory while features run: the scan's peak is there
    t["link_prepare"] = time.perf_counter() - t_p
    t3 = time.perf_counter()
    try:
        features, samples = account_features(coded.lazy(), families, sample, accounts,
                                             releases)
    except BaseException:
        prepared.leiden.close()
        raise
    t["features"] = time.perf_counter() - t3
    return finish_scan(features, samples, events, families, accounts, releases, report, cfg,
                       t, t0, watchlist=watchlist, graph_config=graph_config, intel=intel,
                       prepared=prepared)


def finish_scan(features: pl.DataFrame, samples: pl.DataFrame, events: pl.DataFrame,
                families: pl.DataFrame, accounts: pl.DataFrame, releases: pl.DataFrame,
                report: ValidationReport, cfg: DetectionConfig, t: dict[str, float],
                t0: float, *, watchlist: str | Path | None = None,
                graph_config: GraphConfig | None = None, intel: PartnerIntel | None = None,
                incidence: pl.DataFrame | None = None,
                campaign_events: Callable[[list[str]], pl.DataFrame] | None = None,
                n_events: int | None = None,
                prepared: PreparedLinks | None = None) -> ScanResult:
    """Stages 3-4 (scoring, linking, reasons, partner intel) on the per-account result.

    ``run_scan`` passes the whole event frame; an engine that ran stages 1-2 elsewhere
    (``distillguard.spark``) passes ``incidence``, ``campaign_events`` (see
    :func:`link_stage`), ``n_events`` and, as ``events``, an empty narrow frame: the
    result's ``events`` then holds the fetched campaign accounts' events only.
    ``prepared``: the linking graph ``run_scan`` started before features (see there).
    """
    fetched: list[pl.DataFrame] = []

    def _fetch(ids: list[str]) -> pl.DataFrame:
        assert campaign_events is not None
        fetched.append(campaign_events(ids))
        return fetched[-1]

    t4 = time.perf_counter()
    scored, cal = score_accounts(features, cfg)
    merged = pl.concat([features, scored.drop("account_id")], how="horizontal")
    t["score"] = time.perf_counter() - t4
    t5 = time.perf_counter()
    linked, campaigns, link = link_stage(
        events, accounts, merged, releases,
        watchlist=Path(watchlist) if watchlist is not None else None, graph_config=graph_config,
        incidence=incidence, campaign_events=_fetch if campaign_events is not None else None,
        prepared=prepared, tail_ratio=cal.tail_ratio)
    del prepared
    if fetched:
        events = fetched[-1]
    t["link"] = time.perf_counter() - t5
    t6 = time.perf_counter()
    want = linked.select(pl.col("score").ge(0.2) | pl.col("flagged")).to_series()
    linked = linked.with_columns(merge_reasons(reasons(linked, linked, cfg, only=want), linked))
    t["reasons"] = time.perf_counter() - t6
    if intel is not None:
        t7 = time.perf_counter()
        linked = intel.apply(events, accounts, linked)
        t["partner_intel"] = time.perf_counter() - t7
    t["total"] = time.perf_counter() - t0
    return ScanResult(linked, campaigns, events, families, samples, releases, cal, report,
                      cfg, t, events.height if n_events is None else n_events, link)


#: Columns written first in accounts.csv (the contract), then features.
LEAD_COLUMNS = ("account_id", "score", "flagged", "cluster_id", "reasons", "score_part1",
                "flagged_part1", "link_reasons")


def write_outputs(result: ScanResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``accounts.csv``, ``campaigns.json`` and ``report.html`` into ``out_dir``."""
    import orjson

    from distillguard.report import render_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    acc = result.accounts
    extra = [c for c, d in acc.schema.items() if c not in LEAD_COLUMNS
             and (d.is_numeric() or d.is_temporal() or d in (pl.String(), pl.Boolean()))]
    table = (
        acc.select(*LEAD_COLUMNS, *extra)
        .with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"))
        .with_columns(pl.col(pl.Float64).round(6))
        .sort("score", "account_id", descending=[True, False])
    )
    paths = {"accounts": out / "accounts.csv", "campaigns": out / "campaigns.json",
             "report": out / "report.html"}
    table.write_csv(paths["accounts"])
    paths["campaigns"].write_bytes(orjson.dumps(result.campaigns, option=orjson.OPT_INDENT_2))
    paths["report"].write_text(render_report(result), encoding="utf-8")
    return paths


def score_summary(result: ScanResult) -> dict[str, Any]:
    acc = result.accounts
    return {
        "accounts": acc.height,
        "flagged": int(acc.get_column("flagged").sum()),
        "flagged_part1": int(acc.get_column("flagged_part1").sum())
        if "flagged_part1" in acc.columns else int(acc.get_column("flagged").sum()),
        "events": result.n_events,
        "quarantined_rows": result.report.n_bad,
        "campaigns": len(result.campaigns),
        "threshold_raw": result.calibration.threshold,
        "estimated_flag_rate": result.calibration.estimated_flag_rate,
        "score_p99": float(np.quantile(acc.get_column("score").to_numpy(), 0.99))
        if acc.height else 0.0,
    }
