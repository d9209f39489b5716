"""Reasons: the strongest evidence of each account, as short text with numbers."""

from __future__ import annotations

import polars as pl

from distillguard.signals.registry import DetectionConfig

MAX_REASONS = 3


def reasons(features: pl.DataFrame, scored: pl.DataFrame, cfg: DetectionConfig,
            only: pl.Series | None = None) -> pl.Series:
    """``reasons`` text per account (same order as ``scored``).

    Every account with a positive contribution gets its top contributions
    (weight x strength), strongest first; dampeners are appended when they applied.
    ``only``: boolean mask of accounts to explain (others get ""), to keep Python work
    proportional to the accounts a reader will look at.
    """
    weights = {w.signal.name: (w.weight, w.signal) for w in cfg.signals}
    mask = only.to_list() if only is not None else [True] * scored.height
    feats = features.iter_rows(named=True)
    out: list[str] = []
    for row, srow, want in zip(feats, scored.iter_rows(named=True), mask, strict=True):
        if not want:
            out.append("")
            continue
        contrib = sorted(
            ((w * srow[n], n) for n, (w, sig) in weights.items()
             if sig.axis != "dampener" and srow[n] > 0),
            reverse=True,
        )[:MAX_REASONS]
        parts = [f"{n}: {weights[n][1].describe(row, srow[n])}" for _, n in contrib]
        parts += [f"{n} (lowers score): {sig.describe(row, srow[n])}"
                  for n, (_, sig) in weights.items() if sig.axis == "dampener" and srow[n] > 0]
        out.append("; ".join(parts) if parts else "no distillation evidence")
    return pl.Series("reasons", out, dtype=pl.String)
