"""The README's main job, end to end at a tiny scale: every stage's real code path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from distillguard.cli.main import app


def test_demo_runs_every_stage_and_writes_contract_outputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--scale", "0.01",
                                      "--labs", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    demo = json.loads((out / "demo.json").read_text())
    rows = demo["labs"]
    assert len(rows) == 2
    for r in rows:
        assert r["valid"] and r["bad_rows"] == 0
        scan = Path(r["scan"])
        with (scan / "accounts.csv").open() as fh:
            accounts = list(csv.DictReader(fh))
        # the contract: one row per input account, scores in [0, 1], flagged booleans
        assert len(accounts) == r["accounts"] > 0
        assert all(0.0 <= float(a["score"]) <= 1.0 for a in accounts)
        assert {a["flagged"] for a in accounts} <= {"true", "false"}
        assert all(a["reasons"] for a in accounts if a["flagged"] == "true")
        campaigns = json.loads((scan / "campaigns.json").read_text())
        assert isinstance(campaigns, list)
        for c in campaigns:
            assert {"campaign_id", "accounts", "first_seen", "last_seen", "n_events", "score",
                    "summary"} <= set(c)
        assert (scan / "report.html").stat().st_size > 1000
    assert "<table>" in (out / "index.html").read_text()
    # the sharing half: indicators crossed a real (local) hub, and no raw customer value did
    story = demo["story"]
    assert story["published"] > 0 and story["wire_requests"] > 0
    assert story["leak_findings"] == 0
    assert {r["lab"] for r in story["campaigns"]} <= {r["lab"] for r in rows}
    for r in story["campaigns"]:
        assert 0.0 <= r["recall_without"] <= r["recall_with"] <= 1.0
