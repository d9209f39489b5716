"""One conformance suite over every registered signal (sklearn's parametrize_with_checks
spirit): determinism, empty input, bounds, missing columns, examples, evidence."""

from __future__ import annotations

import polars as pl
import pytest

from distillguard.signals import BUILTIN, Signal

SIGNALS = [cls() for cls in BUILTIN.values()]
IDS = [s.name for s in SIGNALS]


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None)


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_examples_behave(sig: Signal) -> None:
    pos, neg = sig.examples()
    assert pos and neg, "every signal ships positive and negative examples"
    s_pos = sig.checked_strengths(_frame(pos)).to_list()
    s_neg = sig.checked_strengths(_frame(neg)).to_list()
    assert s_pos[-1] > max(s_neg)
    assert s_pos[-1] >= 0.5


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_strengths_bounded_and_deterministic(sig: Signal) -> None:
    pos, neg = sig.examples()
    df = _frame(pos + neg)
    a = sig.checked_strengths(df)
    b = sig.checked_strengths(df)
    assert a.to_list() == b.to_list()
    assert a.is_between(0.0, 1.0).all()
    assert a.len() == df.height


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_empty_input_and_missing_columns(sig: Signal) -> None:
    assert sig.checked_strengths(pl.DataFrame({"account_id": []}, schema={"account_id": pl.String})).len() == 0
    s = sig.checked_strengths(pl.DataFrame({"account_id": ["a", "b"]}))
    assert s.to_list() == [0.0, 0.0]


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_findings_carry_evidence_with_numbers(sig: Signal) -> None:
    pos, _ = sig.examples()
    findings = sig.evaluate(_frame(pos))
    f = [x for x in findings if x.account_id == pos[-1]["account_id"]]
    assert f and f[0].signal == sig.name
    assert 0 < f[0].score <= 1
    assert any(ch.isdigit() for ch in f[0].evidence.text)


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_params_round_trip(sig: Signal) -> None:
    params = sig.get_params()
    assert type(sig)(**params) == sig


def test_names_are_unique_and_stable() -> None:
    assert len(set(IDS)) == len(IDS)
    assert "template_family" in IDS and "reasoning_elicitation" in IDS
