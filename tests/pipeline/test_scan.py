"""End to end: `distillguard scan` on a small hand-built world."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from distillguard.cli.main import app

runner = CliRunner()


def test_scan_cli_writes_contract_outputs(tiny_world: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["scan", "--input", str(tiny_world), "--output", str(tmp_path)])
    assert res.exit_code == 0, res.output
    acc = pl.read_csv(tmp_path / "accounts.csv")
    for col in ("account_id", "score", "flagged", "cluster_id", "reasons"):
        assert col in acc.columns
    accounts = pl.read_parquet(tiny_world / "accounts.parquet")
    assert set(acc.get_column("account_id")) == set(accounts.get_column("account_id"))
    assert acc.get_column("score").is_between(0, 1).all()
    camps = json.loads((tmp_path / "campaigns.json").read_text())
    assert isinstance(camps, list)
    for c in camps:
        for key in ("campaign_id", "accounts", "first_seen", "last_seen", "n_events", "score",
                    "summary"):
            assert key in c
    assert (tmp_path / "report.html").stat().st_size > 1000


def test_flags_templated_operation_and_spares_hard_negatives(tiny_scan) -> None:
    result, _ = tiny_scan
    acc = result.accounts
    flagged = set(acc.filter(pl.col("flagged")).get_column("account_id"))
    hydra = {a for a in acc.get_column("account_id") if a.startswith("hydra-")}
    assert len(flagged & hydra) >= 0.9 * len(hydra)
    for hard in ("app-000", "batch-000", "eval-0", "eval-1"):
        assert hard not in flagged
    assert all(a.startswith("hydra-") for a in flagged)


def test_every_flagged_account_has_reasons_with_numbers(tiny_scan) -> None:
    result, _ = tiny_scan
    reasons = result.accounts.filter(pl.col("flagged")).get_column("reasons").to_list()
    assert reasons
    for r in reasons:
        assert r and any(ch.isdigit() for ch in r)


def test_campaign_stub_groups_accounts_of_one_template(tiny_scan) -> None:
    result, _ = tiny_scan
    assert result.campaigns
    top = max(result.campaigns, key=lambda c: len(c["accounts"]))
    assert len(top["accounts"]) >= 5
    assert all(a.startswith("hydra-") for a in top["accounts"])


def test_scan_never_reads_labels(tiny_world: Path, tmp_path: Path) -> None:
    from distillguard.pipeline import run_scan

    world = tmp_path / "w"
    shutil.copytree(tiny_world, world)
    (world / "labels.parquet").write_bytes(b"not parquet at all")
    result = run_scan(world)
    assert result.accounts.height > 0


def test_bad_rows_are_quarantined_counted_and_rest_scored(tiny_world: Path, tmp_path: Path) -> None:
    world = tmp_path / "w"
    shutil.copytree(tiny_world, world)
    t = pq.read_table(world / "events.parquet")
    acc = t.column("account_id").to_pylist()
    acc[0] = None  # required field missing
    acc[1] = "no-such-account"
    tok = t.column("input_tokens").to_pylist()
    t = t.set_column(t.schema.get_field_index("account_id"), "account_id",
                     pa.array(acc, pa.string()))
    pq.write_table(t.cast(t.schema), world / "events.parquet")
    out = tmp_path / "out"
    res = runner.invoke(app, ["scan", "--input", str(world), "--output", str(out),
                              "--quarantine", str(tmp_path / "q")])
    assert res.exit_code == 0, res.output
    assert "2 bad rows quarantined" in res.output
    html = (out / "report.html").read_text()
    assert "<b>2</b> rows failed validation" in html
    assert pl.read_csv(out / "accounts.csv").height > 0
    assert len(tok) == t.num_rows
    strict = runner.invoke(app, ["scan", "--input", str(world), "--output", str(out), "--strict"])
    assert strict.exit_code == 1


def test_broken_config_stops_the_scan(tiny_world: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("signals:\n  no_such_signal: {enabled: true}\n")
    res = runner.invoke(app, ["scan", "--input", str(tiny_world), "--output", str(tmp_path / "o"),
                              "--config", str(cfg)])
    assert res.exit_code == 4


def test_scan_degrades_without_prompt_text(tiny_world: Path, tmp_path: Path) -> None:
    from distillguard.pipeline import run_scan

    world = tmp_path / "w"
    shutil.copytree(tiny_world, world)
    ev = pl.read_parquet(world / "events.parquet").drop("prompt", "system_prompt")
    ev.write_parquet(world / "events.parquet")
    result = run_scan(world)
    acc = result.accounts
    assert acc.height == pl.read_parquet(world / "accounts.parquet").height
    assert acc.get_column("score").is_between(0, 1).all()
    assert acc.get_column("templated_share").fill_null(0).max() == 0


def test_scan_reads_jsonl_events(tiny_world: Path, tmp_path: Path) -> None:
    from distillguard.pipeline import run_scan

    world = tmp_path / "w"
    world.mkdir()
    ev = pl.read_parquet(tiny_world / "events.parquet").head(3000)
    ev.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")).write_ndjson(
        world / "events.jsonl")
    shutil.copy(tiny_world / "accounts.parquet", world / "accounts.parquet")
    result = run_scan(world)
    assert result.n_events == 3000
    assert result.report.n_bad == 0
