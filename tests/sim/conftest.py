"""Small simulated worlds shared by the simulator tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from distillguard.sim import simulate


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Default scenario, one lab, with per-event ground truth. Read-only."""
    out = tmp_path_factory.mktemp("sim-world")
    simulate(out, scale=0.05, seed=3, emit_truth=True)
    return out


@pytest.fixture(scope="session")
def world_frames(world: Path) -> dict[str, pl.DataFrame]:
    ev = pl.read_parquet(world / "events.parquet")
    truth = pl.read_parquet(world / "_truth" / "events_truth.parquet")
    return {
        "events": ev,
        "accounts": pl.read_parquet(world / "accounts.parquet"),
        "labels": pl.read_parquet(world / "labels.parquet"),
        "releases": pl.read_parquet(world / "releases.parquet"),
        "truth": truth,
        "joined": ev.join(truth, on="event_id").join(
            pl.read_parquet(world / "labels.parquet"), on="account_id"
        ),
    }


@pytest.fixture(scope="session")
def labs3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim-labs3")
    simulate(out, scale=0.04, seed=5, labs=3)
    return out
