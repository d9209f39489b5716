"""Capability sweep: systematic coverage of capability areas (maths, code, tools, logic,
writing, knowledge).

People and apps use a model for a few things; an extraction run sweeps capabilities to
build a general student. Measured as the spread (normalised entropy) of capability areas
over the account's sampled prompts, times how many areas it touched. App backends that
wrap many end users also spread widely; they rarely also show template or automation
evidence from many accounts, which the scorer requires alongside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, ramp


@dataclass(frozen=True, kw_only=True)
class CapabilitySweep(Signal):
    name = "capability_sweep"
    axis = "content"
    requires = ("area_entropy", "n_areas", "n_sampled")
    min_areas: int = 2
    full_areas: int = 4

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        s = ramp(col("n_areas"), self.min_areas, self.full_areas) * ramp(col("area_entropy"), 0.3, 0.7)
        return features.select(s.alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"sampled prompts span {row.get('n_areas') or 0} capability areas "
                f"(spread {row.get('area_entropy') or 0:.2f} of max)")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "area_entropy": 0.9, "n_areas": 5, "n_sampled": 6}],
                [{"account_id": "n", "area_entropy": 0.0, "n_areas": 1, "n_sampled": 6}])
