"""Administrative operations shared by the CLI and the tests (no HTTP involved)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import orjson

from distillguard.exchange import audit
from distillguard.exchange.auth import _NAME, IssuedSecret, issue_password, issue_token
from distillguard.exchange.errors import TaxiiError
from distillguard.exchange.ingest import prepare
from distillguard.exchange.store.base import Collection, Grant, HubStore, Member, Webhook
from distillguard.stix.extension import extension_definition, forum_identity
from distillguard.stix.markings import MARKING_ID_OF_LEVEL, tlp2_marking_definition

SYSTEM_MEMBER = "hub-admin"


@dataclass(frozen=True)
class NewMember:
    member: Member
    password: IssuedSecret


def add_member(
    store: HubStore, name: str, *, org: str = "", is_admin: bool = False, password: str | None = None
) -> NewMember:
    if not _NAME.fullmatch(name):
        raise ValueError("member names are 1-200 printable characters without ':'")
    if store.get_member_by_name(name) is not None:
        raise ValueError(f"member {name!r} already exists")
    member = store.add_member(name, org=org, is_admin=is_admin)
    pw = issue_password(store, member.id, password)
    audit.record(store, None, "member.add", None, member=name)
    return NewMember(member, pw)


def ensure_admin(store: HubStore) -> NewMember | None:
    """Create the bootstrap admin on first start; None when it already exists."""
    if store.get_member_by_name(SYSTEM_MEMBER) is not None:
        return None
    return add_member(store, SYSTEM_MEMBER, org="hub", is_admin=True)


def definition_objects() -> list[dict[str, object]]:
    """What the hub publishes into every collection: the forum identity, the distillation
    extension-definition and the TLP 2.0 marking definitions it enforces."""
    return [forum_identity(), extension_definition()] + [
        tlp2_marking_definition(level) for level in MARKING_ID_OF_LEVEL
    ]


def create_collection(
    store: HubStore, title: str, description: str = "", collection_id: str | None = None
) -> Collection:
    col = store.create_collection(title, description, collection_id)
    admin_member = store.get_member_by_name(SYSTEM_MEMBER)
    if admin_member is None:  # its password is only ever printed by `hub serve`
        admin_member = add_member(store, SYSTEM_MEMBER, org="hub", is_admin=True).member
    good, bad = prepare(definition_objects())
    if bad:  # pragma: no cover - our own definitions are valid
        raise TaxiiError(500, "hub definition objects failed validation: " + bad[0].message)
    store.add_objects(col.id, admin_member.id, good)
    store.set_grant(Grant(col.id, admin_member.id, True, True, True))
    audit.record(store, admin_member, "collection.create", col.id, title=title)
    return col


def grant(
    store: HubStore,
    collection_id: str,
    member_name: str,
    *,
    read: bool,
    write: bool,
    in_org: bool = False,
) -> Grant:
    member = store.get_member_by_name(member_name)
    if member is None:
        raise ValueError(f"no member named {member_name!r}")
    if store.get_collection(collection_id) is None:
        raise ValueError(f"no collection {collection_id!r}")
    g = Grant(collection_id, member.id, read, write, in_org)
    store.set_grant(g)
    audit.record(
        store, None, "collection.grant", collection_id,
        member=member_name, read=read, write=write, in_org=in_org,
    )
    return g


def issue_member_token(store: HubStore, member_name: str) -> IssuedSecret:
    member = _member(store, member_name)
    issued = issue_token(store, member.id)
    audit.record(store, None, "token.issue", None, member=member_name, credential=issued.credential.id)
    return issued


def rotate_password(store: HubStore, member_name: str) -> IssuedSecret:
    """New password; the old ones stop working at once."""
    member = _member(store, member_name)
    for cred in store.member_credentials(member.id, "password"):
        store.revoke_credential(cred.id)
    issued = issue_password(store, member.id)
    audit.record(store, None, "password.rotate", None, member=member_name)
    return issued


def rotate_token(store: HubStore, member_name: str) -> IssuedSecret:
    """Revoke every token of the member and issue a fresh one."""
    member = _member(store, member_name)
    for cred in store.member_credentials(member.id, "token"):
        store.revoke_credential(cred.id)
    return issue_member_token(store, member_name)


def revoke_credential(store: HubStore, credential_id: str) -> bool:
    ok = store.revoke_credential(credential_id)
    audit.record(store, None, "credential.revoke", None, credential=credential_id, found=ok)
    return ok


def revoke_member(store: HubStore, member_name: str) -> None:
    member = _member(store, member_name)
    store.set_member_active(member.id, False)
    audit.record(store, None, "member.revoke", None, member=member_name)


def add_webhook(store: HubStore, member_name: str, collection_id: str, url: str) -> Webhook:
    """Register a signed webhook; the returned ``secret`` is the receiver's HMAC key."""
    member = _member(store, member_name)
    grant_ = store.get_grant(collection_id, member.id)
    if grant_ is None or not grant_.can_read:
        raise ValueError(f"{member_name!r} cannot read collection {collection_id!r}")
    if not url.startswith(("http://", "https://")):
        raise ValueError("webhook URL must be http(s)")
    hook = store.add_webhook(member.id, collection_id, url, secrets.token_urlsafe(32))
    audit.record(store, None, "webhook.add", collection_id, member=member_name, webhook=hook.id)
    return hook


def remove_webhook(store: HubStore, webhook_id: str) -> bool:
    ok = store.set_webhook_active(webhook_id, False)
    audit.record(store, None, "webhook.remove", None, webhook=webhook_id, found=ok)
    return ok


def _member(store: HubStore, name: str) -> Member:
    member = store.get_member_by_name(name)
    if member is None:
        raise ValueError(f"no member named {name!r}")
    return member


def dumps(obj: object) -> str:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()
