from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tiny_world import write_tiny_world


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hand-built world (read-only): 60 casual users, an app backend, a batch job, two
    benchmark evaluators and a 20-account templated distillation operation."""
    return write_tiny_world(tmp_path_factory.mktemp("tiny") / "world")


@pytest.fixture(scope="session")
def tiny_scan(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory):
    from distillguard.pipeline import run_scan, write_outputs

    result = run_scan(tiny_world)
    out = tmp_path_factory.mktemp("scan")
    write_outputs(result, out)
    return result, out


@pytest.fixture(scope="session")
def proxy_scan(tmp_path_factory: pytest.TempPathFactory):
    """The tiny world plus the operation's quiet accounts and honest customers of its
    proxy pool (same exits and client), scanned once."""
    from distillguard.pipeline import run_scan

    world = write_tiny_world(tmp_path_factory.mktemp("proxy") / "world", proxy_pool=True)
    return run_scan(world), world
