from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillguard.errors import ConfigError
from distillguard.graph import link_accounts, summarize_campaigns
from distillguard.graph.attribution import load_watchlist


def test_watchlist_links_campaign_to_actor_with_evidence(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wl = tmp_path / "wl.yaml"
    wl.write_text(
        "actors:\n"
        "  - name: ACTOR-LANTERN\n"
        "    source: case-14\n"
        "    indicators:\n"
        "      - {kind: ip, value: 203.0.0.0/16}\n"
        "      - {kind: email_domain, value: MX00.example}\n"
        "  - name: ACTOR-NOBODY\n"
        "    indicators:\n"
        "      - {kind: ip_block, value: 192.0.2.0/24}\n"
    )
    res = link_accounts(world.events, world.accounts, world.scores, watchlist=wl)
    camps = summarize_campaigns(res, world.events, world.accounts, None)
    by_actor = {a["actor"]: c for c in camps for a in c["attribution"]}
    assert set(by_actor) == {"ACTOR-LANTERN"}
    att = by_actor["ACTOR-LANTERN"]["attribution"][0]
    assert att["source"] == "case-14"
    kinds = {e["kind"] for e in att["evidence"]}
    assert kinds == {"ip", "email_domain"}
    assert all(e["n_accounts"] > 0 for e in att["evidence"])
    assert "ACTOR-LANTERN" in by_actor["ACTOR-LANTERN"]["summary"]


def test_json_watchlist_and_bad_files(tmp_path: Path) -> None:
    ok = tmp_path / "wl.json"
    ok.write_text(
        json.dumps({"actors": [{"name": "X", "indicators": [{"kind": "asn", "value": 64500}]}]})
    )
    actors = load_watchlist(ok)
    assert actors[0].indicators[0].value == "64500"
    for text in (
        "actors: 3\n",
        "actors:\n  - {indicators: []}\n",
        "actors:\n  - name: X\n    indicators:\n      - {kind: shoe_size, value: 9}\n",
        "{{{",
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigError):
            load_watchlist(bad)
    with pytest.raises(ConfigError):
        load_watchlist(tmp_path / "missing.yaml")
