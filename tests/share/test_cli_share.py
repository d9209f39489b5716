from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
from typer.testing import CliRunner, Result

from distillguard.cli.main import app
from distillguard.share.store import IndicatorStore

runner = CliRunner()


def _fake_scan(world: Path, lab: str, out: Path) -> None:
    """A scan output directory whose campaigns are the lab's known ones (test only)."""
    labels = pl.read_parquet(world / lab / "labels.parquet")
    out.mkdir(parents=True)
    camps = [
        {"campaign_id": f"C-{n}", "accounts": g["account_id"].to_list(),
         "first_seen": "2026-01-05T00:00:00+00:00", "last_seen": "2026-01-30T00:00:00+00:00",
         "n_events": 100, "score": 0.9, "summary": ""}
        for (n,), g in labels.filter(pl.col("label") == "distillation").group_by(["campaign"])
    ]
    (out / "campaigns.json").write_bytes(orjson.dumps(camps))
    labels.select("account_id", pl.lit(0.1).alias("score"), pl.lit(False).alias("flagged"),
                  pl.lit("").alias("cluster_id"), pl.lit("").alias("reasons")
                  ).write_csv(out / "accounts.csv")


def _dry_run_publish(world: Path, tmp_path: Path) -> tuple[Path, Path, Result]:
    """`share keygen`, then `share publish --dry-run` of lab-aurora's known campaigns
    into a bundle file: (keyring, bundle, the publish command's result)."""
    ring = tmp_path / "keyring.yaml"
    r = runner.invoke(app, ["share", "keygen", "--out", str(ring), "--key-id", "forum",
                            "--epoch", "2026-01"])
    assert r.exit_code == 0, r.output
    policy = tmp_path / "policy.yaml"
    policy.write_text("collection: col-1\nmin_confidence: 50\nmin_cluster_size: 2\n")
    _fake_scan(world, "lab-aurora", tmp_path / "scan-a")
    bundle = tmp_path / "bundle.json"
    r = runner.invoke(app, ["share", "publish", "--input", str(world / "lab-aurora"),
                            "--scan", str(tmp_path / "scan-a"), "--policy", str(policy),
                            "--keyring", str(ring), "--dry-run", "--bundle-out", str(bundle)])
    assert r.exit_code == 0, r.output
    return ring, bundle, r


def test_cli_keygen_publish_dry_run_and_match(sim_world3: Path, tmp_path: Path) -> None:
    ring, bundle, r = _dry_run_publish(sim_world3, tmp_path)
    assert "would leave the lab" in r.output and "leak guard: no raw" in r.output
    assert "dry run: nothing sent" in r.output
    objs = orjson.loads(bundle.read_bytes())["objects"]
    assert objs and all(o["type"] in ("indicator", "grouping") for o in objs)

    store = tmp_path / "store.db"
    st = IndicatorStore(store)
    st.add(objs, "col-1")
    st.close()
    _fake_scan(sim_world3, "lab-corvid", tmp_path / "scan-c")
    r = runner.invoke(app, ["share", "match", "--input", str(sim_world3 / "lab-corvid"),
                            "--scan", str(tmp_path / "scan-c"), "--store", str(store),
                            "--keyring", str(ring), "--output", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    out = pl.read_csv(tmp_path / "out" / "accounts.csv")
    assert {"share_boost", "share_reasons", "score", "flagged"} <= set(out.columns)
    assert (out["share_boost"] > 0).sum() > 0


def test_cli_publish_errors_are_clean(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("tlp: purple\n")
    ring = tmp_path / "k.yaml"
    runner.invoke(app, ["share", "keygen", "--out", str(ring), "--key-id", "f", "--epoch", "e"])
    r = runner.invoke(app, ["share", "publish", "--input", str(tmp_path), "--scan",
                            str(tmp_path), "--policy", str(bad), "--keyring", str(ring)])
    assert r.exit_code == 1 and "tlp" in r.output
