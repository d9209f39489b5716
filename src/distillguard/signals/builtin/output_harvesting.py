"""Output harvesting: long answers requested and received.

Distillation keeps the answers, so it asks for long ones (high ``max_tokens``), gets many
output tokens per input token, and often samples at moderate temperature for diversity.
"Long" is judged against this dataset's own accounts (rank of mean output tokens), not a
fixed number, so it adapts to the provider's models and traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class OutputHarvesting(Signal):
    name = "output_harvesting"
    axis = "content"
    requires = ("mean_output_tokens", "high_max_tokens_share", "out_in_ratio", "n_events")
    rank_lo: float = 0.6
    rank_hi: float = 0.95

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        active = col("n_events") > 0
        rank = col("mean_output_tokens").rank("average") / pl.len()
        ratio_rank = col("out_in_ratio").rank("average") / pl.len()
        s = (0.45 * ramp(rank, self.rank_lo, self.rank_hi)
             + 0.2 * ramp(ratio_rank, self.rank_lo, self.rank_hi)
             + 0.35 * col("high_max_tokens_share"))
        return features.select(
            pl.when(active).then(s).otherwise(0.0).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        text = (f"mean {row.get('mean_output_tokens') or 0:,.0f} output tokens/request, "
                f"{row.get('out_in_ratio') or 0:.1f}x output/input")
        if row.get("high_max_tokens_share") is not None:  # null: the logs carry no max_tokens
            text += f", {pct(row.get('high_max_tokens_share'))} with max_tokens>=4000"
        return text

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = [{"account_id": f"a{i}", "mean_output_tokens": 100.0 + i, "out_in_ratio": 1.0,
                 "high_max_tokens_share": 0.0, "n_events": 10} for i in range(20)]
        pos = rows + [{"account_id": "p", "mean_output_tokens": 3000.0, "out_in_ratio": 8.0,
                       "high_max_tokens_share": 1.0, "n_events": 100}]
        return pos, rows
