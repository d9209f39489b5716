"""``scan --engine``: option checks that need no Spark session."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from distillguard.cli.main import EXIT_CONFIG, app


def test_unknown_engine_is_a_config_error(tiny_world: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["scan", "-i", str(tiny_world), "-o", str(tmp_path),
                                 "--engine", "dask"])
    assert r.exit_code == EXIT_CONFIG
    assert "not one of: local, spark" in r.output


def test_spark_engine_refuses_local_only_options(tiny_world: Path, tmp_path: Path) -> None:
    store = tmp_path / "intel.db"
    store.write_bytes(b"")
    r = CliRunner().invoke(app, ["scan", "-i", str(tiny_world), "-o", str(tmp_path / "o"),
                                 "--engine", "spark", "--intel", str(store)])
    assert r.exit_code == EXIT_CONFIG
    assert "--intel" in r.output
    assert not (tmp_path / "o").exists()
