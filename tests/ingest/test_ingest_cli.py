"""``distillguard validate``: output, quarantine and the exit codes scripts rely on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from distillguard.cli.main import EXIT_FOUND_PROBLEM, EXIT_INPUT, EXIT_OK, app

from .conftest import WriteDataset, event

runner = CliRunner(env={"COLUMNS": "250"})  # wide: long tmp paths stay on one line


def _broken(fixtures_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "broken"
    shutil.copytree(fixtures_dir / "ingest" / "broken_jsonl", d)
    return d


def test_valid_dataset_prints_summary_and_exits_0(sample_dataset: Path) -> None:
    r = runner.invoke(app, ["validate", str(sample_dataset)])
    assert r.exit_code == EXIT_OK, r.output
    assert "2,000 valid of 2,000 read" in r.output
    assert "distinct client IPs" in r.output and "OK" in r.output


def test_bad_rows_are_listed_and_quarantined(fixtures_dir: Path, tmp_path: Path) -> None:
    d = _broken(fixtures_dir, tmp_path)
    q = tmp_path / "q"
    r = runner.invoke(app, ["validate", str(d), "--quarantine", str(q)])
    assert r.exit_code == EXIT_OK, r.output
    assert "duplicate_key" in r.output and "malformed_json" in r.output
    assert "row 5" in r.output  # first example names file, row and field
    assert len((q / "events.quarantine.jsonl").read_text().splitlines()) == 7


def test_strict_with_bad_rows_exits_1(fixtures_dir: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["validate", str(_broken(fixtures_dir, tmp_path)), "--strict"])
    assert r.exit_code == EXIT_FOUND_PROBLEM


def test_json_report_is_machine_readable(fixtures_dir: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["validate", str(_broken(fixtures_dir, tmp_path)), "--json"])
    assert r.exit_code == EXIT_OK
    rep = json.loads(r.stdout)
    assert rep["tables"]["events"] == {"rows_read": 11, "rows_ok": 4, "rows_bad": 7}
    assert rep["bad_rows"]["events"]["unknown_account"] == 1
    assert rep["stats"]["models"] == {"m-large": 1, "m-mini": 3}


def test_missing_required_column_exits_1(write_dataset: WriteDataset) -> None:
    rows = [{k: v for k, v in event(i).items() if k != "model"} for i in range(3)]
    r = runner.invoke(app, ["validate", str(write_dataset(rows))])
    assert r.exit_code == EXIT_FOUND_PROBLEM
    assert "model" in r.output and "events.jsonl" in r.output


def test_unreadable_input_exits_3(write_dataset: WriteDataset, tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate", str(tmp_path / "nope")]).exit_code == EXIT_INPUT
    d = write_dataset([event(1)], fmt="jsonl.gz")
    (d / "events.jsonl.gz").write_bytes(b"\x1f\x8b not gzip")
    r = runner.invoke(app, ["validate", str(d)])
    assert r.exit_code == EXIT_INPUT
    assert "events.jsonl.gz" in r.output
