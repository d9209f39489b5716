from __future__ import annotations

import hashlib

import orjson
import polars as pl
import pytest

from distillguard.share.errors import LeakError
from distillguard.share.leakguard import LeakGuard
from distillguard.share.policy import Policy
from distillguard.share.publish import build_publication, render_dry_run
from distillguard.stix import extension_body, validate_stix

from . import frames as F

POLICY = Policy(collection="col-1", min_confidence=50, min_cluster_size=3,
                raw_asns=frozenset({14061}))


def _pub(policy: Policy = POLICY, **kw: object):  # type: ignore[no-untyped-def]
    return build_publication([F.campaign(**kw)], F.accounts(), F.events(), policy=policy,  # type: ignore[arg-type]
                             keyring=F.ring(), identity=None, skeletons=F.skeletons())


def _guard(policy: Policy = POLICY) -> LeakGuard:
    return LeakGuard.from_frames(F.accounts(), F.events(), policy,
                                 prompts=pl.Series([F.PROMPT, "hello there, how are you today?"]))


def test_publication_shares_only_what_the_campaign_owns() -> None:
    pub = _pub()
    kinds = {(o.signal_type, o.form) for o in pub.outbound}
    assert ("payment-fingerprint", "keyed-hash") in kinds
    assert ("email-domain", "keyed-hash") in kinds
    assert ("prompt-template", "sketch") in kinds
    assert ("network-infrastructure", "raw") in kinds  # the allowed datacenter block
    assert ("network-infrastructure", "keyed-hash") in kinds  # the campaign's own block
    assert ("cluster-summary", "summary") in kinds
    by_type = {o.signal_type: o for o in pub.outbound if o.form != "raw"}
    # webmail domains and the shared cloud egress are not owned by the campaign
    assert by_type["email-domain"].n_values == 1
    assert by_type["network-infrastructure"].n_values == 1
    raw = next(o for o in pub.outbound if o.form == "raw")
    assert raw.raw_values == ("203.0.113.0/24",)
    for obj in pub.objects:
        report = validate_stix(obj)
        assert report.valid, report.errors
    ext = extension_body(by_type["prompt-template"].obj)
    assert ext["sketch"]["num_perm"] == 64 and ext["hashes"]["epoch"] == "2026-02"
    assert not _guard().scan(orjson.dumps(pub.bundle()))


def test_policy_gates_confidence_size_and_signal_types() -> None:
    assert not _pub(score=0.3).outbound  # confidence 30 < 50
    small = build_publication([F.campaign(accounts_=F.CAMPAIGN[:2])], F.accounts(), F.events(),
                              policy=POLICY, keyring=F.ring())
    assert not small.outbound and "accounts < 3" in small.skipped[0][1]
    only = Policy(collection="c", signal_types=("payment-fingerprint",), min_confidence=0)
    assert {o.signal_type for o in _pub(only).outbound} == {"payment-fingerprint"}
    # without an allow-listed ASN the datacenter block leaves hashed, never raw
    no_raw = Policy(collection="c", min_confidence=0)
    assert all(o.form != "raw" for o in _pub(no_raw).outbound)


def test_dry_run_view_lists_every_object_and_raw_value() -> None:
    pub = _pub()
    text = render_dry_run(pub)
    assert f"{len(pub.outbound)} objects would leave" in text
    assert "raw: 203.0.113.0/24" in text
    assert F.CARD not in text and F.DOMAIN not in text


def _leaky(mutate) -> bytes:  # type: ignore[no-untyped-def]
    objs = _pub().objects
    mutate(objs[0])
    return orjson.dumps({"objects": objs})


LEAKS = {
    "account id": lambda o: o.update(description=f"seen on {F.CAMPAIGN[1]}"),
    "e-mail domain": lambda o: o.update(labels=["distillation", F.DOMAIN.upper()]),
    "payment fingerprint": lambda o: o.update(name=f"card {F.CARD}"),
    "ip": lambda o: o.update(pattern="[ipv4-addr:value = '198.51.100.12']"),
    "ip block": lambda o: o.update(pattern="[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
    "unkeyed sha256": lambda o: o.update(
        description=hashlib.sha256(F.CAMPAIGN[0].encode()).hexdigest()),
    "prompt n-gram": lambda o: o.update(
        description="template: solve the following olympiad problem and show every step"),
    "template label": lambda o: o.update(labels=[f"T{F.TEMPLATE & 0xFFFFFFFF:08x}"]),
    "org id in extension": lambda o: o["extensions"].update(x_org="org-3"),
}


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_leak_guard_refuses_deliberately_leaky_bundles(kind: str) -> None:
    guard = _guard()
    body = _leaky(LEAKS[kind])
    assert guard.scan(body), kind
    with pytest.raises(LeakError) as err:
        guard.enforce(body)
    # the error masks values: it never echoes the whole leaked string
    assert F.CARD not in str(err.value) and all(F.CARD not in f.excerpt
                                                 for f in err.value.findings)  # type: ignore[attr-defined]


def test_leak_guard_allows_policy_infrastructure_and_clean_text() -> None:
    guard = _guard()
    ok = _leaky(lambda o: o.update(pattern="[ipv4-addr:value = '203.0.113.7']",
                                   description="campaign uses a hosting provider block"))
    assert guard.scan(ok) == []
    # without the allow-list the same datacenter address is a customer IP
    strict = _guard(Policy(collection="c"))
    assert strict.scan(ok)
