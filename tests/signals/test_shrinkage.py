"""Empirical-Bayes shrinkage: shares measured on few requests are weak evidence."""

from __future__ import annotations

import polars as pl
import pytest

from distillguard.signals.base import shrunk
from distillguard.signals.builtin.template_family import TemplateFamily


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None)


def test_shrunk_pulls_small_counts_towards_the_population_median() -> None:
    # population: 20 accounts with no templated traffic, then 8/10 and 800/1,000 templated
    rows = [{"share": 0.0, "n": 50} for _ in range(20)]
    rows += [{"share": 0.8, "n": 10}, {"share": 0.8, "n": 1000}, {"share": 0.8, "n": 0}]
    out = _frame(rows).select(shrunk(pl.col("share"), pl.col("n"), 10.0)).to_series().to_list()
    assert out[20] == pytest.approx(0.4)  # (8 + 10 * 0) / (10 + 10)
    assert out[21] == pytest.approx(800 / 1010)
    assert out[22] == pytest.approx(0.0)  # no traffic: the prior alone
    assert out[0] == pytest.approx(0.0)


def test_shrunk_uses_the_median_share_of_accounts_with_traffic() -> None:
    rows = [{"share": 0.5, "n": 40}, {"share": 0.5, "n": 40}, {"share": 0.1, "n": 40},
            {"share": 1.0, "n": 0}, {"share": 0.0, "n": 4}]
    out = _frame(rows).select(shrunk(pl.col("share"), pl.col("n"), 4.0)).to_series().to_list()
    # p0 = median(0.5, 0.5, 0.1, 0.0) = 0.3; the n=0 account is not part of the population
    assert out[4] == pytest.approx((0.0 * 4 + 4 * 0.3) / 8)


def test_shrunk_is_identity_without_a_prior() -> None:
    df = _frame([{"share": 0.9, "n": 3}, {"share": 0.0, "n": 100}])
    out = df.select(shrunk(pl.col("share"), pl.col("n"), 0.0)).to_series().to_list()
    assert out == [0.9, 0.0]


def test_template_family_trusts_many_templated_requests_more_than_a_few() -> None:
    fleet = {"templated_share": 0.9, "wide_family_share": 0.9, "fresh_wide_family_share": 0.9,
             "top_template_share": 0.5, "max_family_accounts": 50, "top_template": 1}
    rows = [{"account_id": f"b{i}", "templated_share": 0.0, "wide_family_share": 0.0,
             "fresh_wide_family_share": 0.0, "n_events": 40} for i in range(30)]
    rows += [{"account_id": "few", **fleet, "n_events": 12},
             {"account_id": "many", **fleet, "n_events": 1200}]
    s = dict(zip([r["account_id"] for r in rows],
                 TemplateFamily(prior_requests=5).strengths(_frame(rows)).to_list(),
                 strict=True))
    assert s["many"] == pytest.approx(0.9, abs=0.01)
    assert 0.3 < s["few"] < 0.75 * s["many"]
    plain = dict(zip([r["account_id"] for r in rows],
                     TemplateFamily(prior_requests=0).strengths(_frame(rows)).to_list(),
                     strict=True))
    assert plain["few"] == pytest.approx(plain["many"])
