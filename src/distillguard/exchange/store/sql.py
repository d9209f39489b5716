"""SQLAlchemy 2 (Core) implementation of ``HubStore`` for SQLite and PostgreSQL.

Design notes (why it is fast enough to beat medallion's in-memory lists by 10x):
- objects are stored as their JSON text and served verbatim (no re-serialisation);
- ``is_latest`` / ``is_first`` flags are maintained at write time, so the default
  ``match[version]=last`` read is an indexed range scan on ``seq``;
- the ``next`` cursor is the last returned ``seq`` (monotonic, assigned at insert), so
  pagination is stable under concurrent publication and needs no server-side session;
- TLP visibility and ``valid_until`` expiry are SQL predicates, so pages are never
  short because of post-filtering.
Timestamps are stored as fixed-width ISO strings (microseconds, ``Z``) so comparison is
lexicographic in both databases.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from distillguard.exchange.store.base import (
    AddOutcome,
    Collection,
    Credential,
    Grant,
    Member,
    NewObject,
    ObjectFilter,
    ObjectPage,
    PublishRecord,
    SightingReport,
    StoredObject,
    Viewer,
    Webhook,
)
from distillguard.exchange.store.checkpoint import AUTOCHECKPOINT_PAGES, WalCheckpointer

_Id = BigInteger().with_variant(Integer, "sqlite")
metadata = MetaData()

members = Table(
    "members",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("identity_id", String(100), nullable=False, unique=True),
    Column("org", String(200), nullable=False, default=""),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created", String(32), nullable=False),
)
credentials = Table(
    "credentials",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("member_id", _Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created", String(32), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)
collections = Table(
    "collections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created", String(32), nullable=False),
)
grants = Table(
    "grants",
    metadata,
    Column("collection_id", String(64), ForeignKey("collections.id"), primary_key=True),
    Column("member_id", _Id, ForeignKey("members.id"), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
    Column("in_org", Boolean, nullable=False),
)
objects = Table(
    "objects",
    metadata,
    Column("seq", _Id, primary_key=True, autoincrement=True),
    Column("collection_id", String(64), nullable=False),
    Column("stix_id", String(300), nullable=False),
    Column("stix_type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("version", String(32), nullable=False),  # normalised, for comparisons
    Column("version_text", String(40), nullable=False),  # as published, for output
    Column("date_added", String(32), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("valid_until", String(32), nullable=True),
    Column("tlp", String(16), nullable=False),
    Column("recipients", Text, nullable=False, default=""),
    Column("publisher_id", _Id, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("collection_id", "stix_id", "version", name="uq_object_version"),
    Index("ix_objects_coll_seq", "collection_id", "seq"),
    # No separate (collection_id, stix_id) index: uq_object_version's prefix serves those
    # lookups, and every extra index is written per stored object.
)
statuses = Table(
    "statuses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("member_id", _Id, nullable=False),
    Column("body", Text, nullable=False),
    Column("created", String(32), nullable=False),
)
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _Id, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("member_id", _Id, nullable=True),
    Column("action", String(64), nullable=False),
    Column("collection_id", String(64), nullable=True),
    Column("detail", Text, nullable=False),
)
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("member_id", _Id, ForeignKey("members.id"), nullable=False),
    Column("collection_id", String(64), ForeignKey("collections.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),  # a signing key, not a login credential
    Column("cursor", _Id, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)
sightings = Table(
    "sighting_reports",
    metadata,
    Column("collection_id", String(64), nullable=False),
    Column("sighting_id", String(300), nullable=False),
    Column("version", String(32), nullable=False),
    Column("indicator_id", String(300), nullable=False),
    Column("member_id", _Id, nullable=False),
    Column("count", Integer, nullable=False),
    Column("false_positive", Boolean, nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Index("ix_sightings_indicator", "collection_id", "indicator_id"),
)

_SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
]
_PG_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION dg_audit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit_log",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION dg_audit_append_only()",
]

_IN_CHUNK = 500
_OBJECT_COLUMNS: tuple[str, ...] = tuple(c.name for c in objects.columns if c.name != "seq")
# column names come from our own table definition; values are bound "?" parameters
_SQLITE_INSERT_OBJECT = (
    f"INSERT INTO objects ({', '.join(_OBJECT_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _OBJECT_COLUMNS)})"
)
# SQLite hot path of a publish, straight on the DBAPI cursor (see SqlStore._publish).
_SQLITE_INSERT_STATUS = "INSERT INTO statuses (id, member_id, body, created) VALUES (?, ?, ?, ?)"
_SQLITE_INSERT_AUDIT = (
    "INSERT INTO audit_log (at, member_id, action, collection_id, detail) VALUES (?, ?, ?, ?, ?)"
)


# Per-request lookups (every request authenticates and checks its grant), built once
# with bound parameters: constructing a Select costs more than executing it.
_LOGIN_CANDIDATES = (
    select(members, credentials.c.id.label("cred_id"), credentials.c.secret_hash,
           credentials.c.created.label("cred_created"))
    .outerjoin(
        credentials,
        and_(
            credentials.c.member_id == members.c.id,
            credentials.c.kind == bindparam("kind"),
            credentials.c.revoked == false(),
        ),
    )
    .where(members.c.name == bindparam("name"))
    .order_by(credentials.c.created)
)
_GRANT_AND_COLLECTION = (
    select(collections, grants.c.can_read, grants.c.can_write, grants.c.in_org,
           grants.c.member_id)
    .outerjoin(
        grants,
        and_(
            grants.c.collection_id == collections.c.id,
            grants.c.member_id == bindparam("member_id"),
        ),
    )
    .where(collections.c.id == bindparam("collection_id"))
)



def _sqlite_text(stmt: Any) -> tuple[str, tuple[str, ...]]:
    """``stmt`` compiled once for SQLite: its SQL text and its parameters' order."""
    compiled = stmt.compile(dialect=sqlite_dialect())
    return str(compiled), tuple(compiled.positiontup or ())


# The same two lookups as SQLite text, for the DBAPI cursor (see login_candidates):
# compiled from the statements above, so the SQL cannot drift from them.
_SQLITE_LOGIN_CANDIDATES = _sqlite_text(_LOGIN_CANDIDATES)
_SQLITE_GRANT_AND_COLLECTION = _sqlite_text(_GRANT_AND_COLLECTION)
# result column -> position in a row of each lookup
_LC: Final = {k: i for i, k in enumerate(_LOGIN_CANDIDATES.selected_columns.keys())}
_GC: Final = {k: i for i, k in enumerate(_GRANT_AND_COLLECTION.selected_columns.keys())}

def fmt_ts(dt: datetime) -> str:
    """Fixed-width UTC timestamp used for every stored time (sorts lexicographically)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _chunks(seq: Sequence[str], n: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


class SqlStore:
    """``HubStore`` over any SQLAlchemy URL (``sqlite:///...``, ``postgresql+psycopg://...``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self._sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=8, max_overflow=8, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self._sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        # One writer at a time inside this process: keeps is_latest maintenance and the
        # monotonic date_added clock consistent (SQLite would serialise writers anyway).
        self._write_lock = threading.Lock()
        self._last_added = datetime.now(UTC) - timedelta(seconds=1)
        # SQLite: checkpoints (the fsyncs) run on a background thread, not in requests.
        self._checkpointer = (
            WalCheckpointer(self.engine, self._write_lock) if self._sqlite else None
        )

    # -- lifecycle ---------------------------------------------------------------------
    def create_schema(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for stmt in _SQLITE_APPEND_ONLY if self._sqlite else _PG_APPEND_ONLY:
                conn.execute(text(stmt))

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()

    def _wrote(self) -> None:
        """After a commit: let the background checkpointer copy the new WAL pages."""
        if self._checkpointer is not None:
            self._checkpointer.poke()

    def _now(self) -> str:
        return fmt_ts(datetime.now(UTC))

    def _next_added(self) -> datetime:
        now = datetime.now(UTC)
        if now <= self._last_added:
            now = self._last_added + timedelta(microseconds=1)
        self._last_added = now
        return now

    # -- members and credentials ---------------------------------------------------------
    def add_member(self, name: str, *, org: str = "", is_admin: bool = False) -> Member:
        identity_id = f"identity--{uuid.uuid4()}"
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(members).values(
                    name=name,
                    identity_id=identity_id,
                    org=org,
                    is_admin=is_admin,
                    active=True,
                    created=self._now(),
                )
            )
            member_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        return Member(member_id, name, identity_id, org, is_admin, True)

    def _members(self, where: ColumnElement[bool] | None = None) -> list[Member]:
        stmt = select(members).order_by(members.c.id)
        if where is not None:
            stmt = stmt.where(where)
        with self.engine.connect() as conn:
            return [
                Member(r.id, r.name, r.identity_id, r.org, bool(r.is_admin), bool(r.active))
                for r in conn.execute(stmt)
            ]

    def get_member(self, member_id: int) -> Member | None:
        found = self._members(members.c.id == member_id)
        return found[0] if found else None

    def get_member_by_name(self, name: str) -> Member | None:
        found = self._members(members.c.name == name)
        return found[0] if found else None

    def list_members(self) -> list[Member]:
        return self._members()

    def set_member_active(self, member_id: int, active: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(members).where(members.c.id == member_id).values(active=active))
            if not active:
                conn.execute(
                    update(credentials)
                    .where(credentials.c.member_id == member_id)
                    .values(revoked=True)
                )

    def add_credential(self, member_id: int, kind: str, secret_hash: str) -> Credential:
        cred = Credential(secrets.token_hex(8), member_id, kind, secret_hash, self._now(), False)
        with self.engine.begin() as conn:
            conn.execute(
                insert(credentials).values(
                    id=cred.id,
                    member_id=member_id,
                    kind=kind,
                    secret_hash=secret_hash,
                    created=cred.created,
                    revoked=False,
                )
            )
        return cred

    def _creds(self, where: ColumnElement[bool]) -> list[Credential]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(credentials).where(where).order_by(credentials.c.created))
            return [
                Credential(r.id, r.member_id, r.kind, r.secret_hash, r.created, bool(r.revoked))
                for r in rows
            ]

    def get_credential(self, cred_id: str) -> Credential | None:
        found = self._creds(credentials.c.id == cred_id)
        return found[0] if found else None

    def member_credentials(self, member_id: int, kind: str | None = None) -> list[Credential]:
        where = credentials.c.member_id == member_id
        if kind is not None:
            where = and_(where, credentials.c.kind == kind)
        return self._creds(where)

    def login_candidates(self, name: str, kind: str) -> tuple[Member, list[Credential]] | None:
        """The member called ``name`` and its unrevoked ``kind`` credentials in one query
        (what ``get_member_by_name`` + ``member_credentials`` return, filtered): every
        request authenticates, so this runs per request and revocation is seen at once."""
        params = {"name": name, "kind": kind}
        rows = self._lookup(_LOGIN_CANDIDATES, _SQLITE_LOGIN_CANDIDATES, params)
        if not rows:
            return None
        r = rows[0]
        member = Member(
            r[_LC["id"]], r[_LC["name"]], r[_LC["identity_id"]], r[_LC["org"]],
            bool(r[_LC["is_admin"]]), bool(r[_LC["active"]]),
        )
        cred_id, secret_hash, cred_created = _LC["cred_id"], _LC["secret_hash"], _LC["cred_created"]
        creds = [
            Credential(x[cred_id], member.id, kind, x[secret_hash], x[cred_created], False)
            for x in rows
            if x[cred_id] is not None
        ]
        return member, creds

    def _lookup(
        self, stmt: Any, sqlite_text: tuple[str, tuple[str, ...]], params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Rows of one of the per-request lookups. SQLite: the statement's compiled text
        on the DBAPI cursor (SQLAlchemy's execution and result set-up cost ~3x SQLite's
        own work here, on every request); PostgreSQL: the statement itself."""
        with self.engine.connect() as conn:
            if not self._sqlite:
                return [tuple(r) for r in conn.execute(stmt, params)]
            sql, order = sqlite_text
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                return list(cur.execute(sql, tuple(params[k] for k in order)))
            finally:
                cur.close()

    def revoke_credential(self, cred_id: str) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(credentials).where(credentials.c.id == cred_id).values(revoked=True)
            )
            return bool(res.rowcount)

    # -- collections and grants -----------------------------------------------------------
    def create_collection(
        self, title: str, description: str = "", collection_id: str | None = None
    ) -> Collection:
        col = Collection(collection_id or str(uuid.uuid4()), title, description, self._now())
        with self.engine.begin() as conn:
            conn.execute(
                insert(collections).values(
                    id=col.id, title=title, description=description, created=col.created
                )
            )
        return col

    def get_collection(self, collection_id: str) -> Collection | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(collections).where(collections.c.id == collection_id)).first()
        return Collection(r.id, r.title, r.description, r.created) if r else None

    def list_collections(self) -> list[Collection]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(collections).order_by(collections.c.created))
            return [Collection(r.id, r.title, r.description, r.created) for r in rows]

    def set_grant(self, grant: Grant) -> None:
        values = {
            "can_read": grant.can_read,
            "can_write": grant.can_write,
            "in_org": grant.in_org,
        }
        key = and_(
            grants.c.collection_id == grant.collection_id, grants.c.member_id == grant.member_id
        )
        with self.engine.begin() as conn:
            if conn.execute(update(grants).where(key).values(**values)).rowcount == 0:
                conn.execute(
                    insert(grants).values(
                        collection_id=grant.collection_id, member_id=grant.member_id, **values
                    )
                )

    def _grants(self, where: ColumnElement[bool]) -> list[Grant]:
        with self.engine.connect() as conn:
            return [
                Grant(r.collection_id, r.member_id, bool(r.can_read), bool(r.can_write), bool(r.in_org))
                for r in conn.execute(select(grants).where(where))
            ]

    def get_grant(self, collection_id: str, member_id: int) -> Grant | None:
        found = self._grants(
            and_(grants.c.collection_id == collection_id, grants.c.member_id == member_id)
        )
        return found[0] if found else None

    def grant_and_collection(
        self, collection_id: str, member_id: int
    ) -> tuple[Grant | None, Collection | None]:
        """``get_grant`` and ``get_collection`` in one round trip (checked per request)."""
        rows = self._lookup(
            _GRANT_AND_COLLECTION,
            _SQLITE_GRANT_AND_COLLECTION,
            {"collection_id": collection_id, "member_id": member_id},
        )
        if not rows:
            return None, None
        r = rows[0]
        col = Collection(r[_GC["id"]], r[_GC["title"]], r[_GC["description"]], r[_GC["created"]])
        if r[_GC["member_id"]] is None:
            return None, col
        grant = Grant(
            col.id, member_id, bool(r[_GC["can_read"]]), bool(r[_GC["can_write"]]),
            bool(r[_GC["in_org"]]),
        )
        return grant, col

    def member_grants(self, member_id: int) -> list[Grant]:
        return self._grants(grants.c.member_id == member_id)

    # -- objects ---------------------------------------------------------------------------
    def add_objects(
        self, collection_id: str, publisher_id: int, objs: Sequence[NewObject]
    ) -> tuple[list[AddOutcome], int]:
        """Store ``objs``; returns one outcome per object and how many rows were added.

        Rejected: a version that already exists with different content, and any version
        of an id first published by another member (nobody may revise or revoke someone
        else's object). Identical re-posts succeed without storing twice.
        """
        return self.publish(collection_id, publisher_id, objs, None)

    def publish(
        self,
        collection_id: str,
        publisher_id: int,
        objs: Sequence[NewObject],
        record: Callable[[list[AddOutcome], int], PublishRecord] | None,
    ) -> tuple[list[AddOutcome], int]:
        """``add_objects`` plus the request's status resource and audit entry, all in one
        transaction: one commit per publish request instead of three, and no window in
        which objects are stored but their status or audit entry is not."""
        with self._write_lock:
            try:
                done = self._publish(collection_id, publisher_id, objs, record)
            except IntegrityError:
                # Another hub process stored one of these versions between our read and
                # our insert; the retry sees it and reports duplicates per object.
                done = self._publish(collection_id, publisher_id, objs, record)
        self._wrote()
        return done

    def _publish(
        self,
        collection_id: str,
        publisher_id: int,
        objs: Sequence[NewObject],
        record: Callable[[list[AddOutcome], int], PublishRecord] | None,
    ) -> tuple[list[AddOutcome], int]:
        with self.engine.begin() as conn:
            outcomes, added = (
                self._add_objects(conn, collection_id, publisher_id, objs) if objs else ([], 0)
            )
            if record is not None and self._sqlite:
                # Same rows as the Core inserts below, without SQLAlchemy's per-statement
                # compile-cache lookup and result set-up (~0.1 ms each on this path);
                # the transaction is still the one ``engine.begin()`` commits.
                rec = record(outcomes, added)
                now = self._now()
                cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    cur.execute(
                        _SQLITE_INSERT_STATUS, (rec.status_id, publisher_id, rec.status_body, now)
                    )
                    cur.execute(
                        _SQLITE_INSERT_AUDIT,
                        (now, publisher_id, rec.audit_action, collection_id,
                         orjson.dumps(rec.audit_detail).decode()),
                    )
                finally:
                    cur.close()
            elif record is not None:
                rec = record(outcomes, added)
                now = self._now()
                conn.execute(
                    insert(statuses).values(
                        id=rec.status_id, member_id=publisher_id, body=rec.status_body, created=now
                    )
                )
                conn.execute(
                    insert(audit_log).values(
                        at=now,
                        member_id=publisher_id,
                        action=rec.audit_action,
                        collection_id=collection_id,
                        detail=orjson.dumps(rec.audit_detail).decode(),
                    )
                )
        return outcomes, added

    def _added_stamps(self, n: int) -> list[str]:
        """``n`` consecutive date_added stamps (one microsecond apart, strictly after the
        previous batch): one clock read and one strftime per second instead of per object."""
        first = self._next_added()
        self._last_added = first + timedelta(microseconds=n - 1)
        out: list[str] = []
        sec, micro = first.replace(microsecond=0), first.microsecond
        while len(out) < n:
            # the stamps left in this second, as integers: no datetime per object
            take = min(n - len(out), 1_000_000 - micro)
            prefix = sec.strftime("%Y-%m-%dT%H:%M:%S.")
            out.extend([f"{prefix}{m:06d}Z" for m in range(micro, micro + take)])
            sec, micro = sec + timedelta(seconds=1), 0
        return out

    def _known_versions(
        self, conn: Any, collection_id: str, ids: Sequence[str]
    ) -> list[tuple[str, str, str, int]]:
        """(stix_id, version, digest, publisher_id) of the stored versions of ``ids``."""
        if self._sqlite:
            # Plain SQL on the DBAPI cursor: SQLAlchemy's expanding-IN processing of 100
            # bound ids cost more than SQLite's indexed lookup. Same query, same rows.
            marks = ",".join("?" * len(ids))
            cur = conn.connection.dbapi_connection.cursor()
            try:
                return list(
                    cur.execute(
                        # only "?" marks are interpolated; the ids are bound parameters
                        "SELECT stix_id, version, digest, publisher_id FROM objects "  # noqa: S608
                        f"WHERE collection_id = ? AND stix_id IN ({marks})",
                        (collection_id, *ids),
                    )
                )
            finally:
                cur.close()
        rows = conn.execute(
            select(
                objects.c.stix_id, objects.c.version, objects.c.digest, objects.c.publisher_id
            ).where(objects.c.collection_id == collection_id, objects.c.stix_id.in_(ids))
        )
        return [tuple(r) for r in rows]

    def _add_objects(
        self, conn: Any, collection_id: str, publisher_id: int, objs: Sequence[NewObject]
    ) -> tuple[list[AddOutcome], int]:
        outcomes: list[AddOutcome] = []
        stamps = iter(self._added_stamps(len(objs)))
        if not self._sqlite:
            # serialise writers of one collection across hub processes
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": collection_id}
            )
        ids = sorted({o.stix_id for o in objs})
        # stix_id -> {version: (digest, publisher)}, plus owner
        existing: dict[str, dict[str, str]] = {}
        owner: dict[str, int] = {}
        for chunk in _chunks(ids):
            for stix_id, version, digest, publisher in self._known_versions(
                conn, collection_id, chunk
            ):
                existing.setdefault(stix_id, {})[version] = digest
                owner.setdefault(stix_id, int(publisher))
        to_insert: list[tuple[Any, ...]] = []
        sighting_rows: list[dict[str, Any]] = []
        touched: set[str] = set()
        for o in objs:
            known = existing.get(o.stix_id)
            if known is not None and owner.get(o.stix_id, publisher_id) != publisher_id:
                outcomes.append(
                    AddOutcome(
                        o.stix_id, o.version_text, False, "id was published by another member"
                    )
                )
                continue
            added = next(stamps)
            version = o.version or added
            shown = o.version_text or added
            if known is not None and version in known:
                same = known[version] == o.digest
                outcomes.append(
                    AddOutcome(
                        o.stix_id,
                        shown,
                        same,
                        "" if same else "this id and version already exist with different content",
                    )
                )
                continue
            if known is not None:
                touched.add(o.stix_id)
            existing.setdefault(o.stix_id, {})[version] = o.digest
            owner.setdefault(o.stix_id, publisher_id)
            to_insert.append(  # in _OBJECT_COLUMNS order
                (
                    collection_id,
                    o.stix_id,
                    o.stix_type,
                    o.spec_version,
                    version,
                    shown,
                    added,
                    known is None,  # is_latest
                    known is None,  # is_first
                    o.revoked,
                    False,  # hidden
                    o.valid_until,
                    o.tlp,
                    orjson.dumps(list(o.recipients)).decode() if o.recipients else "",
                    publisher_id,
                    o.digest,
                    o.body,
                )
            )
            if o.sighting_of:
                sighting_rows.append(
                    {
                        "collection_id": collection_id,
                        "sighting_id": o.stix_id,
                        "version": version,
                        "indicator_id": o.sighting_of,
                        "member_id": publisher_id,
                        "count": o.sighting_count,
                        "false_positive": o.false_positive,
                        "anonymous": o.anonymous,
                    }
                )
            outcomes.append(AddOutcome(o.stix_id, shown, True))
        if to_insert and self._sqlite:
            # Straight to sqlite3's executemany with positional rows: SQLAlchemy's per-row
            # parameter processing cost more than SQLite's insert itself (~10 us a row),
            # and named parameters a dict lookup per column. Same columns, same values.
            cur = conn.connection.dbapi_connection.cursor()
            try:
                cur.executemany(_SQLITE_INSERT_OBJECT, to_insert)
            finally:
                cur.close()
        elif to_insert:
            conn.execute(insert(objects), [dict(zip(_OBJECT_COLUMNS, r, strict=True)) for r in to_insert])
        if sighting_rows:
            conn.execute(insert(sightings), sighting_rows)
        for stix_id in sorted(touched):
            self._refresh_flags(conn, collection_id, stix_id)
        return outcomes, len(to_insert)

    def _refresh_flags(self, conn: Any, collection_id: str, stix_id: str) -> None:
        """Recompute is_latest / is_first / hidden for one id after versions changed."""
        key = and_(objects.c.collection_id == collection_id, objects.c.stix_id == stix_id)
        rows = conn.execute(
            select(objects.c.seq, objects.c.version, objects.c.revoked).where(key)
        ).all()
        if not rows:
            return
        latest = max(rows, key=lambda r: (r.version, r.seq))
        first = min(rows, key=lambda r: (r.version, r.seq))
        conn.execute(
            update(objects)
            .where(key)
            .values(
                is_latest=objects.c.seq == latest.seq,
                is_first=objects.c.seq == first.seq,
                # once the newest version revokes the object, older versions stop being served
                hidden=and_(objects.c.seq != latest.seq, true() if latest.revoked else false()),
            )
        )

    def _visibility(self, viewer: Viewer, now: str) -> ColumnElement[bool]:
        allowed: list[ColumnElement[bool]] = [
            objects.c.tlp.notin_(("red", "amber+strict")),
            objects.c.publisher_id == viewer.member_id,
            and_(objects.c.tlp == "red", objects.c.recipients.contains(f'"{viewer.identity_id}"')),
        ]
        if viewer.in_org:
            allowed.append(objects.c.tlp == "amber+strict")
        return and_(
            or_(*allowed),
            objects.c.hidden == false(),
            or_(objects.c.valid_until.is_(None), objects.c.valid_until > now),
        )

    def _where(
        self, collection_id: str, viewer: Viewer, flt: ObjectFilter, now: str
    ) -> list[ColumnElement[bool]]:
        where = [objects.c.collection_id == collection_id, self._visibility(viewer, now)]
        if flt.added_after:
            where.append(objects.c.date_added > flt.added_after)
        if flt.after_seq is not None:
            where.append(objects.c.seq > flt.after_seq)
        if flt.ids:
            where.append(objects.c.stix_id.in_(flt.ids))
        if flt.types:
            where.append(objects.c.stix_type.in_(flt.types))
        if flt.spec_versions:
            where.append(objects.c.spec_version.in_(flt.spec_versions))
        if "all" not in flt.versions:
            where.append(_version_clause(flt.versions))
        return where

    def query_objects(
        self, collection_id: str, viewer: Viewer, flt: ObjectFilter, now: str
    ) -> ObjectPage:
        stmt = (
            select(
                objects.c.seq,
                objects.c.stix_id,
                objects.c.version_text,
                objects.c.date_added,
                objects.c.spec_version,
                objects.c.body,
            )
            .where(*self._where(collection_id, viewer, flt, now))
            .order_by(objects.c.seq)
            .limit(flt.limit + 1)
        )
        with self.engine.connect() as conn:
            rows = [StoredObject(*r) for r in conn.execute(stmt)]
        more = len(rows) > flt.limit
        rows = rows[: flt.limit]
        return ObjectPage(rows, more, rows[-1].seq if more else None)

    def object_exists_for(self, collection_id: str, viewer: Viewer, stix_id: str, now: str) -> bool:
        flt = ObjectFilter(ids=(stix_id,), versions=("all",), limit=1)
        stmt = select(objects.c.seq).where(*self._where(collection_id, viewer, flt, now)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(stmt).first() is not None

    def delete_object(
        self, collection_id: str, stix_id: str, member_id: int, flt: ObjectFilter
    ) -> int | None:
        """Delete the matching versions. ``None`` when another member published the id."""
        key = and_(objects.c.collection_id == collection_id, objects.c.stix_id == stix_id)
        with self._write_lock, self.engine.begin() as conn:
            pubs = {
                int(p)
                for p in conn.execute(select(objects.c.publisher_id).where(key).distinct()).scalars()
            }
            if pubs and pubs != {member_id}:
                return None
            where = [key]
            if "all" not in flt.versions:
                where.append(_version_clause(flt.versions))
            if flt.spec_versions:
                where.append(objects.c.spec_version.in_(flt.spec_versions))
            gone = conn.execute(
                select(objects.c.version).where(*where)
            ).scalars().all()
            conn.execute(delete(objects).where(*where))
            if gone:
                conn.execute(
                    delete(sightings).where(
                        sightings.c.collection_id == collection_id,
                        sightings.c.sighting_id == stix_id,
                        sightings.c.version.in_(gone),
                    )
                )
            self._refresh_flags(conn, collection_id, stix_id)
            return len(gone)

    # -- status, audit, sightings -------------------------------------------------------------
    def save_status(self, status_id: str, member_id: int, body: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(statuses).values(
                    id=status_id, member_id=member_id, body=body, created=self._now()
                )
            )

    def get_status(self, status_id: str, member_id: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(statuses.c.body).where(
                    statuses.c.id == status_id, statuses.c.member_id == member_id
                )
            ).scalar()

    def audit(
        self, member_id: int | None, action: str, collection_id: str | None, detail: dict[str, Any]
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    at=self._now(),
                    member_id=member_id,
                    action=action,
                    collection_id=collection_id,
                    detail=orjson.dumps(detail).decode(),
                )
            )
        self._wrote()  # reads write audit rows too: keep them checkpointed promptly

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit))
            return [
                {
                    "seq": r.seq,
                    "at": r.at,
                    "member_id": r.member_id,
                    "action": r.action,
                    "collection_id": r.collection_id,
                    "detail": orjson.loads(r.detail),
                }
                for r in rows
            ]

    def sighting_reports(self, collection_id: str, indicator_id: str) -> list[SightingReport]:
        stmt = (
            select(
                sightings.c.member_id,
                members.c.name,
                func.max(sightings.c.anonymous.cast(Integer)),
                func.sum(sightings.c.count),
                func.max(sightings.c.false_positive.cast(Integer)),
            )
            .join(members, members.c.id == sightings.c.member_id)
            .where(
                sightings.c.collection_id == collection_id,
                sightings.c.indicator_id == indicator_id,
            )
            .group_by(sightings.c.member_id, members.c.name)
            .order_by(sightings.c.member_id)
        )
        with self.engine.connect() as conn:
            return [
                SightingReport(int(m), name, bool(anon), int(cnt or 0), bool(fp))
                for m, name, anon, cnt, fp in conn.execute(stmt)
            ]

    def base_confidence(self, collection_id: str, indicator_id: str) -> tuple[int, int] | None:
        """(confidence of the latest version, publisher member id), None if unknown."""
        stmt = select(objects.c.body, objects.c.publisher_id).where(
            objects.c.collection_id == collection_id,
            objects.c.stix_id == indicator_id,
            objects.c.is_latest == true(),
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        value = orjson.loads(row.body).get("confidence")
        return (int(value) if isinstance(value, int) else 50), int(row.publisher_id)

    # -- webhooks ---------------------------------------------------------------------------
    def add_webhook(self, member_id: int, collection_id: str, url: str, secret: str) -> Webhook:
        # Start at the current end of the collection: a new hook gets new objects only.
        with self.engine.begin() as conn:
            cursor = conn.execute(
                select(func.max(objects.c.seq)).where(objects.c.collection_id == collection_id)
            ).scalar()
            hook = Webhook(secrets.token_hex(8), member_id, collection_id, url, secret,
                           int(cursor or 0), True)
            conn.execute(
                insert(webhooks).values(
                    id=hook.id, member_id=member_id, collection_id=collection_id, url=url,
                    secret=secret, cursor=hook.cursor, active=True,
                )
            )
        return hook

    def list_webhooks(self, collection_id: str | None = None) -> list[Webhook]:
        stmt = select(webhooks).order_by(webhooks.c.id)
        if collection_id is not None:
            stmt = stmt.where(webhooks.c.collection_id == collection_id)
        with self.engine.connect() as conn:
            return [
                Webhook(r.id, int(r.member_id), r.collection_id, r.url, r.secret, int(r.cursor),
                        bool(r.active))
                for r in conn.execute(stmt)
            ]

    def set_webhook_cursor(self, webhook_id: str, cursor: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(cursor=cursor))

    def set_webhook_active(self, webhook_id: str, active: bool) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(webhooks).where(webhooks.c.id == webhook_id).values(active=active)
            )
            return bool(res.rowcount)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # A safety net only: WalCheckpointer normally checkpoints long before this.
    cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cur.close()


def _version_clause(versions: tuple[str, ...] | list[str]) -> ColumnElement[bool]:
    """``match[version]`` as SQL: ``last``, ``first`` and explicit timestamps, OR-ed.

    One definition for reads and DELETE, so both select exactly the same versions.
    """
    which: list[ColumnElement[bool]] = []
    stamps = [v for v in versions if v not in ("last", "first")]
    if "last" in versions:
        which.append(objects.c.is_latest == true())
    if "first" in versions:
        which.append(objects.c.is_first == true())
    if stamps:
        which.append(objects.c.version.in_(stamps))
    return or_(*which)
