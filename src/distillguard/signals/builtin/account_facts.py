"""Account facts: fresh accounts used at once, and sign-up bursts.

Replacement accounts for banned ones are created in batches and put to work within hours.
A burst is judged against this dataset's own sign-up rate (the 99th percentile of
accounts per window), so a provider's launch day does not look like an attack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, ramp


@dataclass(frozen=True, kw_only=True)
class AccountFacts(Signal):
    name = "account_facts"
    axis = "operation"
    requires = ("age_at_first_use_h", "signup_burst", "n_events")
    #: Age at first use (hours) that counts as fully fresh / not fresh at all; the ramp
    #: between them is on a log scale (a day vs a week matters more than 30 vs 36 days).
    fresh_hours: float = 24.0
    stale_hours: float = 30 * 24.0

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        age = pl.col("age_at_first_use_h").cast(pl.Float64)
        lo, hi = math.log10(self.fresh_hours), math.log10(self.stale_hours)
        fresh = pl.when(age.is_null()).then(0.0).otherwise(
            1.0 - ramp(age.clip(0.01).log10(), lo, hi))
        burst = col("signup_burst")
        typical = burst.quantile(0.9).clip(1.0)
        s = 0.5 * fresh + 0.5 * ramp(burst / typical, 1.5, 5.0)
        return features.select(
            pl.when(col("n_events") > 0).then(s).otherwise(0.0).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"first request {row.get('age_at_first_use_h') or 0:,.1f} h after sign-up; "
                f"{row.get('signup_burst') or 0} accounts signed up in the same 10 minutes")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = [{"account_id": f"a{i}", "age_at_first_use_h": 2000.0, "signup_burst": 1,
                 "n_events": 10} for i in range(20)]
        return rows + [{"account_id": "p", "age_at_first_use_h": 0.5, "signup_burst": 40,
                        "n_events": 10}], rows
