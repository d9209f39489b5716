"""Hand-built lab frames: one campaign that owns a card, a domain, an IP block and a
template family; honest accounts on webmail, a shared cloud egress and free text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from distillguard.share.keys import KeyRing, new_keyring
from distillguard.share.policy import Policy

if TYPE_CHECKING:
    from distillguard.share.localhub import LocalHub

T0 = datetime(2026, 1, 10, tzinfo=UTC)
CAMPAIGN = [f"acct_evil_{i}" for i in range(4)]
BENIGN = [f"acct_good_{i}" for i in range(6)]
CARD = "545616-0509-79cce3b087"
DOMAIN = "shadyproxy-labs.io"
EVIL_BLOCK_IP = "198.51.100.{}"
PROXY_IP = "203.0.113.{}"  # a known datacenter block the policy allows raw
CLOUD_IP = "192.0.2.{}"  # shared cloud egress, used by everybody
TEMPLATE = 0xABCDEF0123456789
#: STIX identities of a partner lab, a third lab and ours, and a policy that publishes
#: everything (raw blocks of ASN 14061 allowed)
PARTNER = "identity--11111111-1111-4111-8111-111111111111"
OTHER = "identity--22222222-2222-4222-8222-222222222222"
ME = "identity--33333333-3333-4333-8333-333333333333"
POLICY = Policy(collection="col-1", min_confidence=0, raw_asns=frozenset({14061}))
PROMPT = "Please solve the following olympiad problem and show every reasoning step clearly"


def ring(epoch: str = "2026-01") -> KeyRing:
    return new_keyring("forum-test", [epoch, "2026-02"], master=b"m" * 32)


def accounts(prefix: str = "") -> pl.DataFrame:
    ids = [prefix + a for a in CAMPAIGN + BENIGN]
    return pl.DataFrame({
        "account_id": ids,
        "email_domain": [DOMAIN] * 4 + ["gmail.com"] * 6,
        "payment_fingerprint": [CARD] * 3 + [None] + [f"4111-{i:04d}-aa{i}" for i in range(6)],
        "org_id": [f"org-{i}" for i in range(10)],
    })


def events(prefix: str = "", n_per: int = 10, evil_template: int = TEMPLATE) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for k, a in enumerate(CAMPAIGN):
        for j in range(n_per):
            rows.append({"account_id": prefix + a, "client_ip": EVIL_BLOCK_IP.format(10 + j),
                         "asn": 64500, "template_id": evil_template,
                         "ts": T0 + timedelta(minutes=10 * j + k)})
        rows.append({"account_id": prefix + a, "client_ip": PROXY_IP.format(7), "asn": 14061,
                     "template_id": evil_template, "ts": T0 + timedelta(hours=5, minutes=k)})
    for k, a in enumerate(BENIGN):
        for j in range(n_per):
            rows.append({"account_id": prefix + a, "client_ip": CLOUD_IP.format(j), "asn": 64501,
                         "template_id": None, "ts": T0 + timedelta(minutes=7 * j + k)})
    # the campaign also sends through the shared cloud egress a little
    rows.append({"account_id": prefix + CAMPAIGN[0], "client_ip": CLOUD_IP.format(1),
                 "asn": 64501, "template_id": None, "ts": T0})
    df = pl.DataFrame(rows, schema={"account_id": pl.String, "client_ip": pl.String,
                                    "asn": pl.Int64, "template_id": pl.UInt64,
                                    "ts": pl.Datetime("us", "UTC")})
    return df.with_columns(pl.format("ev-{}", pl.int_range(pl.len())).alias("event_id"))


def campaign(score: float = 0.9, accounts_: list[str] | None = None) -> dict[str, Any]:
    return {"campaign_id": "C-Tabcdef01", "accounts": accounts_ or list(CAMPAIGN),
            "first_seen": T0.isoformat(), "last_seen": (T0 + timedelta(hours=6)).isoformat(),
            "n_events": 44, "score": score, "summary": "x", "top_model": "aurora-2-pro"}


def skeletons() -> pl.DataFrame:
    return pl.DataFrame({"template_id": [TEMPLATE],
                         "skeleton": ["please solve the following olympiad problem and show"]},
                        schema={"template_id": pl.UInt64, "skeleton": pl.String})


def lab2_scan() -> pl.DataFrame:
    """Our lab's last scan (the ``lab2-`` copy of the frames): nobody in the campaign
    flagged; one unrelated account sets the operating point."""
    acc = accounts("lab2-")["account_id"].to_list() + ["lab2-acct_other"]
    return pl.DataFrame({"account_id": acc, "score": [0.05] * (len(acc) - 1) + [0.6],
                         "flagged": [False] * (len(acc) - 1) + [True],
                         "reasons": [""] * len(acc)})


def publish(hub: LocalHub) -> list[dict[str, Any]]:
    """The ``partner`` member publishes the campaign (with its skeletons) on ``hub``; the
    hub accepts every object."""
    from distillguard.share.leakguard import LeakGuard
    from distillguard.share.policy import Policy
    from distillguard.share.publish import build_publication, send_publication

    policy = Policy(collection=hub.collection, min_confidence=0, raw_asns=frozenset({14061}))
    pub = build_publication([campaign()], accounts(), events(), policy=policy, keyring=ring(),
                            identity=hub.identities["partner"], skeletons=skeletons())
    guard = LeakGuard.from_frames(accounts(), events(), policy)
    statuses = send_publication(pub, hub.links["partner"], guard)
    assert sum(int(s["success_count"]) for s in statuses) == len(pub.objects)
    return pub.objects
