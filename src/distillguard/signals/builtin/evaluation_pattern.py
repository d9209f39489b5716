"""Evidence *against* distillation: evaluation runs and scheduled jobs.

Evaluators and research harnesses run at temperature 0 (reproducibility), replay public
problem sets (prompts other accounts send verbatim too) and run as scheduled jobs that
occupy a few hours of the day. A distiller wants sampled diversity and new prompts, and
needs throughput, so it runs continuously. This dampener lowers the score of accounts
whose traffic looks like an evaluation job; it never raises anyone's score. An operation
that imitates it pays in diversity and throughput, which is the point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class EvaluationPattern(Signal):
    name = "evaluation_pattern"
    axis = "dampener"
    requires = ("temp_zero_share", "shared_prompt_share", "distinct_prompt_ratio", "n_events",
                "quiet_hours")
    #: Hours of the day without any traffic from which an account looks like a scheduled
    #: job (starts / saturates).
    scheduled_lo: float = 12.0
    scheduled_hi: float = 20.0

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        repeats = ramp(1.0 - col("distinct_prompt_ratio"), 0.2, 0.6)
        public = ramp(col("shared_prompt_share"), 0.3, 0.8)
        greedy = ramp(col("temp_zero_share"), 0.6, 0.9)
        scheduled = ramp(col("quiet_hours"), self.scheduled_lo, self.scheduled_hi)
        s = (0.4 * greedy + 0.4 * scheduled
             + 0.2 * greedy * pl.max_horizontal(repeats, public))
        return features.select(
            pl.when(col("n_events") >= 20).then(s).otherwise(0.0).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"looks like an evaluation job: {pct(row.get('temp_zero_share'))} at "
                f"temperature 0, idle {row.get('quiet_hours') or 0} h of the day, "
                f"{pct(row.get('shared_prompt_share'))} of prompts also sent "
                f"verbatim by other accounts, {pct(1 - (row.get('distinct_prompt_ratio') or 0))} repeats")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "temp_zero_share": 1.0, "shared_prompt_share": 0.9,
                  "distinct_prompt_ratio": 0.3, "n_events": 500, "quiet_hours": 20}],
                [{"account_id": "n", "temp_zero_share": 0.1, "shared_prompt_share": 0.0,
                  "distinct_prompt_ratio": 1.0, "n_events": 500, "quiet_hours": 0}])
