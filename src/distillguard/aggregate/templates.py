"""Template families: which prompt skeletons are *templates* (fixed text, varying payload).

Stage 1 gives every event two skeleton hashes (head and tail window). Here, as plain
group-bys, each skeleton becomes a candidate family with its size, the number of accounts
that use it and the number of *distinct* prompts in it. A family is a template when it
wraps many different payloads (``n_distinct`` high, ``distinct_ratio`` high): "hi" sent by
ten thousand people is one skeleton with one distinct prompt, not a template; a benchmark
set replayed by evaluators repeats the same prompts (low distinct ratio). An event's
``template_id`` is its head family if that is a template, else its tail family, else null.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class TemplateConfig:
    """Minimum evidence for a skeleton to count as a template family.

    ``min_distinct``: distinct prompts needed (a template wraps many payloads);
    ``min_distinct_ratio``: distinct prompts / events (replayed problem sets score low).
    """

    min_distinct: int = 8
    min_distinct_ratio: float = 0.5


FAMILY_SCHEMA = {
    "template_id": pl.UInt64(), "n_events": pl.UInt32(), "n_accounts": pl.UInt32(),
    "n_distinct": pl.UInt32(), "distinct_ratio": pl.Float64(), "is_template": pl.Boolean(),
}


def skeleton_families(ev: pl.LazyFrame, col: str, cfg: TemplateConfig) -> pl.LazyFrame:
    """Candidate families of one skeleton column (``tpl_head`` or ``tpl_tail``).

    A group-by on the skeleton only, so a partitioned engine (Spark) gets the same rows by
    calling it on partitions that hold all events of their skeletons.
    """
    return (
        ev.filter(pl.col(col).is_not_null())
        .group_by(pl.col(col).alias("template_id"))
        .agg(
            pl.len().cast(pl.UInt32).alias("n_events"),
            pl.col("account_id").n_unique().cast(pl.UInt32).alias("n_accounts"),
            pl.col("prompt_hash").n_unique().cast(pl.UInt32).alias("n_distinct"),
        )
        .with_columns((pl.col("n_distinct") / pl.col("n_events")).alias("distinct_ratio"))
        .with_columns(
            (
                (pl.col("n_distinct") >= cfg.min_distinct)
                & (pl.col("distinct_ratio") >= cfg.min_distinct_ratio)
            ).alias("is_template")
        )
    )


def template_families(heads: pl.LazyFrame, tails: pl.LazyFrame) -> pl.DataFrame:
    """The template families from the head and tail candidates (a head family wins a tie)."""
    fams = (pl.concat([heads.filter("is_template"), tails.filter("is_template")])
            .unique("template_id", keep="first").collect())
    return fams.cast(FAMILY_SCHEMA)  # type: ignore[arg-type]


def assign_templates(ev: pl.LazyFrame, families: pl.DataFrame) -> pl.LazyFrame:
    """Add ``template_id``: the head skeleton if it is a family, else the tail's, else null."""
    ids = families.get_column("template_id").implode()
    return ev.with_columns(
        pl.when(pl.col("tpl_head").is_in(ids)).then(pl.col("tpl_head"))
        .when(pl.col("tpl_tail").is_in(ids)).then(pl.col("tpl_tail"))
        .otherwise(None).alias("template_id")
    )


def resolve_templates(
    ev: pl.LazyFrame, cfg: TemplateConfig | None = None
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Add ``template_id`` (UInt64, null if none) to events; return the template families.

    The returned families frame (``template_id, n_events, n_accounts, n_distinct,
    distinct_ratio, is_template``) holds only the skeletons that are templates.
    """
    cfg = cfg or TemplateConfig()
    fams = template_families(skeleton_families(ev, "tpl_head", cfg),
                             skeleton_families(ev, "tpl_tail", cfg))
    return assign_templates(ev, fams), fams


def family_label(template_id: int) -> str:
    """Short stable display name of a family, e.g. ``T3f9a2c1d``."""
    return f"T{int(template_id) & 0xFFFFFFFF:08x}"
