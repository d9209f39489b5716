"""The store's one-query / one-transaction paths return what the slower calls did.

They exist for ingest speed (bench/bench_hub.py); these tests pin their meaning on both
backends: a publish writes objects, status and audit entry atomically; login and access
lookups see revocation and missing grants immediately.
"""

from __future__ import annotations

import uuid

import pytest

from distillguard.exchange import admin
from distillguard.exchange.auth import hash_secret
from distillguard.exchange.ingest import prepare
from distillguard.exchange.store.base import AddOutcome, PublishRecord

from .conftest import Hub
from .stixgen import indicator


def _member(hub: Hub) -> int:
    return admin.add_member(hub.store, f"fast-{uuid.uuid4().hex[:8]}").member.id


def test_publish_writes_status_and_audit_with_the_objects(hub: Hub) -> None:
    col = admin.create_collection(hub.store, "fast-publish")
    mid = _member(hub)
    good, bad = prepare([indicator(9100 + i) for i in range(3)])
    assert not bad
    status_id = str(uuid.uuid4())
    seen: list[tuple[list[AddOutcome], int]] = []

    def record(outcomes: list[AddOutcome], added: int) -> PublishRecord:
        seen.append((outcomes, added))
        return PublishRecord(status_id, '{"ok": 1}', "objects.publish", {"stored": added})

    outcomes, added = hub.store.publish(col.id, mid, good, record)
    assert added == 3 and all(o.ok for o in outcomes)
    assert seen == [(outcomes, 3)]
    assert hub.store.get_status(status_id, mid) == '{"ok": 1}'
    entry = next(e for e in hub.store.audit_log(50) if e["detail"].get("stored") == 3
                 and e["collection_id"] == col.id)
    assert entry["action"] == "objects.publish" and entry["member_id"] == mid


def test_publish_is_atomic_when_the_record_step_fails(hub: Hub) -> None:
    col = admin.create_collection(hub.store, "fast-atomic")
    mid = _member(hub)
    good, _ = prepare([indicator(9200)])

    def broken(outcomes: list[AddOutcome], added: int) -> PublishRecord:
        raise RuntimeError("status could not be built")

    with pytest.raises(RuntimeError):
        hub.store.publish(col.id, mid, good, broken)
    # nothing half-written: the same object publishes cleanly afterwards, as new
    outcomes, added = hub.store.add_objects(col.id, mid, good)
    assert added == 1 and outcomes[0].ok


def test_date_added_is_strictly_increasing_within_and_across_batches(hub: Hub) -> None:
    col = admin.create_collection(hub.store, "fast-stamps")
    mid = _member(hub)
    for start in (9300, 9400):
        good, _ = prepare([indicator(start + i) for i in range(40)])
        hub.store.add_objects(col.id, mid, good)
    from distillguard.exchange.store.base import ObjectFilter, Viewer

    page = hub.store.query_objects(
        col.id, Viewer(mid, "identity--x", True), ObjectFilter(limit=200), "9999"
    )
    stamps = [r.date_added for r in page.rows]
    assert len(stamps) >= 80 and stamps == sorted(set(stamps))  # (+ the hub definitions)
    assert all(len(s) == len("2026-01-01T00:00:00.000000Z") and s.endswith("Z") for s in stamps)


def test_login_candidates_skip_revoked_and_other_kinds(hub: Hub) -> None:
    mid = _member(hub)
    name = hub.store.get_member(mid).name  # type: ignore[union-attr]
    pw_old = hub.store.add_credential(mid, "password", hash_secret("old"))
    pw_new = hub.store.add_credential(mid, "password", hash_secret("new"))
    hub.store.add_credential(mid, "token", hash_secret("tok"))
    hub.store.revoke_credential(pw_old.id)
    found = hub.store.login_candidates(name, "password")
    assert found is not None
    member, creds = found
    assert member.id == mid and member.active
    # add_member issued one password too; the revoked one and the token are absent
    ids = [c.id for c in creds]
    assert pw_new.id in ids and pw_old.id not in ids
    assert all(c.kind == "password" and not c.revoked for c in creds)
    assert hub.store.login_candidates(f"nobody-{uuid.uuid4().hex}", "password") is None
    hub.store.set_member_active(mid, False)
    inactive = hub.store.login_candidates(name, "password")
    assert inactive is not None and not inactive[0].active and inactive[1] == []


def test_grant_and_collection_matches_the_separate_lookups(hub: Hub) -> None:
    col = admin.create_collection(hub.store, "fast-grants")
    mid = _member(hub)
    assert hub.store.grant_and_collection(col.id, mid) == (None, hub.store.get_collection(col.id))
    assert hub.store.grant_and_collection("no-such-collection", mid) == (None, None)
    name = hub.store.get_member(mid).name  # type: ignore[union-attr]
    admin.grant(hub.store, col.id, name, read=True, write=False, in_org=True)
    assert hub.store.grant_and_collection(col.id, mid) == (
        hub.store.get_grant(col.id, mid),
        hub.store.get_collection(col.id),
    )


def test_login_candidates_match_the_separate_lookups_field_for_field(hub: Hub) -> None:
    """The lookup reads rows by column position on SQLite: every field must land where
    ``get_member`` and ``member_credentials`` put it."""
    mid = admin.add_member(hub.store, f"fast-{uuid.uuid4().hex[:8]}", org="lab-org").member.id
    hub.store.add_credential(mid, "password", hash_secret("second"))
    member = hub.store.get_member(mid)
    assert member is not None
    found = hub.store.login_candidates(member.name, "password")
    assert found is not None
    assert found[0] == member
    expected = [c for c in hub.store.member_credentials(mid, "password") if not c.revoked]
    assert found[1] == expected and len(expected) == 2
