"""The validation wrapper: the hub's fast path agrees with the deep (stix2.parse) path."""

from __future__ import annotations

import pytest

from distillguard.exchange.admin import definition_objects
from distillguard.stix import sighting, validate_stix

from .stixgen import indicator, random_id

BAD = {
    "indicator without pattern": lambda: {k: v for k, v in indicator(1).items() if k != "pattern"},
    "labels not a list": lambda: {**indicator(2), "labels": "evil"},
    "ref not an id": lambda: {**sighting(random_id(), reporter_identity=None), "sighting_of_ref": "x"},
    "marking ref to identity": lambda: {**indicator(3), "object_marking_refs": [random_id("identity")]},
    "revoked not bool": lambda: {**indicator(4), "revoked": "yes"},
    "relationship without target": lambda: {
        "type": "relationship", "spec_version": "2.1", "id": random_id("relationship"),
        "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
        "relationship_type": "uses", "source_ref": random_id(),
    },
    "pattern shape reused with broken literal": lambda: {
        **indicator(5), "pattern": "[ipv4-addr:value ISSUBSET '10.0.0.0/24' AND ]"
    },
    "invalid month": lambda: {**indicator(6), "valid_from": "2026-13-01T00:00:00Z"},
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_fast_and_deep_paths_both_reject(name: str) -> None:
    obj = BAD[name]()
    fast, deep = validate_stix(obj), validate_stix(obj, deep=True)
    assert not fast.valid and fast.errors
    assert not deep.valid


def test_good_objects_pass_both_paths() -> None:
    for obj in [indicator(i) for i in range(3)] + definition_objects() + [
        sighting(random_id(), reporter_identity=random_id("identity"), count=2)
    ]:
        assert validate_stix(obj).valid, validate_stix(obj).errors
        assert validate_stix(obj, deep=True).valid


def test_pattern_memo_still_rejects_a_bad_pattern_of_a_known_shape() -> None:
    ok = indicator(10)
    assert validate_stix(ok).valid  # shape now memoised
    bad_type = {**ok, "pattern": ok["pattern"].replace("ipv4-addr", "ipv4_addr")}
    assert not validate_stix(bad_type).valid
    escaped = {**ok, "pattern": "[ipv4-addr:value ISSUBSET '10.0.0.0/24\\q']"}
    assert not validate_stix(escaped).valid


def test_builders_make_valid_privacy_preserving_indicators() -> None:
    from distillguard.stix import (
        DISTILLATION_EXTENSION_ID,
        hashed_identifier_indicator,
        network_indicator,
        template_sketch_indicator,
    )

    acc = hashed_identifier_indicator(
        "model-api-account", ["ab" * 32, "cd" * 32], key_id="forum", epoch="2026-11",
        name="cluster C17 accounts", targeted_model="frontier-1", cluster_size=412,
    )
    tpl = template_sketch_indicator(
        "c17-t3", list(range(1, 129)), key_id="forum", epoch="2026-11", name="C17 template"
    )
    net = network_indicator(["203.0.113.0/24", "2001:db8::/32"], name="C17 proxies")
    for obj in (acc, tpl, net):
        report = validate_stix(obj, deep=True)
        assert report.valid, report.errors
    assert acc["extensions"][DISTILLATION_EXTENSION_ID]["hashes"]["epoch"] == "2026-11"
    assert tpl["extensions"][DISTILLATION_EXTENSION_ID]["sketch"]["num_perm"] == 128
    with pytest.raises(ValueError):
        hashed_identifier_indicator(
            "model-api-account", ["acct-123"], key_id="k", epoch="e", name="raw id"
        )
