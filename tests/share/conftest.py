"""A tiny simulated 3-lab world (scale 0.01, ~20k events in all), built once per session
(named apart from the hand-built `tiny_world` in tests/conftest.py), and a live hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from distillguard.share.localhub import LocalHub, local_hub


@pytest.fixture(scope="session")
def sim_world3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from distillguard.sim import simulate

    out = tmp_path_factory.mktemp("share-world") / "w"
    simulate(out, scale=0.01, seed=21, labs=3)
    return out


@pytest.fixture()
def hub(tmp_path: Path) -> Iterator[LocalHub]:
    """A running in-process hub with members ``partner`` and ``me`` on one collection,
    every request captured (the live-path tests)."""
    with local_hub(tmp_path / "hub.db", ("partner", "me"), description="live",
                   capture=True) as h:
        yield h
