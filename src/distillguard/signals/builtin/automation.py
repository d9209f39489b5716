"""Automation: HTTP-library user agents, round-the-clock activity, machine-regular timing.

Humans sleep and pause irregularly; extraction scripts run 24/7 at steady rates. App
backends and batch jobs are automated too (false positives to expect), so this is an
operation-side signal that only adds to content evidence, never a verdict on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class Automation(Signal):
    name = "automation"
    axis = "operation"
    requires = ("automation_ua_share", "hour_entropy", "gap_cv", "n_events")
    min_events: int = 20

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        enough = ramp(col("n_events"), self.min_events / 2, self.min_events)
        regular = ramp(1.5 - pl.col("gap_cv").cast(pl.Float64).fill_null(1.5), 0.0, 1.0)
        s = (0.4 * col("automation_ua_share") + 0.35 * ramp(col("hour_entropy"), 0.8, 0.95)
             + 0.25 * regular)
        return features.select((s * enough).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"{pct(row.get('automation_ua_share'))} of requests from HTTP-library or "
                f"missing user agents; hour-of-day spread {row.get('hour_entropy') or 0:.2f}; "
                f"inter-arrival CV {row.get('gap_cv') or 0:.2f}")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "automation_ua_share": 1.0, "hour_entropy": 0.99,
                  "gap_cv": 0.2, "n_events": 1000}],
                [{"account_id": "n", "automation_ua_share": 0.0, "hour_entropy": 0.5,
                  "gap_cv": 3.0, "n_events": 50}])
