"""Automation: no daily rhythm, HTTP-library user agents, machine-regular timing.

Humans sleep, so an account driven by people leaves a quiet window of several hours in
its hour-of-day profile whatever its time zone; extraction pipelines run 24/7. Absence of
that window only counts once the account has enough requests that a human would have
shown one (``min_events``). HTTP-library agents and regular inter-arrival times add a
little; user agents are trivially forged, so they never dominate. App
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
    requires = ("automation_ua_share", "quiet_hours", "gap_cv", "n_events")
    min_events: int = 40
    #: A quiet window this long (hours) or longer is a human daily rhythm.
    human_quiet_hours: int = 5

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        enough = ramp(col("n_events"), self.min_events / 2, self.min_events)
        quiet = pl.col("quiet_hours").cast(pl.Float64).fill_null(24.0)
        no_rhythm = ramp(self.human_quiet_hours - quiet, 0.0, self.human_quiet_hours - 1)
        regular = ramp(1.5 - pl.col("gap_cv").cast(pl.Float64).fill_null(1.5), 0.0, 1.0)
        s = 0.6 * no_rhythm + 0.25 * col("automation_ua_share") + 0.15 * regular
        return features.select((s * enough).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        ua = row.get("automation_ua_share")  # null: the logs carry no user agents
        return (f"active around the clock (longest quiet stretch {row.get('quiet_hours') or 0} h "
                f"over {row.get('n_events') or 0:,} requests); "
                + (f"{pct(ua)} from HTTP-library or missing user agents; " if ua is not None
                   else "")
                + f"inter-arrival CV {row.get('gap_cv') or 0:.2f}")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "automation_ua_share": 1.0, "quiet_hours": 0,
                  "gap_cv": 0.2, "n_events": 1000}],
                [{"account_id": "n", "automation_ua_share": 0.0, "quiet_hours": 8,
                  "gap_cv": 3.0, "n_events": 50}])
