"""Live follower: the hub's push channel -> the local indicator store -> a callback.

A partner's publication is worth most in the minutes after it is made, while the
operation it describes is still sending traffic. ``Follower`` keeps one Server-Sent
Events subscription open on a collection (``/api/collections/{id}/events/``, resumed from
the store's checkpoint), stores every pushed object as it arrives and hands each *batch*
to ``on_batch`` (e.g. :class:`distillguard.sensor.live.LiveMatcher`, which matches the
new indicators against the lab's traffic and appends flags).

Two threads: a reader that only parses the stream (so a slow match never stalls the
socket) and a worker that drains what the reader queued. A publication of N objects
arrives as N events within milliseconds; the worker waits ``quiet_s`` after the last one
before it stores and calls back, so one publication costs one match, not N. Every
timestamp of a delivery is recorded (wall clock, ``time.time()``) so the latency of the
live path can be measured end to end.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distillguard.share.client import HubLink, iter_events
from distillguard.share.store import IndicatorStore


@dataclass(frozen=True)
class Delivery:
    """One batch of pushed objects, as stored."""

    objects: list[dict[str, Any]]
    first_event_id: int
    last_event_id: int
    received: float  # wall clock when the batch's first object was read off the socket
    stored: float  # wall clock once the whole batch was in the store


@dataclass
class Follower:
    """Follow ``collection`` on the hub ``link`` into ``store``; see the module doc.

    ``store`` is only touched under ``lock`` (the worker writes, callers may read).
    ``on_batch(store, delivery)`` runs in the worker thread, under ``lock``.
    """

    link: HubLink
    collection: str
    store: IndicatorStore
    on_batch: Callable[[IndicatorStore, Delivery], Any] | None = None
    quiet_s: float = 0.02
    lock: threading.RLock = field(default_factory=threading.RLock)
    deliveries: list[Delivery] = field(default_factory=list)
    received: int = 0
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self._q: queue.Queue[tuple[int, dict[str, Any], float] | None] = queue.Queue()
        self._open = threading.Event()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._resp: Any = None
        self._threads: list[threading.Thread] = []
        self._ids: set[str] = set()

    # -- life cycle ---------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> Follower:
        """Start both threads; return once the hub accepted the subscription."""
        from distillguard.share.pull import pull

        with self.lock:
            _, last_id = self.store.checkpoint(self.collection)
            if last_id is None:  # first run: poll what exists, then replay the channel
                pull(self.link, [self.collection], self.store)
                last_id = 0
        self._threads = [threading.Thread(target=self._read, args=(last_id,), daemon=True,
                                          name=f"follow-read-{self.collection}"),
                         threading.Thread(target=self._work, daemon=True,
                                          name=f"follow-work-{self.collection}")]
        for t in self._threads:
            t.start()
        if not self._open.wait(timeout) and self.error is None:
            self.stop()
            raise TimeoutError(f"no push subscription to {self.collection} in {timeout} s")
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        """Close the stream and let both threads end (pending objects are stored)."""
        self._stop.set()
        resp = self._resp
        if resp is not None:  # unblock the reader: closing the response does not
            try:
                sock = resp.extensions["network_stream"].get_extra_info("socket")
                sock.shutdown(socket.SHUT_RDWR)
            except Exception:  # noqa: BLE001 - already closed, or no socket to shut
                pass
        self._q.put(None)
        for t in self._threads:
            t.join(timeout=10)

    def __enter__(self) -> Follower:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_received(self, n: int, timeout: float = 30.0) -> bool:
        """Block until at least ``n`` objects are stored (since start); False on timeout.
        (A publication also pushes the hub's identity, marking and extension objects, so
        to wait for one publication use :meth:`wait_for_ids`.)"""
        return self._wait(lambda: self.received >= n, timeout)

    def wait_for_ids(self, ids: set[str], timeout: float = 30.0) -> bool:
        """Block until every object id in ``ids`` is stored (and its batch handed to
        ``on_batch``); False on timeout."""
        return self._wait(lambda: ids <= self._ids, timeout)

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done() and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return done()

    # -- threads ------------------------------------------------------------------------
    def _read(self, last_id: int) -> None:
        try:
            with self.link.client() as client:
                for eid, obj in iter_events(client, self.link, self.collection, last_id,
                                            on_open=self._opened):
                    self._q.put((eid, obj, time.time()))
                    if self._stop.is_set():
                        break
        except Exception as exc:  # noqa: BLE001 - reported through .error
            if not self._stop.is_set():
                self.error = exc
                with self._cond:
                    self._cond.notify_all()
        finally:
            self._open.set()
            self._q.put(None)

    def _opened(self, resp: Any) -> None:
        self._resp = resp
        self._open.set()

    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            batch = [item]
            while True:  # drain until the channel is quiet for quiet_s
                try:
                    nxt = self._q.get(timeout=self.quiet_s)
                except queue.Empty:
                    break
                if nxt is None:
                    self._q.put(None)
                    break
                batch.append(nxt)
            self._store(batch)

    def _store(self, batch: list[tuple[int, dict[str, Any], float]]) -> None:
        objs = [o for _, o, _ in batch]
        with self.lock:
            self.store.add(objs, self.collection)
            self.store.set_checkpoint(self.collection, last_event_id=batch[-1][0])
            d = Delivery(objs, batch[0][0], batch[-1][0], batch[0][2], time.time())
            self.deliveries.append(d)
            if self.on_batch is not None:
                try:
                    self.on_batch(self.store, d)
                except Exception as exc:  # noqa: BLE001 - a failing callback stops following
                    self.error = exc
                    self._stop.set()
            with self._cond:
                self.received += len(objs)
                self._ids.update(str(o.get("id")) for o in objs)
                self._cond.notify_all()
