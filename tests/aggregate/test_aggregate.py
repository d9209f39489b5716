"""Stage 2: template families and account features, as dataframe operations."""

from __future__ import annotations

import datetime as dt

import polars as pl

from distillguard.aggregate.features import account_features
from distillguard.aggregate.templates import resolve_templates
from distillguard.enrich import enrich_frame

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _ev(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame({
        "event_id": [f"e{i}" for i in range(len(rows))],
        "ts": [T0 + dt.timedelta(minutes=m) for _, _, m in rows],
        "account_id": [a for a, _, _ in rows], "model": ["m"] * len(rows),
        "prompt": [p for _, p, _ in rows], "input_tokens": [10] * len(rows),
        "output_tokens": [100] * len(rows), "user_agent": ["python-requests/2"] * len(rows),
    })


def _templated(n_accounts: int, per: int) -> list[tuple[str, str, int]]:
    return [(f"op{a}", f"Answer question {a * 100 + i} about topic X with full reasoning, "
             f"payload {a}-{i}", i) for a in range(n_accounts) for i in range(per)]


def test_repeated_greeting_is_not_a_template_but_varied_payload_is() -> None:
    rows = [(f"u{i}", "hi", i) for i in range(30)] + _templated(6, 5)
    narrow, _ = enrich_frame(_ev(rows))
    ev, fams = resolve_templates(narrow.lazy())
    out = ev.collect()
    assert fams.height >= 1  # head and tail skeleton of the one template
    assert fams.get_column("n_accounts").to_list() == [6] * fams.height
    assert out.filter(pl.col("account_id").str.starts_with("u"))["template_id"].null_count() == 30
    assert out.filter(pl.col("account_id").str.starts_with("op"))["template_id"].null_count() == 0


def test_account_features_templates_volume_and_every_account() -> None:
    rows = [(f"u{i}", f"a unique question {i}", i) for i in range(5)] + _templated(6, 5)
    narrow, sample = enrich_frame(_ev(rows))
    ev, fams = resolve_templates(narrow.lazy())
    accounts = pl.DataFrame({
        "account_id": [f"u{i}" for i in range(5)] + [f"op{a}" for a in range(6)] + ["idle"],
        "created_at": [T0 - dt.timedelta(days=1)] * 12, "tier": ["free"] * 12,
    })
    releases = pl.DataFrame(schema={"model": pl.String, "released_at": pl.Datetime("us", "UTC")})
    feats, rows_cls = account_features(ev, fams, sample, accounts, releases)
    assert feats.height == 12
    f = {r["account_id"]: r for r in feats.iter_rows(named=True)}
    assert f["op0"]["templated_share"] == 1.0
    assert f["op0"]["wide_family_share"] == 1.0
    assert f["u0"]["templated_share"] == 0.0
    assert f["op0"]["n_events"] == 5
    assert f["idle"]["n_events"] == 0
    assert f["op0"]["automation_ua_share"] == 1.0
    assert rows_cls.height > 0
