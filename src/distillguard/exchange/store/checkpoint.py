"""SQLite WAL checkpoints on a background thread instead of inside publish requests.

Why: with ``journal_mode=WAL`` + ``synchronous=NORMAL`` a commit only appends pages to
the WAL (no fsync); the expensive part is the checkpoint that copies those pages into
the database file and fsyncs it. SQLite's automatic checkpoint runs it in whichever
connection happens to commit past ``wal_autocheckpoint`` pages, i.e. inside one
unlucky publish request (measured: commit of a 100-object envelope 1.2-6 ms inline vs
~0.5-1.7 ms with checkpoints moved off the request path, on this machine under load).

Here a daemon thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` shortly after writes
(``coalesce_s`` later, so that a burst of commits shares one checkpoint and one fsync)
and every ``idle_s``. sqlite3 releases the GIL while it copies and fsyncs, so requests proceed.
Durability is unchanged: committed transactions are in the WAL either way, and a
checkpoint is what SQLite would have run anyway, just elsewhere.

Bounding the WAL: a PASSIVE checkpoint that races a writer leaves the newest frames
behind, and SQLite restarts the WAL from the beginning only once every frame has been
copied. Under continuous writes that could let the file grow without end, so when the
WAL still holds more than ``force_above`` frames the next checkpoint takes the store's
write lock (no writer of this process in between) and completes. The connections'
own ``wal_autocheckpoint`` stays as a safety net should this thread not run at all.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: WAL size (pages) at which a connection checkpoints inline by itself: only reached
#: when the background thread is not keeping up (or not running).
AUTOCHECKPOINT_PAGES = 8192
#: WAL frames left behind after a PASSIVE checkpoint above which the next checkpoint
#: holds the write lock so that it completes and the WAL can restart.
FORCE_ABOVE_FRAMES = 2048


class WalCheckpointer:
    """Background ``wal_checkpoint(PASSIVE)`` for one SQLite engine (one per store)."""

    def __init__(
        self,
        engine: Engine,
        write_lock: Any,
        *,
        idle_s: float = 1.0,
        coalesce_s: float = 0.05,
        force_above: int = FORCE_ABOVE_FRAMES,
    ) -> None:
        self._engine = engine
        self._write_lock = write_lock
        self._idle_s = idle_s
        self._coalesce_s = coalesce_s
        self._force_above = force_above
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.checkpoints = 0
        self.forced = 0

    def poke(self) -> None:
        """Ask for a checkpoint soon (called after a commit). Starts the thread lazily,
        on a store's first write, so read-only stores never run one."""
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="dg-wal-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def checkpoint(self, *, force: bool = False) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames copied), as SQLite says."""
        guard = self._write_lock if force else contextlib.nullcontext()
        with guard, self._engine.connect() as conn:
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").first()
            conn.rollback()
        self.checkpoints += 1
        self.forced += int(force)
        return (int(row[0]), int(row[1]), int(row[2])) if row is not None else (0, 0, 0)

    def _run(self) -> None:
        force = False
        while not self._stop.is_set():
            if self._wake.wait(self._idle_s):
                # Let a burst of commits pile up: one checkpoint (one fsync) for all.
                self._stop.wait(self._coalesce_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                _busy, frames, copied = self.checkpoint(force=force)
            except Exception:  # e.g. "database is locked" by another process: retry later
                log.debug("background WAL checkpoint failed; will retry", exc_info=True)
                force = False
                continue
            # frames == copied means the WAL restarts at the next write.
            force = frames > self._force_above and copied < frames
