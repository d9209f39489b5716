"""The public surface of distillguard.ingest is what __all__ says (other stages import it)."""

from __future__ import annotations

import distillguard.ingest as ingest


def test_all_names_exist_and_public_names_are_exported() -> None:
    assert all(hasattr(ingest, name) for name in ingest.__all__)
    public = {n for n in vars(ingest) if not n.startswith("_")}
    modules = {"schema", "dataset", "reader", "report", "validate", "synthetic"}
    assert public - modules <= set(ingest.__all__)
