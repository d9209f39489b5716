"""Volume relative to tier: requests per active day against the median of the same tier.

Judged within the tier (a free account doing enterprise volume is odd; an enterprise
account doing it is not) and against this dataset's own medians, so no fixed rate limit
is baked in. Low-and-slow accounts stay under it by design; other signals catch those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, ramp


@dataclass(frozen=True, kw_only=True)
class Volume(Signal):
    name = "volume"
    axis = "operation"
    requires = ("events_per_day", "tier", "n_events")
    #: log10 of (rate / tier median) at which evidence starts and saturates.
    lo: float = 0.5
    hi: float = 1.5

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        rate = col("events_per_day")
        med = rate.median().over(pl.col("tier").fill_null("?"))
        ratio = (rate / med.clip(1e-9)).clip(1e-9).log10()
        return features.select(ramp(ratio, self.lo, self.hi).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        times = 10 ** (self.lo + strength * (self.hi - self.lo))
        return (f"{row.get('events_per_day') or 0:,.0f} requests/active day, "
                f"~{times:,.0f}x the median of tier '{row.get('tier')}'")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = [{"account_id": f"a{i}", "events_per_day": 10.0 + i, "tier": "free",
                 "n_events": 30} for i in range(10)]
        return rows + [{"account_id": "p", "events_per_day": 5000.0, "tier": "free",
                        "n_events": 50000}], rows
