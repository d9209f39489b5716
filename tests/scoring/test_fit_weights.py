"""Weight fitting: non-negative weights, a config the registry accepts."""

from __future__ import annotations

from pathlib import Path

from distillguard.scoring.fit_weights import fit, to_yaml
from distillguard.signals import load_config


def test_fitted_weights_are_non_negative_and_load(tiny_world: Path, tiny_scan, tmp_path: Path) -> None:
    _, scan_dir = tiny_scan
    cfg = load_config()
    weights, k = fit(tiny_world, scan_dir, cfg)
    assert set(weights) == {w.signal.name for w in cfg.signals}
    assert all(w >= 0 for w in weights.values()) and k >= 0
    out = tmp_path / "w.yaml"
    out.write_text(to_yaml(weights, k, cfg, tiny_world))
    loaded = load_config(out)
    assert {w.signal.name: w.weight for w in loaded.signals if w.weight > 0}.keys() <= weights.keys()
