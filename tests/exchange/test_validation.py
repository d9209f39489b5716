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
    "null spec_version": lambda: {**indicator(7), "spec_version": None},
    "null optional property": lambda: {**indicator(8), "description": None},
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


def _corpus() -> list[dict]:
    """Objects of many types, each given the properties the skipped checks look at."""
    ident = random_id("identity")
    md = random_id("marking-definition")
    return [
        indicator(20),
        {**indicator(21), "lang": "en"},
        {**indicator(22), "lang": "xx-not-a-language"},
        {**indicator(23), "granular_markings": [{"marking_ref": md, "selectors": ["nope"]}]},
        {**indicator(24), "granular_markings": [{"marking_ref": md, "selectors": ["name"]}]},
        {"type": "marking-definition", "spec_version": "2.1", "id": md,
         "created": "2026-01-01T00:00:00Z", "definition_type": "statement",
         "definition": {"statement": "x"}, "object_marking_refs": [md],
         "granular_markings": [{"marking_ref": md, "selectors": ["definition"]}]},
        {"type": "language-content", "spec_version": "2.1",
         "id": random_id("language-content"), "created": "2026-01-01T00:00:00Z",
         "modified": "2026-01-01T00:00:00Z", "object_ref": ident,
         "contents": {"not a language": {"BAD KEY!": "x"}, "de": {"name": "y"}}},
        {"type": "process", "spec_version": "2.1",
         "id": "process--1d4b5d2c-1a4b-11ef-9c6f-0242ac120002", "pid": 4},
        {"type": "user-account", "spec_version": "2.1",
         "id": "user-account--1d4b5d2c-1a4b-11ef-9c6f-0242ac120002"},
        {"type": "software", "spec_version": "2.1",
         "id": random_id("software"), "name": "x", "cpe": "not-a-cpe", "languages": ["zz"]},
        {"type": "software", "spec_version": "2.1", "id": random_id("software"), "name": "y",
         "cpe": "cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*"},
        {"type": "artifact", "spec_version": "2.1", "id": random_id("artifact"),
         "mime_type": "not/a-mime", "url": "http://example.com/x"},
        {"type": "directory", "spec_version": "2.1", "id": random_id("directory"),
         "path": "/tmp", "path_enc": "NOT-A-CHARSET"},
        {"type": "observed-data", "spec_version": "2.1", "id": random_id("observed-data"),
         "created": "2026-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z",
         "first_observed": "2026-01-02T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z",
         "number_observed": 1, "object_refs": [random_id("ipv4-addr")]},
        *definition_objects(),
    ]


def test_guarded_check_runner_reports_what_the_validators_own_runner_reports() -> None:
    """``_applicable`` may only skip checks that would have yielded nothing."""
    from stix2validator import validator as v

    from distillguard.stix import validation as dv

    for obj in _corpus():
        ours = [v.pretty_error(e, False) for e in dv._iter_errors(obj, dv._OTHER_MUSTS)]
        ours += [v.pretty_error(e, False) for e in dv._iter_errors(obj, dv._PATTERN_MUSTS)]
        theirs = [v.pretty_error(e, False) for e in v._iter_errors_custom(obj, dv._MUSTS, dv._OPTS)]
        assert sorted(ours) == sorted(theirs), obj["type"]
    # the corpus does exercise the guarded checks: some of them report errors
    flagged = {o["type"] for o in _corpus() if dv._must_errors(o)}
    assert {"language-content", "process", "user-account", "indicator"} <= flagged


def test_timestamp_memo_still_rejects_what_the_checks_reject() -> None:
    ok = indicator(40)
    assert validate_stix(ok).valid and validate_stix({**indicator(41)}).valid  # memoised
    before = {**indicator(42), "valid_until": "2025-01-01T00:00:00Z"}  # until < from
    assert not validate_stix(before).valid
    assert not validate_stix({**indicator(43), "modified": "2020-01-01T00:00:00Z"}).valid
    # same timestamps as a memoised object, but a property another check reads
    assert not validate_stix({**indicator(44), "lang": "xx-not-a-language"}).valid
    # a known-good key never vouches for a differently typed object
    from distillguard.stix import validation as dv

    assert dv._timestamp_key(ok) != dv._timestamp_key({**ok, "type": "malware"})


def test_plain_shape_path_gives_the_literal_regex_shape() -> None:
    """Patterns without t'' b'' h'' literals take a plain substitution: same shape."""
    from distillguard.stix import validation as dv

    patterns = [
        "[ipv4-addr:value ISSUBSET '10.0.0.0/24']",
        "[domain-name:value = 'a' OR domain-name:value = 'b''c']",
        "[file:hashes.MD5 = h'ab'] AND [file:name = 'x']",  # h'' kept verbatim
        "[artifact:payload_bin = b'AAAA']",
        "[x:ts = t'2026-01-01T00:00:00Z' AND x:pat = 'a']",
        "[x:path = 'unterminated]",
        "",
    ]
    for pattern in patterns:
        obj = {"type": "indicator", "pattern_type": "stix", "pattern": pattern}
        shape = dv._pattern_shape(obj)
        assert shape is not None
        expected = dv._LITERAL.sub(lambda m: m.group(0) if m.group(1) else "''", pattern)
        assert shape[0] == expected, pattern


def test_reference_memo_never_vouches_for_a_bad_reference() -> None:
    from distillguard.stix import _schema

    good = random_id("identity")
    ok = {**indicator(60), "created_by_ref": good}
    assert validate_stix(ok).valid and good in _schema._GOOD_REFS  # now memoised
    for bad in (good.upper(), good + "\n", good[:-1], "identity--x"):
        assert not validate_stix({**indicator(61), "created_by_ref": bad}).valid, bad

    class Odd(str):  # a str subclass may hash/compare differently: never memoised
        pass

    assert _schema._is_ref(Odd(good))
    assert not any(type(k) is not str for k in _schema._GOOD_REFS)


def test_timestamp_memo_eligibility_follows_embedded_observables() -> None:
    """observed-data's eligibility also reads ``objects``: never cached across objects."""
    from distillguard.stix import validation as dv

    plain = {
        "type": "observed-data", "spec_version": "2.1", "id": random_id("observed-data"),
        "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
        "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z",
        "number_observed": 1, "object_refs": [random_id("ipv4-addr")],
    }
    embedded = {k: v for k, v in plain.items() if k != "object_refs"}
    embedded["objects"] = {"0": {"type": "ipv4-addr", "value": "1.2.3.4"}}
    for _ in range(2):  # either order, twice
        assert dv._timestamp_key(plain) is not None
        assert dv._timestamp_key(embedded) is None
