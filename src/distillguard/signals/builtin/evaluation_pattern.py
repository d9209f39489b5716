"""Evidence *against* distillation: benchmark-style evaluation runs.

Evaluators replay public problem sets (the same prompts other accounts send too, often
several times) at temperature 0. A distiller wants new, varied prompts and sampled
diversity. This dampener lowers the score of accounts whose traffic looks like that; it
never raises anyone's score.
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
    requires = ("temp_zero_share", "shared_prompt_share", "distinct_prompt_ratio", "n_events")

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        repeats = ramp(1.0 - col("distinct_prompt_ratio"), 0.2, 0.6)
        public = ramp(col("shared_prompt_share"), 0.3, 0.8)
        s = ramp(col("temp_zero_share"), 0.7, 0.95) * pl.max_horizontal(repeats, public)
        return features.select(
            pl.when(col("n_events") >= 10).then(s).otherwise(0.0).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"looks like an evaluation run: {pct(row.get('temp_zero_share'))} at "
                f"temperature 0, {pct(row.get('shared_prompt_share'))} of prompts also sent "
                f"verbatim by other accounts, {pct(1 - (row.get('distinct_prompt_ratio') or 0))} repeats")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "temp_zero_share": 1.0, "shared_prompt_share": 0.9,
                  "distinct_prompt_ratio": 0.3, "n_events": 500}],
                [{"account_id": "n", "temp_zero_share": 0.1, "shared_prompt_share": 0.0,
                  "distinct_prompt_ratio": 1.0, "n_events": 500}])
