from __future__ import annotations

import pytest

from distillguard.graph import LinkResult, link_accounts
from distillguard.graph.synth import SynthWorld, synth_world


@pytest.fixture(scope="session")
def world() -> SynthWorld:
    return synth_world(n_benign=800, campaigns=(80, 40), n_resold_per_campaign=15, seed=7)


@pytest.fixture(scope="session")
def linked(world: SynthWorld) -> LinkResult:
    return link_accounts(world.events, world.accounts, world.scores)
