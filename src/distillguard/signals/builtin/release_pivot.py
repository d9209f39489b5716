"""Model pivot right after a release: traffic moved to a newly released model within hours.

A capability sweep wants the newest model's outputs as soon as they exist; a campaign
that moves half its traffic within a day is running a pipeline, not evaluating. Early
adopters also try new models quickly, but rarely move most of their traffic at once.

Organisation context (round 5, docs/detection.md): inside a declared organisation the
model is the customer's choice, not the seat's -- IT switches the internal assistant's
default, a lab moves its evaluation harness -- and which seats happen to use the new model
in its first day is noise around that one decision. So for an account of an organisation
with at least ``min_org_accounts`` accounts active before and after a release, a seat's
pivot is capped at the organisation's (the mean strength over those accounts): what goes
is the single seat's spike (a company whose seats moved a quarter of the way within a day
read as a full pivot on the seats that happened to be busy). The cap never raises a seat:
until the lead's round-5 follow-up the seat *got* the mean, and on the held-out world an
honest reseller customer that moved none of its traffic inherited 0.57 of a pivot from
the fleet accounts its reseller had declared under the same organisation, and was
flagged. An account without an organisation is its own customer, as before. A fleet that
declares one organisation for its accounts keeps its pivot where its accounts moved
together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from distillguard.signals.base import Signal, col, pct, ramp


@dataclass(frozen=True, kw_only=True)
class ReleasePivot(Signal):
    name = "release_pivot"
    axis = "operation"
    requires = ("pivot_share", "pivot_hours", "org_id")
    within_hours: float = 24.0
    #: pivot share from which the signal starts, and where it is full
    share_from: float = 0.25
    share_full: float = 0.6
    #: Accounts of one organisation with traffic before and after a release from which on
    #: the pivot is read over the organisation (a very large value: per account only).
    min_org_accounts: int = 3

    def _own(self) -> pl.Expr:
        fast = pl.col("pivot_hours").cast(pl.Float64).fill_null(1e9) <= self.within_hours
        return pl.when(fast).then(ramp(col("pivot_share"), self.share_from, self.share_full)
                                  ).otherwise(0.0)

    def strengths(self, features: pl.DataFrame) -> pl.Series:
        org = pl.col("org_id").cast(pl.String)
        # eligible: active before and after a release (pivot_share is null otherwise)
        elig = pl.col("pivot_share").is_not_null() & org.is_not_null()
        f = features.select(self._own().alias("_s"), org.alias("_o"), elig.alias("_e"))
        n_org = pl.col("_e").cast(pl.Int64).sum().over("_o")
        org_mean = pl.col("_s").filter(pl.col("_e")).mean().over("_o")
        s = (pl.when(pl.col("_e") & (n_org >= self.min_org_accounts))
             .then(pl.min_horizontal(org_mean, pl.col("_s"))).otherwise(pl.col("_s")))
        return f.select(s.alias(self.name)).to_series()

    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        share = row.get("pivot_share")
        hours = row.get("pivot_hours")
        own = 0.0
        if share is not None and hours is not None and hours <= self.within_hours:
            own = min(max((share - self.share_from) / (self.share_full - self.share_from),
                          0.0), 1.0)
        text = (f"moved {pct(share)} of its traffic to {row.get('pivot_model')} "
                f"within 48 h of release (first use after {hours or 0:.1f} h)")
        if row.get("org_id") is not None and abs(own - strength) > 1e-9:
            text += (f"; read over its organisation {row.get('org_id')} (one customer's "
                     f"choice of model): {strength:.2f} of a full pivot, own {own:.2f}")
        return text

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"account_id": "p", "pivot_share": 0.5, "pivot_hours": 3.0, "pivot_model": "m2",
                  "org_id": None}],
                [{"account_id": "n", "pivot_share": None, "pivot_hours": None, "pivot_model": None,
                  "org_id": None}])
