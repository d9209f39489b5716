"""Model pivot right after a release: traffic moved to a newly released model within hours.

A capability sweep wants the newest model's outputs as soon as they exist; a campaign
that moves half its traffic within a day is running a pipeline, not evaluating. Early
adopters also try new models quickly, but rarely move most of their traffic at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class ReleasePivot(Signal):
    name = "release_pivot"
    axis = "operation"
    requires = ("pivot_share", "pivot_hours")
    within_hours: float = 24.0

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        fast = pl.col("pivot_hours").cast(pl.Float64).fill_null(1e9) <= self.within_hours
        s = pl.when(fast).then(ramp(col("pivot_share"), 0.25, 0.6)).otherwise(0.0)
        return features.select(s.alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"moved {pct(row.get('pivot_share'))} of its traffic to {row.get('pivot_model')} "
                f"within 48 h of release (first use after {row.get('pivot_hours') or 0:.1f} h)")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "pivot_share": 0.5, "pivot_hours": 3.0, "pivot_model": "m2"}],
                [{"account_id": "n", "pivot_share": None, "pivot_hours": None, "pivot_model": None}])
