"""Signal, Finding, Evidence: the small contract every detection signal implements.

A signal answers one question about an account ("is its traffic templated across many
accounts?", "does it ask for reasoning traces?") from account features, and explains its
answer. Two methods, both required:

* :meth:`Signal.strengths` -- vectorised over the whole feature frame, a strength in
  [0, 1] per account (0 = no evidence). This is what scales to 100k+ accounts.
* :meth:`Signal.describe` -- one sentence with the numbers behind one account's strength.

:meth:`Signal.evaluate` builds :class:`Finding` objects (with :class:`Evidence`) from those
two for the accounts that need explaining. ``name`` is a persisted contract (reports, STIX
labels): never rename a signal; add a new one and deprecate the old.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

import polars as pl

from distillguard.errors import SignalError

Axis = Literal["content", "operation", "dampener"]


@dataclass(frozen=True)
class Evidence:
    """Why a signal fired: raw strength, adjustments with reasons, and the text shown."""

    raw: float
    final: float
    text: str
    adjustments: tuple[tuple[str, float], ...] = ()
    event_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One signal's verdict on one account, always with its evidence."""

    signal: str
    account_id: str
    score: float
    evidence: Evidence


@dataclass(frozen=True, kw_only=True)
class Signal(ABC):
    """Base class; subclasses are frozen keyword-only dataclasses of their thresholds."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    #: ``content``: what is asked for; ``operation``: how it is asked (scale, automation,
    #: coordination); ``dampener``: evidence *against* distillation (e.g. evaluation runs).
    axis: ClassVar[Axis]
    #: Feature columns the signal reads; missing ones are treated as null (no evidence).
    requires: ClassVar[tuple[str, ...]]

    @abstractmethod
    def strengths(self, features: pl.DataFrame) -> pl.Series:
        """Strength in [0, 1] for every row of ``features`` (same order), nulls as 0."""

    @abstractmethod
    def describe(self, row: Mapping[str, Any], strength: float) -> str:
        """One sentence of evidence with numbers, for an account with ``strength > 0``."""

    @classmethod
    def examples(cls) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(positive, negative)`` example feature rows for contract tests and demos."""
        return [], []

    def get_params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- helpers -----------------------------------------------------------------------
    def checked_strengths(self, features: pl.DataFrame) -> pl.Series:
        """:meth:`strengths` on a frame completed with missing columns, validated."""
        missing = [c for c in self.requires if c not in features.columns]
        if missing:
            features = features.with_columns([pl.lit(None).alias(c) for c in missing])
        try:
            s = self.strengths(features)
        except (pl.exceptions.PolarsError, ValueError, TypeError, ZeroDivisionError) as exc:
            raise SignalError(f"failed to compute strengths: {exc}", signal=self.name) from exc
        s = s.cast(pl.Float64).fill_null(0.0).fill_nan(0.0).clip(0.0, 1.0).alias(self.name)
        if s.len() != features.height:
            raise SignalError("strengths length differs from features", signal=self.name)
        return s

    def evaluate(self, features: pl.DataFrame) -> list[Finding]:
        """Findings (with evidence) for every account where the signal has strength > 0."""
        s = self.checked_strengths(features)
        out: list[Finding] = []
        for row, v in zip(features.iter_rows(named=True), s.to_list(), strict=True):
            if v > 0:
                try:
                    text = self.describe(row, v)
                except (KeyError, TypeError, ValueError) as exc:
                    raise SignalError(f"cannot describe: {exc}", signal=self.name,
                                      account_id=str(row.get("account_id"))) from exc
                out.append(Finding(self.name, str(row["account_id"]), v, Evidence(v, v, text)))
        return out


def ramp(x: pl.Expr, lo: float, hi: float) -> pl.Expr:
    """0 below ``lo``, 1 above ``hi``, linear between: a saturating evidence curve."""
    return ((x - lo) / (hi - lo)).clip(0.0, 1.0)


def shrunk(share: pl.Expr, n: pl.Expr, prior_n: float) -> pl.Expr:
    """Empirical-Bayes (Beta) shrinkage of a per-account share towards the population's.

    ``(share * n + prior_n * p0) / (n + prior_n)`` where ``n`` is the number of requests the
    share was measured on and ``p0`` the median share over accounts with traffic (the
    median: the bulk of honest accounts, not the heavy accounts that dominate request
    counts). 8 of 10 requests templated is weak evidence, 800 of 1,000 strong: with
    ``prior_n = 10`` the first reads as ~0.4, the second as ~0.8. ``prior_n <= 0`` returns
    the share unchanged. Vectorised; nulls read as 0.
    """
    if prior_n <= 0:
        return share
    has = n > 0
    p0 = share.filter(has).median().fill_null(0.0)
    return (share * n + prior_n * p0) / (n + prior_n)


def col(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64).fill_null(0.0).fill_nan(0.0)


def pct(x: float | None) -> str:
    return f"{100 * (x or 0.0):.0f}%"
