"""Templated traffic, especially in template families shared by many accounts.

Targets the core of industrial distillation: one operation, many accounts, a few
instruction templates wrapping millions of varied payloads. Enterprise batch jobs are
templated too but stay inside one account or org, so most of the strength comes from the
share of traffic in families that span many customers (a declared organisation counts
once: ``aggregate.features.account_owners``) -- weighted by how much of each
family's user base is fresh accounts (``fresh_wide_family_share``): a public problem
template is used by a normal cross-section of customers, an operation's template by the
accounts it created for the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.aggregate.templates import family_label
from distillguard.signals.base import Signal, col, pct, ramp, shrunk


@dataclass(frozen=True, kw_only=True)
class TemplateFamily(Signal):
    name = "template_family"
    axis = "operation"
    requires = ("templated_share", "wide_family_share", "fresh_wide_family_share",
                "top_template_share", "n_events", "max_family_accounts", "top_template")
    wide_weight: float = 0.75
    min_events: int = 5
    #: Beta-prior strength in requests: shares shrunk towards the population median by
    #: request count (``signals.base.shrunk``), so 8 templated requests of 10 weigh less
    #: than 800 of 1,000. Off by default: on the dev worlds a prior of 5 removed 7 of 39
    #: benign flags but also the part-1 anchors of low-and-slow fleets, which linking
    #: needs (CoT recall 0.84 -> 0.79; docs/detection.md "Signals").
    prior_requests: float = 0.0

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        n = col("n_events")
        wide = (shrunk(col("wide_family_share"), n, self.prior_requests)
                + shrunk(col("fresh_wide_family_share"), n, self.prior_requests)) / 2
        s = (self.wide_weight * wide
             + (1 - self.wide_weight) * shrunk(col("templated_share"), n, self.prior_requests))
        conf = ramp(col("n_events"), self.min_events / 2, self.min_events)
        return features.select((s * conf).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        fam = family_label(row["top_template"]) if row.get("top_template") is not None else "-"
        return (f"{pct(row.get('templated_share'))} of {row.get('n_events', 0):,} requests "
                f"templated; top family {fam} carries {pct(row.get('top_template_share'))}; "
                f"{pct(row.get('wide_family_share'))} in families shared by >=5 customers "
                f"(largest: {row.get('max_family_accounts', 0):,}; an organisation counts "
                f"once; {pct(row.get('fresh_wide_family_share'))} in ones used mostly by "
                f"fresh accounts)")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        pos = [{"account_id": "p", "templated_share": 0.95, "wide_family_share": 0.9,
                "fresh_wide_family_share": 0.8,
                "top_template_share": 0.8, "n_events": 500, "max_family_accounts": 212,
                "top_template": 123}]
        neg = [{"account_id": "n", "templated_share": 0.0, "wide_family_share": 0.0,
                "top_template_share": 0.0, "n_events": 40, "max_family_accounts": 0,
                "top_template": None}]
        return pos, neg
