"""Live sightings: the follower reports its matches back to the hub, debounced.

Issue #7: matches go back to the hub as STIX sightings (counts, a time range, no raw
data), so the publisher's indicator gains corroborated confidence for every member
while the operation is still active. The live matcher calls :meth:`LiveSightings.note`
after every delivery with the (indicator, account) pairs it currently matches; this
sends at most one sighting per indicator per ``window_s``: the first flush goes at
once (leading edge: the publisher hears about the first corroboration within the
delivery's latency), later matches within the window accumulate and go in one sighting
per indicator when the window closes (a timer), never one request per delivery.

Each sighting counts only the accounts *not reported before* for that indicator, with
the time range of their traffic. The hub adds up the counts of all of a member's
sighting versions (``sighting_reports``), so re-sending a growing total would inflate
it; new accounts per window keep the hub's sum equal to the number of distinct accounts
matched. The reported pairs are kept in the lab's local store
(``IndicatorStore.reported``), so this holds across restarts of the sensor too. Only
accounts the lab flags (by its own scan or by the share rule) are
counted: a sighting raises the indicator's confidence for everyone, so an honest
customer who merely touched a reseller's exit must not corroborate it.

Sightings go through :func:`distillguard.share.sightings.send_sightings`, i.e. the same
leak-guarded client as publish: the guard sees the request body as bytes and refuses it
if any raw value of the lab is in it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from distillguard.share.client import HubLink
from distillguard.share.leakguard import LeakGuard
from distillguard.share.sightings import build_sightings, send_sightings
from distillguard.share.store import IndicatorStore

_PAIRS = {"indicator_id": pl.String(), "account_id": pl.String()}


@dataclass
class LiveSightings:
    """Debounced sightings for one lab; see the module doc.

    ``store`` tells which collection each indicator came from; ``lock`` must be the
    follower's lock (the timer flush reads the store from its own thread).
    """

    link: HubLink
    store: IndicatorStore
    guard: LeakGuard | None
    identity: str | None = None
    collection: str = ""
    window_s: float = 60.0
    tlp: str = "amber"
    lock: threading.RLock = field(default_factory=threading.RLock)
    sent: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        with self.lock:  # what a previous run of the sensor already counted
            self._reported = self.store.reported().cast(_PAIRS)  # type: ignore[arg-type]
        self._matched = pl.DataFrame(schema=_PAIRS)
        self._spans: pl.DataFrame | None = None
        self._last = float("-inf")
        self._timer: threading.Timer | None = None

    def note(self, matched: pl.DataFrame, spans: pl.DataFrame) -> None:
        """The current ``indicator_id, account_id`` matches of flagged accounts and the
        ``account_id, first_seen, last_seen`` of their traffic; sends now if the window
        allows, else schedules the flush for the window's end."""
        if self.error is not None:
            raise self.error
        with self.lock:
            self._matched = matched.select(list(_PAIRS)).cast(_PAIRS)  # type: ignore[arg-type]
            self._spans = spans
            if self._pending().height == 0:
                return
            wait = self._last + self.window_s - time.monotonic()
            if wait <= 0:
                self.flush()
            elif self._timer is None:
                self._timer = threading.Timer(wait, self._timed)
                self._timer.daemon = True
                self._timer.start()

    def _pending(self) -> pl.DataFrame:
        return self._matched.join(self._reported, on=list(_PAIRS), how="anti")

    def _timed(self) -> None:
        try:
            with self.lock:
                self._timer = None
                self.flush()
        except Exception as exc:  # noqa: BLE001 - surfaced by the next note() / stop()
            self.error = exc

    def flush(self) -> list[dict[str, Any]]:
        """Send one sighting per indicator with accounts not reported yet; returns them."""
        with self.lock:
            new = self._pending()
            if new.height == 0 or self._spans is None:
                return []
            rows = (new.join(self._spans, on="account_id").group_by("indicator_id")
                    .agg(pl.col("account_id").n_unique().alias("n_accounts"),
                         pl.col("first_seen").min(), pl.col("last_seen").max())
                    .sort("indicator_id"))
            objs = build_sightings(rows, identity=self.identity, tlp=self.tlp)
            if objs:
                send_sightings(self.link, objs, self.store, self.guard, self.collection)
            self.store.add_reported(new)
            self._reported = pl.concat([self._reported, new]).unique()
            self._last = time.monotonic()
            self.sent += objs
            return objs

    def stop(self) -> None:
        """Cancel the timer and send what is pending (raises a timer flush's error)."""
        with self.lock:
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            self.flush()
        if self.error is not None:
            raise self.error
