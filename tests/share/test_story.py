from __future__ import annotations

from pathlib import Path

import polars as pl

from distillguard.share.story import run_story


def test_three_lab_story_runs_and_nothing_raw_crosses_the_wire(sim_world3: Path,
                                                                tmp_path: Path) -> None:
    res = run_story(sim_world3, tmp_path / "story", days=(10, 28))
    assert res.published > 0 and res.wire_bodies > 0 and res.wire_bytes > 1000
    assert res.wire_findings == 0
    labels = pl.concat([pl.read_parquet(sim_world3 / lab / "labels.parquet")
                        .filter(pl.col("label") == "distillation")
                        .select("campaign").unique().with_columns(pl.lit(lab).alias("lab"))
                        for lab in ("lab-aurora", "lab-corvid", "lab-lumen")])
    assert res.table.height == labels.height  # one row per campaign present at a lab
    assert res.table["recall_with"].is_between(0, 1).all()
    assert res.benign.height == 3
    # the publication reached each partner over the push channel and was matched there
    assert res.latency_s and all(x > 0 for x in res.latency_s)
    assert {"first_pub_h", "pub_to_flag_s", "own_first"} <= set(res.table.columns)
    # with sharing a lab never flags later than without it
    both = res.table.drop_nulls(["ttd_h_without", "ttd_h_with"])
    assert (both["ttd_h_with"] <= both["ttd_h_without"]).all()
    assert (res.table["recall_with"] >= res.table["recall_without"]).all()
    text = (tmp_path / "story" / "story.md").read_text()
    assert "time to detect" in text and "leak-guard findings: 0" in text
    assert "flag after publication" in text and "Live path" in text
    # labs report what matched their flagged accounts back as sightings (counts only)
    assert res.sightings > 0 and res.sighted_accounts >= res.sightings
    assert "Sightings sent back to the hub" in text
    assert res.fp_reports >= 0 and "False-positive reports sent" in text
