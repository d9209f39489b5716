"""Evidence *against* distillation: usage shaped like people and experiment runs.

Two habits of honest use that harvesting works against:

- **Repeated prompts.** People press "regenerate", retry after an error, paste the same
  question again; researchers re-run the same items across models, seeds and ablations.
  A harvester buys each answer once: a repeated prompt is money spent on data it already
  has (a different wording would buy a new training example).
- **Bursty sessions.** People and experiment runs come in sessions -- a burst, then hours
  of nothing -- so the gaps between requests are far more variable than a steady process
  (coefficient of variation well above 1). An account kept busy to harvest as much as its
  limits allow, or trickled below them, is steady.

Like the other dampeners this only explains *operation* evidence away (fresh account,
templates, automation), never what an account asks for, and it needs ``min_events``
requests before the shape means anything. Imitating it costs an operation paid-for
duplicates or idle account-hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class OrganicUsage(Signal):
    name = "organic_usage"
    axis = "dampener"
    requires = ("distinct_prompt_ratio", "gap_cv", "n_events")

    #: Share of repeated prompts at which the evidence starts / saturates.
    repeat_lo: float = 0.04
    repeat_hi: float = 0.15
    #: Inter-arrival coefficient of variation (1 = Poisson) that starts / saturates.
    burst_lo: float = 2.5
    burst_hi: float = 5.0
    min_events: int = 20

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        # no prompt text logged -> unknown, not "every prompt repeated"
        distinct = pl.col("distinct_prompt_ratio").cast(pl.Float64).fill_null(1.0).fill_nan(1.0)
        repeats = ramp(1.0 - distinct, self.repeat_lo, self.repeat_hi)
        bursty = ramp(col("gap_cv"), self.burst_lo, self.burst_hi)
        s = pl.max_horizontal(repeats, bursty)
        return features.select(
            pl.when(col("n_events") >= self.min_events).then(s).otherwise(0.0)
            .alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"used like people or experiment runs: "
                f"{pct(1 - (row.get('distinct_prompt_ratio') or 0))} of "
                f"{row.get('n_events') or 0:,} requests repeat an earlier prompt, "
                f"request gaps vary {row.get('gap_cv') or 0:.1f}x their mean (bursty sessions)")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "distinct_prompt_ratio": 0.7, "gap_cv": 4.0,
                  "n_events": 300}],
                [{"account_id": "n", "distinct_prompt_ratio": 1.0, "gap_cv": 1.0,
                  "n_events": 300}])
