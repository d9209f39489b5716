from __future__ import annotations

import pytest

from pipeline.tiny_world import write_tiny_world


@pytest.fixture(scope="session")
def proxy_scan(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The tiny world plus the operation's quiet accounts and honest customers of its
    proxy pool (same exits and client), scanned once."""
    from distillguard.pipeline import run_scan

    world = write_tiny_world(tmp_path_factory.mktemp("proxy") / "world", proxy_pool=True)
    return run_scan(world), world
