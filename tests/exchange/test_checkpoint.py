"""Background WAL checkpoints (SQLite): publishes still land, the WAL gets copied into
the database file off the request path, and a forced checkpoint lets the WAL restart."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from distillguard.exchange import admin
from distillguard.exchange.ingest import prepare
from distillguard.exchange.store.sql import SqlStore

from .stixgen import indicator


def test_checkpointer_starts_on_first_write_and_copies_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    store = SqlStore(f"sqlite:///{db}")
    try:
        store.create_schema()
        ck = store._checkpointer
        assert ck is not None and ck._thread is None  # nothing written yet: no thread
        col = admin.create_collection(store, "ckpt")  # (publishes the hub's definitions)
        mid = admin.add_member(store, "ckpt-lab").member.id
        for start in (0, 100, 200):
            good, bad = prepare([indicator(20_000 + start + i) for i in range(100)])
            assert not bad
            assert store.add_objects(col.id, mid, good)[1] == 100
        assert ck._thread is not None and ck._thread.is_alive()
        deadline = time.monotonic() + 10
        while ck.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ck.checkpoints >= 1
        # With no writer left, a checkpoint copies every WAL frame (so the WAL restarts).
        _busy, frames, copied = ck.checkpoint(force=True)
        assert frames == copied
        # Another connection (as another process would) sees every object in the file.
        with sqlite3.connect(db) as raw:
            assert raw.execute("SELECT count(*) FROM objects").fetchone()[0] == 300 + len(admin.definition_objects())
    finally:
        store.close()
    assert ck._thread is not None and not ck._thread.is_alive()


def test_postgres_store_has_no_checkpointer() -> None:
    store = SqlStore("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects
    assert store._checkpointer is None
    store.close()
