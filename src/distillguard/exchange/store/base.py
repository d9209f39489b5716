"""Storage protocol of the hub, with typed records and filter objects.

The API layer parses HTTP query strings into these frozen dataclasses; stores never see
request objects (medallion's backends take werkzeug dicts, which we avoid).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    identity_id: str
    org: str
    is_admin: bool
    active: bool


@dataclass(frozen=True)
class Credential:
    id: str
    member_id: int
    kind: str  # "password" | "token"
    secret_hash: str
    created: str
    revoked: bool


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    created: str


@dataclass(frozen=True)
class Grant:
    """A member's rights on one collection. ``in_org``: on the collection's organisation
    list, which is who may receive TLP:AMBER+STRICT objects."""

    collection_id: str
    member_id: int
    can_read: bool
    can_write: bool
    in_org: bool


@dataclass(frozen=True)
class Viewer:
    """Who is reading: decides which TLP-marked objects are visible."""

    member_id: int
    identity_id: str
    in_org: bool


@dataclass(frozen=True)
class ObjectFilter:
    """TAXII object filters. ``versions`` items are "last", "first", "all" or timestamps
    (normalised). ``after_seq`` is the decoded ``next`` cursor."""

    added_after: str | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    limit: int = 100
    after_seq: int | None = None


@dataclass(slots=True)
class NewObject:
    """A validated object ready to store, with the metadata the hub indexes.

    Not frozen: a frozen dataclass sets each of its 15 fields through
    ``object.__setattr__`` (~2 us per object on the ingest path); nothing mutates it.
    """

    stix_id: str
    stix_type: str
    spec_version: str
    version: str  # normalised modified / created timestamp ("" -> date_added is used)
    revoked: bool
    valid_until: str | None
    tlp: str
    recipients: tuple[str, ...]
    body: str  # the object's JSON text, served verbatim
    digest: str
    version_text: str = ""  # the timestamp exactly as the publisher wrote it
    sighting_of: str | None = None
    sighting_count: int = 0
    false_positive: bool = False
    anonymous: bool = False


@dataclass(slots=True)  # one per stored object: not frozen, see NewObject
class AddOutcome:
    stix_id: str
    version: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class PublishRecord:
    """What a publish request leaves behind besides the objects: its TAXII status
    resource and its audit entry, written in the same transaction as the objects."""

    status_id: str
    status_body: str
    audit_action: str
    audit_detail: dict[str, Any]


@dataclass(frozen=True)
class StoredObject:
    seq: int
    stix_id: str
    version: str
    date_added: str
    spec_version: str
    body: str


@dataclass(frozen=True)
class ObjectPage:
    rows: list[StoredObject] = field(default_factory=list)
    more: bool = False
    next_seq: int | None = None


@dataclass(frozen=True)
class SightingReport:
    member_id: int
    member_name: str
    anonymous: bool
    count: int
    false_positive: bool


@dataclass(frozen=True)
class Webhook:
    """A member's push subscription: new objects of ``collection_id`` are POSTed to
    ``url`` signed with HMAC-SHA256 under ``secret``; ``cursor`` is the last delivered seq."""

    id: str
    member_id: int
    collection_id: str
    url: str
    secret: str
    cursor: int
    active: bool


class HubStore(Protocol):
    """What the hub needs from a database. ``SqlStore`` implements it for SQLite and PG."""

    def create_schema(self) -> None: ...
    def close(self) -> None: ...

    def add_member(self, name: str, *, org: str = "", is_admin: bool = False) -> Member: ...
    def get_member(self, member_id: int) -> Member | None: ...
    def get_member_by_name(self, name: str) -> Member | None: ...
    def list_members(self) -> list[Member]: ...
    def set_member_active(self, member_id: int, active: bool) -> None: ...

    def add_credential(self, member_id: int, kind: str, secret_hash: str) -> Credential: ...
    def get_credential(self, cred_id: str) -> Credential | None: ...
    def member_credentials(self, member_id: int, kind: str | None = None) -> list[Credential]: ...
    def revoke_credential(self, cred_id: str) -> bool: ...

    def create_collection(
        self, title: str, description: str = "", collection_id: str | None = None
    ) -> Collection: ...
    def get_collection(self, collection_id: str) -> Collection | None: ...
    def list_collections(self) -> list[Collection]: ...
    def set_grant(self, grant: Grant) -> None: ...
    def get_grant(self, collection_id: str, member_id: int) -> Grant | None: ...
    def member_grants(self, member_id: int) -> list[Grant]: ...

    def add_objects(
        self, collection_id: str, publisher_id: int, objects: Sequence[NewObject]
    ) -> tuple[list[AddOutcome], int]: ...
    def publish(
        self,
        collection_id: str,
        publisher_id: int,
        objects: Sequence[NewObject],
        record: Callable[[list[AddOutcome], int], PublishRecord],
    ) -> tuple[list[AddOutcome], int]: ...
    def query_objects(
        self, collection_id: str, viewer: Viewer, flt: ObjectFilter, now: str
    ) -> ObjectPage: ...
    def object_exists_for(
        self, collection_id: str, viewer: Viewer, stix_id: str, now: str
    ) -> bool: ...
    def delete_object(
        self, collection_id: str, stix_id: str, member_id: int, flt: ObjectFilter
    ) -> int | None: ...

    def save_status(self, status_id: str, member_id: int, body: str) -> None: ...
    def get_status(self, status_id: str, member_id: int) -> str | None: ...

    def audit(
        self, member_id: int | None, action: str, collection_id: str | None, detail: dict[str, Any]
    ) -> None: ...
    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def sighting_reports(self, collection_id: str, indicator_id: str) -> list[SightingReport]: ...

    def add_webhook(self, member_id: int, collection_id: str, url: str, secret: str) -> Webhook: ...
    def list_webhooks(self, collection_id: str | None = None) -> list[Webhook]: ...
    def set_webhook_cursor(self, webhook_id: str, cursor: int) -> None: ...
    def set_webhook_active(self, webhook_id: str, active: bool) -> bool: ...
    def base_confidence(
        self, collection_id: str, indicator_id: str
    ) -> tuple[int, int] | None: ...
