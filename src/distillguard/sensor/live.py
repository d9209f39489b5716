"""Live matching: each new batch of partner indicators -> match -> flags appended.

``LiveMatcher`` is the ``on_batch`` callback of :class:`~distillguard.sensor.follower.
Follower` that ``distillguard share pull --follow --match DATASET`` runs. It holds the
lab's stage-1 traffic frame and its last scan in memory, and on every delivery folds
only the indicators the delivery touched (new, modified, revoked, or with new sightings)
into an :class:`~distillguard.share.incremental.IncrementalMatch` (the same result as
matching the whole store: new evidence combines with what partners said before, and
false-positive reports that arrive later lower it; the cost follows the delivery, not
the store), folds the boosts into the scan with
:func:`distillguard.share.match.apply_boosts` (the same flag rule as ``share match``)
and appends one JSON line per *newly* flagged account to ``flags_path``. Account ids are
written only to that local file. With ``sightings`` (a
:class:`~distillguard.sensor.sightings.LiveSightings`), the matches of flagged accounts
are reported to the hub as debounced STIX sightings (counts and time ranges only).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

from distillguard.sensor.follower import Delivery
from distillguard.sensor.sightings import LiveSightings
from distillguard.share.incremental import IncrementalMatch, touched_ids
from distillguard.share.keys import KeyRing
from distillguard.share.store import IndicatorStore


@dataclass(frozen=True)
class MatchRound:
    """Timings (wall clock, ``time.time()``) of one delivery's trip through the lab."""

    last_event_id: int
    objects: int
    received: float
    stored: float
    matched: float
    written: float
    new_flags: int
    boosted: int


@dataclass
class LiveMatcher:
    """Match every delivery against ``events`` and append new flags; see module doc.

    ``events``: the stage-1 frame (``load_lab``); ``accounts``: canonical accounts;
    ``scan``: the scan's accounts table (``account_id, score, flagged, reasons``).
    """

    events: pl.DataFrame
    accounts: pl.DataFrame
    scan: pl.DataFrame
    keyring: KeyRing
    identity: str | None = None
    flags_path: Path | None = None
    skeletons: pl.DataFrame | None = None
    sightings: LiveSightings | None = None
    #: False: rebuild the match state from the whole store on every delivery (the
    #: pre-incremental behaviour; kept for the bench comparison and as a fallback)
    incremental: bool = True
    rounds: list[MatchRound] = field(default_factory=list)
    flagged: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        from distillguard.share.match import apply_boosts, operating_threshold

        base = apply_boosts(self.scan, pl.DataFrame(
            schema={"account_id": pl.String, "share_boost": pl.Float64,
                    "share_reasons": pl.String, "share_signals": pl.String}))
        self.base = base.drop("share_boost", "share_reasons", "share_signals")
        self.threshold = operating_threshold(self.base)
        self.flagged = set(self.base.filter("flagged").get_column("account_id").to_list())
        self._done = threading.Condition()
        # the traffic is fixed: hash and count it once, and keep what matched
        self.state = IncrementalMatch(self.events, self.accounts, self.keyring,
                                      identity=self.identity, skeletons=self.skeletons)
        self._primed = False

    def prime(self, store: IndicatorStore) -> None:
        """Match everything ``store`` already holds (once, before following), and build
        the per-column ``(account, value)`` counts evidence needs, so the first pushed
        publication costs what later ones cost."""
        self.state.update(store)
        self.state.warm()
        self._primed = True

    def __call__(self, store: IndicatorStore, delivery: Delivery) -> MatchRound:
        from distillguard.share.match import apply_boosts

        if self._primed and self.incremental:
            self.state.update(store, touched_ids(delivery.objects))
        else:  # first delivery: what the store held before (e.g. a pull) counts too
            self.state.update(store)
            self._primed = True
        out = apply_boosts(self.base, self.state.boosts(), threshold=self.threshold)
        matched = time.time()
        new = out.filter(pl.col("flagged")
                         & ~pl.col("account_id").is_in(pl.Series(list(self.flagged),
                                                                 dtype=pl.String).implode()))
        if new.height and self.flags_path is not None:
            now = datetime.now(UTC).isoformat()
            lines = b"".join(orjson.dumps({
                "account_id": r["account_id"], "flagged_at": now, "score": r["score"],
                "share_boost": r["share_boost"], "share_reasons": r["share_reasons"],
                "last_event_id": delivery.last_event_id}) + b"\n"
                for r in new.select("account_id", "score", "share_boost",
                                    "share_reasons").iter_rows(named=True))
            self.flags_path.parent.mkdir(parents=True, exist_ok=True)
            with self.flags_path.open("ab") as fh:
                fh.write(lines)
        self.flagged.update(new.get_column("account_id").to_list())
        r = MatchRound(delivery.last_event_id, len(delivery.objects), delivery.received,
                       delivery.stored, matched, time.time(), new.height,
                       int((out.get_column("share_boost") > 0).sum()))
        if self.sightings is not None:  # after the flags: reporting never delays them
            flagged = out.filter("flagged").select("account_id")
            self.sightings.note(self.state.matched_accounts().join(flagged, on="account_id",
                                                                   how="semi"),
                                self.state.spans())
        with self._done:
            self.rounds.append(r)
            self._done.notify_all()
        return r

    def wait_for_event(self, event_id: int, timeout: float = 60.0) -> MatchRound | None:
        """The round that covered ``event_id`` (block until it exists), None on timeout."""
        deadline = time.monotonic() + timeout
        with self._done:
            while True:
                for r in self.rounds:
                    if r.last_event_id >= event_id:
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._done.wait(left)
