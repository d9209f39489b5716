"""Every simulated dataset follows the traffic-log contract, reproducibly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from distillguard.cli.main import EXIT_CONFIG, app
from distillguard.errors import ConfigError
from distillguard.ingest.schema import ACCOUNTS, EVENTS, LABELS, RELEASES
from distillguard.sim import SCENARIO_DIR, load_scenario, simulate


def _digest(d: Path) -> dict[str, str]:
    return {
        p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*.parquet"))
    }


def test_files_have_the_contract_schemas(world: Path) -> None:
    for table in (EVENTS, ACCOUNTS, RELEASES):
        schema = pq.read_schema(world / f"{table.name}.parquet")
        assert schema.remove_metadata().equals(table.schema), table.name
    labels = pq.read_schema(world / "labels.parquet")
    for f in LABELS.schema:
        assert labels.field(f.name).type == f.type
    assert "persona" in labels.names


def test_validator_accepts_the_world_without_a_bad_row(world: Path) -> None:
    from distillguard.ingest import validate_dataset

    report = validate_dataset(world, strict=True, progress=False)
    assert report.ok, report.to_dict()
    assert report.n_bad == 0


def test_events_are_consistent(world_frames: dict[str, pl.DataFrame]) -> None:
    ev, acc, lab = world_frames["events"], world_frames["accounts"], world_frames["labels"]
    assert ev["event_id"].n_unique() == ev.height
    assert ev["ts"].is_sorted()
    assert set(ev["account_id"].unique()) <= set(acc["account_id"])
    assert set(lab["account_id"]) == set(acc["account_id"])
    rel = world_frames["releases"]
    assert set(ev["model"].unique()) <= set(rel["model"])
    new = rel.sort("released_at")[-1]
    first_new = ev.filter(pl.col("model") == new["model"][0])["ts"].min()
    assert first_new >= new["released_at"][0]
    # billed tokens follow the text; failed requests produce no output
    ok = ev.filter(pl.col("status") == 200)
    single = ok.filter((pl.col("n_messages") == 1) & (pl.col("n_tools") == 0))
    corr = single.select(pl.corr(pl.col("prompt").str.len_bytes(), pl.col("input_tokens")))[0, 0]
    assert corr > 0.9
    hist = ok.filter(pl.col("n_messages") > 3)
    assert (hist["input_tokens"] > hist["prompt"].str.len_bytes() / 4).mean() > 0.9
    assert ev.filter(pl.col("status") != 200)["output_tokens"].sum() == 0
    capped = ok.filter(pl.col("max_tokens").is_not_null())
    assert (capped["output_tokens"] <= capped["max_tokens"]).all()
    # distillation labels name their campaign and actor; benign labels do not
    d = lab.filter(pl.col("label") == "distillation")
    assert d.height > 0 and d["campaign"].null_count() == 0 and d["actor"].null_count() == 0
    assert lab.filter(pl.col("label") == "benign")["campaign"].null_count() == lab.filter(
        pl.col("label") == "benign").height


def test_same_seed_same_bytes_other_seed_other_world(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    simulate(a, scale=0.01, seed=11)
    simulate(b, scale=0.01, seed=11)
    simulate(c, scale=0.01, seed=12)
    assert _digest(a) == _digest(b)
    assert _digest(a)["events.parquet"] != _digest(c)["events.parquet"]


def test_bundled_scenarios_parse_and_differ() -> None:
    d = load_scenario(None)
    h = load_scenario(SCENARIO_DIR / "holdout.yaml")
    assert d.start != h.start and {c.name for c in d.campaigns}.isdisjoint(c.name for c in h.campaigns)
    assert {lab.new_model for lab in d.labs}.isdisjoint(lab.new_model for lab in h.labs)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name: x\nstart: '2026-01-01T00:00:00Z'\ndays: 10\nlabs: []\npersonas: {}\n", "at least one lab"),
        ("name: x\nbogus: 1\n", "unknown key"),
        ("name: x\nstart: '2026-01-01T00:00:00Z'\ndays: 10\nlabs:\n  - {name: a, models: [{name: m}], new_model: n, release_day: 3}\npersonas:\n  nobody: {accounts: 1, events: 1}\n", "unknown persona"),
        (": : :\n", "not valid YAML"),
    ],
)
def test_bad_scenarios_fail_loudly(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_scenario(p)


def test_cli_writes_a_dataset_and_rejects_a_bad_scenario(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), "--scale", "0.01", "--seed", "2"])
    assert r.exit_code == 0, r.output
    assert "events" in r.output
    for name in ("events", "accounts", "releases", "labels"):
        assert (tmp_path / "w" / f"{name}.parquet").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbogus: 1\n")
    r = runner.invoke(app, ["simulate", "--out", str(tmp_path / "v"), "--scale", "0.01", "--scenario", str(bad)])
    assert r.exit_code == EXIT_CONFIG


def test_unknown_knobs_are_rejected(tmp_path: Path) -> None:
    base = (SCENARIO_DIR / "default.yaml").read_text()
    p = tmp_path / "s.yaml"
    p.write_text(base.replace("    raw_share: 0.4\n", "    raw_shar: 0.4\n"))
    with pytest.raises(ConfigError, match="raw_shar"):
        load_scenario(p)
    p.write_text(base.replace("{accounts: 300,  events: 12000}", "{accounts: 300,  events: 12000, actve_p: [0.1, 0.2]}"))
    with pytest.raises(ConfigError, match="actve_p"):
        load_scenario(p)
