"""`scan --intel`: partners' indicators are matched inside the scan itself."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
from typer.testing import CliRunner

from distillguard.cli.main import app
from distillguard.share.store import IndicatorStore

from .test_cli_share import _dry_run_publish

runner = CliRunner()


def _partner_store(world: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Indicators lab-aurora would publish, as lab-corvid's pulled store holds them."""
    ring, bundle, _ = _dry_run_publish(world, tmp_path)
    store = tmp_path / "store.db"
    st = IndicatorStore(store)
    st.add(orjson.loads(bundle.read_bytes())["objects"], "col-1")
    st.close()
    return store, ring


def test_scan_with_partner_intel_raises_matched_accounts_with_reasons(
        sim_world3: Path, tmp_path: Path) -> None:
    store, ring = _partner_store(sim_world3, tmp_path)
    lab = str(sim_world3 / "lab-corvid")
    r = runner.invoke(app, ["scan", "-i", lab, "-o", str(tmp_path / "plain")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["scan", "-i", lab, "-o", str(tmp_path / "shared"),
                            "--intel", str(store), "--keyring", str(ring)])
    assert r.exit_code == 0, r.output
    plain = pl.read_csv(tmp_path / "plain" / "accounts.csv").select("account_id", "score",
                                                                     "flagged")
    shared = pl.read_csv(tmp_path / "shared" / "accounts.csv")
    assert "share_boost" not in plain.columns and "share_boost" in shared.columns
    both = shared.join(plain, on="account_id", suffix="_plain")
    assert both.height == plain.height  # every account still scored exactly once
    hit = both.filter(pl.col("share_boost") > 0)
    assert hit.height > 0
    # a partner match only ever raises a score, and says why
    assert (both["score"] >= both["score_plain"] - 1e-6).all()
    assert hit["share_reasons"].str.len_chars().min() > 0
    assert hit["reasons"].str.contains(hit["share_reasons"].str.slice(0, 20), literal=True).all()
    # nothing the scan flagged on its own is withdrawn
    assert not both.filter(pl.col("flagged_plain") & ~pl.col("flagged")).height


def test_scan_with_missing_intel_store_is_an_input_error(sim_world3: Path,
                                                         tmp_path: Path) -> None:
    r = runner.invoke(app, ["scan", "-i", str(sim_world3 / "lab-corvid"), "-o",
                            str(tmp_path / "o"), "--intel", str(tmp_path / "nope.db")])
    assert r.exit_code == 3
    assert not (tmp_path / "o" / "accounts.csv").exists()
