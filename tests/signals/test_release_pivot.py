"""release_pivot reads an organisation's pivot over its accounts (round 5, docs/detection.md):
inside a declared organisation the model is one customer's choice (IT switches the default),
so which seats happened to use the new model on its first day is not evidence about each
seat: a seat's pivot is capped at its organisation's, and never raised by it (a seat that
moved nothing gets nothing from org-mates that did). Accounts without an organisation,
and organisations with too few accounts active around the release, are read on their own
as before."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from distillguard.signals.builtin.release_pivot import ReleasePivot


def _row(aid: str, org: str | None, share: float | None, hours: float | None) -> dict[str, Any]:
    return {"account_id": aid, "org_id": org, "pivot_share": share, "pivot_hours": hours,
            "pivot_model": None if share is None else "m2"}


def _strengths(rows: list[dict[str, Any]], **kw: Any) -> dict[str, float]:
    f = pl.DataFrame(rows, schema={"account_id": pl.String, "org_id": pl.String,
                                   "pivot_share": pl.Float64, "pivot_hours": pl.Float64,
                                   "pivot_model": pl.String})
    s = ReleasePivot(**kw).checked_strengths(f)
    return dict(zip(f["account_id"].to_list(), s.to_list(), strict=True))


def test_a_lone_account_keeps_its_own_pivot() -> None:
    s = _strengths([_row("a", None, 0.9, 3.0), _row("b", None, 0.1, 3.0),
                    _row("c", None, 0.9, 40.0)])
    assert s == {"a": 1.0, "b": 0.0, "c": 0.0}


def test_a_company_whose_seats_drift_to_the_new_model_is_one_weak_pivot() -> None:
    # 12 seats active around the release, 3 happened to move fully within the day
    rows = [_row(f"s{i}", "org-co", 0.9 if i < 3 else 0.0, 5.0 if i < 3 else None)
            for i in range(12)]
    s = _strengths(rows)
    assert s["s0"] == pytest.approx(0.25)  # the seats that moved: the organisation's pivot
    assert s["s11"] == 0.0  # a seat that moved nothing is not raised by those that did


def test_an_honest_customer_in_a_fleets_organisation_gains_nothing() -> None:
    """A reseller declares its accounts under one organisation; the fleet accounts pivot,
    the honest customer it sold one of them to does not."""
    rows = [_row(f"f{i}", "org-reseller", 0.9, 2.0) for i in range(6)]
    rows.append(_row("honest", "org-reseller", 0.0, 30.0))
    s = _strengths(rows)
    assert s["honest"] == 0.0
    assert s["f0"] == pytest.approx(6 / 7)


def test_an_organisation_that_moves_at_once_keeps_the_full_pivot() -> None:
    rows = [_row(f"f{i}", "org-fleet", 0.95, 2.0) for i in range(8)]
    assert set(_strengths(rows).values()) == {1.0}


def test_seats_without_traffic_around_the_release_neither_count_nor_gain() -> None:
    rows = [_row("a", "org-x", 0.9, 3.0), _row("b", "org-x", 0.0, None),
            _row("c", "org-x", 0.0, None), _row("idle", "org-x", None, None)]
    s = _strengths(rows)
    assert s["a"] == pytest.approx(1 / 3) and s["b"] == 0.0 and s["idle"] == 0.0


def test_small_organisations_are_read_per_account() -> None:
    rows = [_row("a", "org-lab", 0.9, 3.0), _row("b", "org-lab", 0.0, None)]
    assert _strengths(rows) == {"a": 1.0, "b": 0.0}
    assert _strengths(rows, min_org_accounts=2) == {"a": 0.5, "b": 0.0}


def test_describe_says_when_the_organisation_was_read() -> None:
    sig = ReleasePivot()
    own = sig.describe(_row("a", None, 0.9, 3.0), 1.0)
    assert "organisation" not in own
    text = sig.describe(_row("s0", "org-co", 0.9, 5.0), 0.25)
    assert "org-co" in text and "0.25 of a full pivot" in text and "own 1.00" in text
