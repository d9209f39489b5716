"""organic_usage: repeated prompts and bursty sessions dampen operation evidence."""

from __future__ import annotations

import polars as pl
import pytest

from distillguard.scoring import score_accounts
from distillguard.signals import load_config
from distillguard.signals.builtin.organic_usage import OrganicUsage


def _strength(**row: object) -> float:
    frame = pl.DataFrame([{"account_id": "a", **row}], infer_schema_length=None)
    return OrganicUsage().strengths(frame)[0]


@pytest.mark.parametrize(("row", "expected"), [
    ({"distinct_prompt_ratio": 0.8, "gap_cv": 1.0, "n_events": 200}, 1.0),   # re-runs
    ({"distinct_prompt_ratio": 1.0, "gap_cv": 6.0, "n_events": 200}, 1.0),   # sessions
    ({"distinct_prompt_ratio": 1.0, "gap_cv": 1.0, "n_events": 200}, 0.0),   # steady, unique
    ({"distinct_prompt_ratio": 0.5, "gap_cv": 6.0, "n_events": 10}, 0.0),    # too few requests
    ({"distinct_prompt_ratio": None, "gap_cv": 1.0, "n_events": 200}, 0.0),  # no prompt text
])
def test_strength(row: dict[str, object], expected: float) -> None:
    assert _strength(**row) == pytest.approx(expected)


def test_explains_operation_away_but_not_content() -> None:
    cfg = load_config()
    base = {"n_events": 500, "n_sampled": 6, "tier": "free", "events_per_day": 50.0,
            "templated_share": 1.0, "wide_family_share": 1.0, "gap_cv": 1.0}
    rows = [
        {"account_id": "steady", **base, "distinct_prompt_ratio": 1.0},
        {"account_id": "reruns", **base, "distinct_prompt_ratio": 0.7},
        {"account_id": "reruns_cot", **base, "distinct_prompt_ratio": 0.7, "cot_share": 1.0},
    ] + [{"account_id": f"n{i}", "n_events": 30, "tier": "free"} for i in range(50)]
    scored, _ = score_accounts(pl.DataFrame(rows, infer_schema_length=None), cfg)
    r = dict(zip(scored["account_id"], scored["operation_evidence"] - scored["dampening"],
                 strict=True))
    raw = dict(zip(scored["account_id"], scored["raw"], strict=True))
    assert r["reruns"] < r["steady"]
    assert raw["reruns_cot"] > raw["reruns"]  # content evidence is untouched
