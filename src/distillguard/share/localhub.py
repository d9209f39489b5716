"""A real hub in this process with one collection every member may read and write.

The live-path tests, the share benchmark and the wire tests all need the same set-up
(SQLite hub store, uvicorn thread, a collection, one member per lab with a
:class:`HubLink`); it is written once here so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from distillguard.exchange import admin
from distillguard.exchange.app import create_app
from distillguard.exchange.server import RunningServer, start_in_thread
from distillguard.exchange.settings import HubSettings
from distillguard.exchange.store.sql import SqlStore
from distillguard.share.client import HubLink
from distillguard.share.wire import WireCapture


@dataclass
class LocalHub:
    server: RunningServer
    capture: WireCapture | None  # every request's bytes, when asked for
    store: SqlStore
    collection: str
    links: dict[str, HubLink]  # member name -> its authenticated link
    identities: dict[str, str]  # member name -> its STIX identity id


@contextmanager
def local_hub(db: str | Path, members: Iterable[str], *, title: str = "distillation",
              description: str = "", capture: bool = False) -> Iterator[LocalHub]:
    """Serve a hub on SQLite file ``db`` until the block ends; each of ``members`` joins
    (org = its name) with read and write rights on one new collection."""
    url = f"sqlite:///{db}"
    store = SqlStore(url)
    app = create_app(HubSettings(database_url=url), store)
    cap = WireCapture(app) if capture else None
    server = start_in_thread(cap if cap is not None else app)  # type: ignore[arg-type]
    try:
        col = admin.create_collection(store, title, description).id
        links, ids = {}, {}
        for name in members:
            new = admin.add_member(store, name, org=name)
            admin.grant(store, col, name, read=True, write=True)
            links[name] = HubLink(server.url, user=name, password=new.password.secret)
            ids[name] = new.member.identity_id
        yield LocalHub(server, cap, store, col, links, ids)
    finally:
        server.stop()
        store.close()
