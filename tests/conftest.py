"""Project-wide pytest fixtures. Keep minimal: areas put theirs in tests/<area>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures`` (hand-made inputs, one subdirectory per area)."""
    return FIXTURES


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny valid dataset (Parquet, 2,000 events, 20 accounts) made without the simulator,
    shared by the whole session: treat it as read-only."""
    from distillguard.ingest.synthetic import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("sample"), n_events=2_000,
                                   n_accounts=20, fmt="parquet", seed=7)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hand-built world (read-only): 60 casual users, an app backend, a batch job, two
    benchmark evaluators and a 20-account templated distillation operation."""
    from pipeline.tiny_world import write_tiny_world

    return write_tiny_world(tmp_path_factory.mktemp("tiny") / "world")


@pytest.fixture(scope="session")
def tiny_scan(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``(ScanResult, output_dir)`` of one scan of ``tiny_world``, shared by the session."""
    from distillguard.pipeline import run_scan, write_outputs

    result = run_scan(tiny_world)
    out = tmp_path_factory.mktemp("scan")
    write_outputs(result, out)
    return result, out
