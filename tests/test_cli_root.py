"""The root command: help for newcomers, a version, and exit codes scripts can rely on."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

import distillguard
from distillguard.cli.main import app

runner = CliRunner()


def test_help_lists_every_command_group() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "simulate", "scan", "hub", "demo"):
        assert command in result.output


def test_version_matches_package() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert distillguard.__version__ in result.output


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["--no-such-option"])
    assert result.exit_code == 2


def test_console_script_runs_in_a_fresh_interpreter() -> None:
    # `python -m` proves the module wiring works outside the test process too.
    proc = subprocess.run(
        [sys.executable, "-m", "distillguard.cli.main", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert distillguard.__version__ in proc.stdout


def test_exported_members_match_all() -> None:
    exported = {name for name in dir(distillguard) if not name.startswith("_")}
    # Submodules appear as attributes once imported; only public callables/classes count.
    exported = {n for n in exported if not isinstance(getattr(distillguard, n), type(sys))}
    assert exported == set(distillguard.__all__) - {"__version__"}
