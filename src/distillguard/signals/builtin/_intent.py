"""Shared implementation of the four content-intent signals (one class per intent)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class IntentSignal(Signal):
    """Share of an account's sampled prompts classified as ``intent``.

    ``lo``/``hi``: share at which evidence starts / saturates. ``min_sampled``: sampled
    prompts needed for full confidence (one matching prompt is weak evidence).
    """

    axis = "content"
    intent: ClassVar[str]
    phrase: ClassVar[str]
    lo: float = 0.2
    hi: float = 0.75
    min_sampled: int = 3

    @property
    def share_col(self) -> str:
        return f"{self.intent}_share"

    @property
    def family_col(self) -> str:
        return f"{self.intent}_family_share"

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        conf = ramp(col("n_sampled"), 0, self.min_sampled)
        own = ramp(col(self.share_col), self.lo, self.hi) * conf
        pooled = ramp(col(self.family_col), self.lo, self.hi)
        return features.select(pl.max_horizontal(own, pooled).alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        text = f"{pct(row.get(self.share_col))} of {row.get('n_sampled') or 0} sampled prompts {self.phrase}"
        fam = row.get(self.family_col)
        if fam:
            text += f"; {pct(fam)} of its requests are in template families that do"
        example = row.get(f"{self.intent}_example")
        if example and (row.get(self.share_col) or 0) > 0:
            flat = " ".join(str(example).split())
            text += f' (e.g. "{flat[:80]}...")'
        return text

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        share = f"{cls.intent}_share"
        return ([{"account_id": "p", share: 0.9, "n_sampled": 4}],
                [{"account_id": "n", share: 0.0, "n_sampled": 4}])
