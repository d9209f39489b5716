"""A tiny simulated 3-lab world (scale 0.01, ~20k events in all), built once per session.

Named apart from the hand-built `tiny_world` in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sim_world3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from distillguard.sim import simulate

    out = tmp_path_factory.mktemp("share-world") / "w"
    simulate(out, scale=0.01, seed=21, labs=3)
    return out
