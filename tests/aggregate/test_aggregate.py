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


def test_template_features_from_family_counts() -> None:
    """Distinct families, top family (ties: smallest id) and its share, wide-family share
    and widest family, per account, as defined over the account's events."""
    from distillguard.aggregate.features import behaviour_features

    # a: families 7 x2, 5 x2, 9 x1 and one untemplated event; b: none; c: family 9 x3
    tpl = [7, 7, 5, 5, 9, None, None, 9, 9, 9]
    acc = ["a"] * 6 + ["b"] + ["c"] * 3
    ev = pl.DataFrame({
        "account_id": acc,
        "ts": [T0 + dt.timedelta(minutes=i) for i in range(len(acc))],
        "model": ["m"] * len(acc), "user_agent": ["curl/8"] * len(acc),
        "client_ip": ["1.2.3.4"] * len(acc), "prompt_hash": list(range(len(acc))),
        "template_id": tpl, "input_tokens": [1] * len(acc), "output_tokens": [1] * len(acc),
        "max_tokens": [None] * len(acc), "temperature": [None] * len(acc),
        "status": [200] * len(acc), "prompt_chars": [5] * len(acc),
        "system_prompt_hash": [None] * len(acc), "n_tools": [0] * len(acc),
    }, schema_overrides={"template_id": pl.UInt64, "prompt_hash": pl.UInt64,
                         "system_prompt_hash": pl.UInt64, "max_tokens": pl.Int64,
                         "temperature": pl.Float64, "model": pl.Categorical,
                         "user_agent": pl.Categorical})
    families = pl.DataFrame({"template_id": [5, 7, 9], "n_accounts": [6, 2, 5]},
                            schema={"template_id": pl.UInt64, "n_accounts": pl.UInt32})
    f = {r["account_id"]: r for r in
         behaviour_features(ev.lazy(), families).collect().iter_rows(named=True)}
    assert (f["a"]["n_templates"], f["a"]["top_template"]) == (3, 5)
    assert f["a"]["top_template_share"] == 2 / 6
    assert f["a"]["wide_family_share"] == 3 / 6  # families 5 and 9 have >= 5 accounts
    assert f["a"]["max_family_accounts"] == 6
    assert (f["b"]["n_templates"], f["b"]["top_template"]) == (0, None)
    assert f["b"]["top_template_share"] is None
    assert (f["b"]["wide_family_share"], f["b"]["max_family_accounts"]) == (0.0, 0)
    assert (f["c"]["n_templates"], f["c"]["top_template"], f["c"]["top_template_share"]) \
        == (1, 9, 1.0)


def test_account_facts_pass_the_declared_organisation_through() -> None:
    """Signals read customer-level facts over an organisation (release_pivot, round 5):
    the feature rows carry ``org_id``, null for accounts without one or without the column."""
    from distillguard.aggregate.features import account_facts

    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    acc = pl.DataFrame({"account_id": ["a", "b", "c"], "created_at": [t, t, t],
                        "org_id": ["org-1", "org-1", None]})
    got = account_facts(acc).collect()
    assert got.schema["org_id"] == pl.String
    assert got.sort("account_id")["org_id"].to_list() == ["org-1", "org-1", None]
    bare = account_facts(acc.drop("org_id")).collect()
    assert bare["org_id"].null_count() == 3 and bare.schema["org_id"] == pl.String
