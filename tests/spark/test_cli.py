"""``scan --engine``: option checks that need no Spark session."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from distillguard.cli.main import EXIT_CONFIG, EXIT_INPUT, app


def test_unknown_engine_is_a_config_error(tiny_world: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["scan", "-i", str(tiny_world), "-o", str(tmp_path),
                                 "--engine", "dask"])
    assert r.exit_code == EXIT_CONFIG
    assert "not one of: local, spark" in r.output


def test_spark_engine_checks_the_intel_store_before_starting(tiny_world: Path,
                                                            tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["scan", "-i", str(tiny_world), "-o", str(tmp_path / "o"),
                                 "--engine", "spark", "--intel", str(tmp_path / "nope.db")])
    assert r.exit_code == EXIT_INPUT
    assert "no indicator store" in r.output
    assert not (tmp_path / "o").exists()
