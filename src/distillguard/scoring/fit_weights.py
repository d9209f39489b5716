"""Fit the signal weights of the default config on a labelled *simulated* world.

Only the weights (one non-negative number per signal, plus the content x operation
interaction) are learned -- the signals, their evidence and the scoring formula stay as
designed -- so the model has ~14 degrees of freedom and cannot latch onto simulator quirks
the signals do not expose. Fit on one world, evaluate on another generated with a different
seed *and* scenario. Reproducible from one command:

    python -m distillguard.scoring.fit_weights --world /tmp/worlds/dev-s0.2 --out weights.yaml

The objective is the logistic loss of ``a * raw + b`` (``a``, ``b`` free) with a small L2
pull towards the hand-set weights, minimised with L-BFGS-B under ``weight >= 0``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml
from scipy.optimize import minimize

from distillguard.signals.registry import DetectionConfig, load_config

L2 = 0.05


def _raw(strengths: np.ndarray, axes: Sequence[str], w: np.ndarray, interaction: float) -> np.ndarray:
    ax = np.array(axes)
    c = strengths[:, ax == "content"] @ w[ax == "content"]
    o = strengths[:, ax == "operation"] @ w[ax == "operation"]
    d = strengths[:, ax == "dampener"] @ w[ax == "dampener"]
    op = np.maximum(o - d, 0.0)
    raw: np.ndarray = c + op + interaction * np.minimum(c, op)
    return raw


def fit(world: Path, scan_dir: Path, cfg: DetectionConfig) -> tuple[dict[str, float], float]:
    acc = pl.read_csv(scan_dir / "accounts.csv", infer_schema_length=None,
                      schema_overrides={"account_id": pl.String})
    lab = pl.read_parquet(next(world.glob("labels.*")))
    d = acc.join(lab.select("account_id", "label"), on="account_id", how="inner")
    names = [w.signal.name for w in cfg.signals]
    axes = [w.signal.axis for w in cfg.signals]
    x = d.select(names).fill_null(0.0).to_numpy()
    y = (d.get_column("label") == "distillation").to_numpy().astype(float)
    w0 = np.array([w.weight for w in cfg.signals])
    p0 = np.concatenate([w0, [cfg.interaction, 1.0, -3.0]])

    def loss(p: np.ndarray) -> float:
        w, k, a, b = p[:-3], p[-3], p[-2], p[-1]
        z = a * _raw(x, axes, w, k) + b
        ll = np.mean(np.logaddexp(0, z) - y * z)
        return float(ll + L2 * np.sum((w - w0) ** 2))

    bounds = [(0.0, 5.0)] * len(w0) + [(0.0, 5.0), (0.01, 20.0), (-50.0, 50.0)]
    res = minimize(loss, p0, method="L-BFGS-B", bounds=bounds)
    return dict(zip(names, np.round(res.x[:-3], 3).tolist(), strict=True)), round(float(res.x[-3]), 3)


def to_yaml(weights: dict[str, float], interaction: float, cfg: DetectionConfig,
            world: Path) -> str:
    doc: dict[str, Any] = {
        "version": 1,
        "scoring": {"target_fpr": cfg.target_fpr, "interaction": interaction,
                    "tail_ratio": cfg.tail_ratio},
        "signals": {n: {"enabled": True, "weight": w} for n, w in weights.items()},
    }
    body: str = yaml.safe_dump(doc, sort_keys=False)  # PyYAML ships no type hints
    return f"# weights fitted on {world} by distillguard.scoring.fit_weights\n" + body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--scan", type=Path, default=None,
                    help="existing scan output of --world (default: run scan)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cfg = load_config()
    scan_dir = args.scan
    if scan_dir is None:
        import tempfile

        from distillguard.pipeline import run_scan, write_outputs

        scan_dir = Path(tempfile.mkdtemp())
        write_outputs(run_scan(args.world, config=cfg), scan_dir)
    weights, k = fit(args.world, scan_dir, cfg)
    args.out.write_text(to_yaml(weights, k, cfg, args.world), encoding="utf-8")
    print(args.out.read_text())


if __name__ == "__main__":  # pragma: no cover
    main()
