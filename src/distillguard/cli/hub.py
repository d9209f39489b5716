"""``distillguard hub``: run the exchange hub and administer members, tokens, collections.

``distillguard hub serve`` needs nothing else: it creates a SQLite database in
``--data-dir``, a bootstrap admin (credential printed once) and a first collection, and
serves TAXII 2.1 on 127.0.0.1. Every admin command works on the same ``--data-dir``
(or ``--db`` URL, e.g. ``postgresql+psycopg://user@host/db``) while the hub runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from distillguard.cli.main import EXIT_FOUND_PROBLEM, app

if TYPE_CHECKING:
    from distillguard.exchange.auth import IssuedSecret
    from distillguard.exchange.store.sql import SqlStore

hub_app = typer.Typer(help="Run the TAXII 2.1 exchange hub and administer it.", no_args_is_help=True)
member_app = typer.Typer(help="Member labs and their passwords.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer API tokens.", no_args_is_help=True)
collection_app = typer.Typer(help="Collections and per-member rights.", no_args_is_help=True)
hub_app.add_typer(member_app, name="member")
hub_app.add_typer(token_app, name="token")
webhook_app = typer.Typer(help="Signed webhooks (push to a member's URL).", no_args_is_help=True)
hub_app.add_typer(collection_app, name="collection")
hub_app.add_typer(webhook_app, name="webhook")
app.add_typer(hub_app, name="hub")

DataDir = typer.Option(Path("distillguard-hub"), "--data-dir", help="Where the SQLite hub lives.")
DbUrl = typer.Option(None, "--db", help="SQLAlchemy URL; overrides --data-dir (e.g. PostgreSQL).")


def _url(data_dir: Path, db: str | None) -> str:
    if db:
        return db
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'hub.db').resolve()}"


def _store(data_dir: Path, db: str | None) -> SqlStore:
    from distillguard.exchange.store.sql import SqlStore

    store = SqlStore(_url(data_dir, db))
    store.create_schema()
    return store


def _bootstrap(store: SqlStore) -> None:
    """Create the hub-admin member on first use and print its credential once."""
    from distillguard.exchange import admin

    boot = admin.ensure_admin(store)
    if boot is not None:
        typer.echo(
            f"bootstrap admin (shown once): user {boot.member.name}  "
            f"password {boot.password.secret}"
        )
    else:
        typer.echo(
            f"admin member: {admin.SYSTEM_MEMBER} "
            f"(new password: distillguard hub member rotate-password {admin.SYSTEM_MEMBER})"
        )


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_FOUND_PROBLEM)


@hub_app.command()
def serve(
    data_dir: Path = DataDir,
    db: str | None = DbUrl,
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8471, help="TCP port."),
    max_content_length: int = typer.Option(10 * 1024 * 1024, help="Largest request body (bytes)."),
    rate_limit: float = typer.Option(0.0, help="Requests per second per member (0: off)."),
) -> None:
    """Start the hub on embedded defaults and print how to connect."""
    import uvicorn

    from distillguard.exchange import admin
    from distillguard.exchange.app import create_app
    from distillguard.exchange.settings import HubSettings

    url = _url(data_dir, db)
    settings = HubSettings(
        database_url=url, max_content_length=max_content_length, rate_limit_per_s=rate_limit
    )
    store = _store(data_dir, db)
    base = f"http://{host}:{port}"
    typer.echo(f"distillguard hub: discovery at {base}/taxii2/  (API root {base}/api/)")
    typer.echo(f"storage: {url}")
    _bootstrap(store)
    if not store.list_collections():
        col = admin.create_collection(store, "distillation-forum", "Shared distillation intel")
        typer.echo(f"created collection {col.id} (distillation-forum)")
    app_ = create_app(settings, store)
    uvicorn.run(app_, host=host, port=port, log_level="warning", workers=1)


@member_app.command("add")
def member_add(
    name: str,
    org: str = typer.Option("", help="Organisation name (informational)."),
    is_admin: bool = typer.Option(False, "--admin", help="Mark as forum administrator."),
    data_dir: Path = DataDir,
    db: str | None = DbUrl,
) -> None:
    """Add a member lab; prints its identity id and password (shown once)."""
    from distillguard.exchange import admin

    try:
        new = admin.add_member(_store(data_dir, db), name, org=org, is_admin=is_admin)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(f"member {new.member.name}  identity {new.member.identity_id}")
    typer.echo(f"password (shown once): {new.password.secret}")


@member_app.command("list")
def member_list(data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """List members with their identity ids (used as TLP:RED recipients)."""
    for m in _store(data_dir, db).list_members():
        state = "active" if m.active else "revoked"
        typer.echo(f"{m.name}\t{m.identity_id}\t{m.org}\t{state}{'  admin' if m.is_admin else ''}")


@member_app.command("revoke")
def member_revoke(name: str, data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """Disable a member and revoke all its credentials."""
    from distillguard.exchange import admin

    try:
        admin.revoke_member(_store(data_dir, db), name)
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(f"member {name} revoked")


@member_app.command("rotate-password")
def member_rotate_password(name: str, data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """Replace a member's password (the old one stops working at once)."""
    from distillguard.exchange import admin

    try:
        issued = admin.rotate_password(_store(data_dir, db), name)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(f"new password (shown once): {issued.secret}")


def _echo_token(issued: IssuedSecret) -> None:
    """A new bearer token: its credential id (for revoke) and the secret, shown once."""
    typer.echo(f"credential {issued.credential.id}")
    typer.echo(f"token (shown once): {issued.secret}")


@token_app.command("issue")
def token_issue(member: str, data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """Issue a bearer token for MEMBER (shown once)."""
    from distillguard.exchange import admin

    try:
        issued = admin.issue_member_token(_store(data_dir, db), member)
    except ValueError as exc:
        _fail(str(exc))
        return
    _echo_token(issued)


@token_app.command("rotate")
def token_rotate(member: str, data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """Revoke all of MEMBER's tokens and issue a new one."""
    from distillguard.exchange import admin

    try:
        issued = admin.rotate_token(_store(data_dir, db), member)
    except ValueError as exc:
        _fail(str(exc))
        return
    _echo_token(issued)


@token_app.command("revoke")
def token_revoke(credential_id: str, data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """Revoke one credential (token or password) by its id."""
    from distillguard.exchange import admin

    if not admin.revoke_credential(_store(data_dir, db), credential_id):
        _fail(f"no credential {credential_id!r}")
    typer.echo(f"credential {credential_id} revoked")


@collection_app.command("create")
def collection_create(
    title: str,
    description: str = typer.Option("", help="Shown to members."),
    collection_id: str | None = typer.Option(None, "--id", help="Fixed id (default: UUID)."),
    data_dir: Path = DataDir,
    db: str | None = DbUrl,
) -> None:
    """Create a collection (seeded with the hub's extension and TLP definitions)."""
    from distillguard.exchange import admin

    store = _store(data_dir, db)
    _bootstrap(store)
    col = admin.create_collection(store, title, description, collection_id)
    typer.echo(col.id)


@collection_app.command("list")
def collection_list(data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """List collections."""
    for c in _store(data_dir, db).list_collections():
        typer.echo(f"{c.id}\t{c.title}")


@collection_app.command("grant")
def collection_grant(
    collection_id: str,
    member: str,
    read: bool = typer.Option(True, "--read/--no-read"),
    write: bool = typer.Option(False, "--write/--no-write"),
    org: bool = typer.Option(
        False, "--org/--no-org", help="On the collection's org list (receives TLP:AMBER+STRICT)."
    ),
    data_dir: Path = DataDir,
    db: str | None = DbUrl,
) -> None:
    """Set MEMBER's rights on COLLECTION_ID (replaces earlier rights)."""
    from distillguard.exchange import admin

    try:
        g = admin.grant(_store(data_dir, db), collection_id, member, read=read, write=write, in_org=org)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(f"{member} on {collection_id}: read={g.can_read} write={g.can_write} org={g.in_org}")


@webhook_app.command("add")
def webhook_add(
    member: str, collection_id: str, url: str, data_dir: Path = DataDir, db: str | None = DbUrl
) -> None:
    """POST new objects of COLLECTION_ID that MEMBER may read to URL, HMAC-signed."""
    from distillguard.exchange import admin

    try:
        hook = admin.add_webhook(_store(data_dir, db), member, collection_id, url)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(f"webhook {hook.id}")
    typer.echo(f"signing secret (shown once): {hook.secret}")


@webhook_app.command("list")
def webhook_list(data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """List webhooks."""
    for h in _store(data_dir, db).list_webhooks():
        typer.echo(f"{h.id}\t{h.collection_id}\t{h.url}\t{'active' if h.active else 'removed'}")


@webhook_app.command("remove")
def webhook_remove(webhook_id: str, data_dir: Path = DataDir, db: str | None = DbUrl) -> None:
    """Stop a webhook."""
    from distillguard.exchange import admin

    if not admin.remove_webhook(_store(data_dir, db), webhook_id):
        _fail(f"no webhook {webhook_id!r}")
    typer.echo(f"webhook {webhook_id} removed")
