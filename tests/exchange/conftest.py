"""One running hub per storage backend; every hub test runs against both.

PostgreSQL: a uniquely named database is created for the session on the local server
(127.0.0.1:5432, trust auth) and dropped afterwards. When the server is unreachable the
postgres-parametrized tests are skipped locally but FAIL under CI (``CI=true``), where
the server is started by .ci/run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from distillguard.exchange import admin
from distillguard.exchange.app import create_app
from distillguard.exchange.server import RunningServer, start_in_thread
from distillguard.exchange.settings import HubSettings
from distillguard.exchange.store.sql import SqlStore

PG_ADMIN_URL = os.environ.get(
    "DISTILLGUARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Hub:
    backend: str
    url: str
    store: SqlStore
    server: RunningServer

    @property
    def api(self) -> str:
        return f"{self.url}/api/"

    def collection_url(self, cid: str) -> str:
        return f"{self.url}/api/collections/{cid}/"


def _pg_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = f"dg_hub_test_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _settings(url: str) -> HubSettings:
    return HubSettings(
        database_url=url, max_content_length=256 * 1024, default_page_size=50, max_page_size=200
    )


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("hub") / "hub.db"
        gen: Iterator[str] | None = None
        url = f"sqlite:///{db}"
    else:
        gen = _pg_database()
        url = next(gen)
    store = SqlStore(url)
    app = create_app(_settings(url), store)
    running = start_in_thread(app)
    try:
        yield Hub(request.param, running.url, store, running)
    finally:
        running.stop()
        store.close()
        if gen is not None:
            for _ in gen:
                pass


@dataclass
class Lab:
    name: str
    password: str
    identity: str


@dataclass
class World:
    collection: str
    alice: Lab  # read + write, on the org list
    bob: Lab  # read only, not on the org list
    carol: Lab  # write only
    dave: Lab  # no grant at all


_RIGHTS: dict[str, tuple[bool, bool, bool] | None] = {
    "alice": (True, True, True),
    "bob": (True, False, False),
    "carol": (False, True, False),
    "dave": None,
}


def make_world(hub: Hub) -> World:
    """A fresh collection and four members with different rights (unique names)."""
    tag = uuid.uuid4().hex[:8]
    col = admin.create_collection(hub.store, f"forum-{tag}", "test collection")
    labs = {}
    for who, rights in _RIGHTS.items():
        new = admin.add_member(hub.store, f"{who}-{tag}", org=f"{who}-lab")
        if rights is not None:
            admin.grant(
                hub.store, col.id, new.member.name, read=rights[0], write=rights[1], in_org=rights[2]
            )
        labs[who] = Lab(new.member.name, new.password.secret, new.member.identity_id)
    return World(col.id, **labs)


@pytest.fixture(scope="module")
def world(hub: Hub) -> World:
    return make_world(hub)
