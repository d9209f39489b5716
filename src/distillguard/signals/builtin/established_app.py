"""Evidence *against* distillation: an established product backend.

An app backend wraps its end users' prompts in one fixed system prompt, from a stable
address, on an account that has existed for a long time: 24/7 volume and broad topics
(its users' questions) make it look like a sweep, but the combination of a single product
prompt, stable infrastructure and account age is what a hydra operation, which rotates
addresses and burns fresh accounts, does not have. All three must hold; a fixed system
prompt alone (cheap camouflage) earns nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class EstablishedApp(Signal):
    name = "established_app"
    axis = "dampener"
    requires = ("system_prompt_share", "n_system_prompts", "n_ips", "age_at_first_use_h",
                "n_events")
    max_ips: int = 4
    min_age_days: float = 60.0

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        product = ramp(col("system_prompt_share"), 0.8, 0.95) * (col("n_system_prompts") <= 3)
        stable = (col("n_ips") <= self.max_ips).cast(pl.Float64)
        aged = ramp(col("age_at_first_use_h") / 24.0, self.min_age_days / 2, self.min_age_days)
        s = product * stable * aged * (col("n_events") >= 100)
        return features.select(s.alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        return (f"established product backend: {pct(row.get('system_prompt_share'))} of "
                f"requests under {row.get('n_system_prompts') or 0} system prompt(s), "
                f"{row.get('n_ips') or 0} client IPs, account "
                f"{(row.get('age_at_first_use_h') or 0) / 24:,.0f} days old at first use")

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "system_prompt_share": 1.0, "n_system_prompts": 1,
                  "n_ips": 2, "age_at_first_use_h": 24 * 300.0, "n_events": 5000}],
                [{"account_id": "n", "system_prompt_share": 1.0, "n_system_prompts": 1,
                  "n_ips": 40, "age_at_first_use_h": 30.0, "n_events": 5000}])
