"""Incremental matching: apply only newly delivered indicators to cached match state.

The live sensor receives partners' indicators a publication at a time while the store
may already hold 100k of them. Re-reading and re-joining the whole store on every push
costs time proportional to the store; this keeps, per source (card, domain, account,
IP, template column, sketch), the lab values that matched each indicator, and the live
indicators' metadata (publisher, type, corroborated confidence, expiry). A delivery
touches a handful of ids: indicators that are new, modified or revoked, and indicators
whose sightings changed (their confidence moves). Only those are re-read and
re-matched; evidence is then combined from the cached hits exactly as
:func:`distillguard.share.match.match_indicators` combines it (the test checks
incremental == full recompute after each delivery).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from distillguard.share.keys import KeyRing
from distillguard.share.match import (
    MatchCache,
    Source,
    _combine,
    _own_values,
    _totals,
    _value_counts,
    match_sources,
    publisher_evidence,
)
from distillguard.share.store import IndicatorStore

_IND = {"indicator_id": pl.String(), "publisher": pl.String(), "signal_type": pl.String(),
        "confidence": pl.Int64(), "corr": pl.Int64(), "fps": pl.Int64(),
        "valid_until": pl.String()}


@dataclass
class _Subset:
    """The store seen through a set of indicator ids (what ``match_sources`` reads)."""

    store: IndicatorStore
    ids: Collection[str]

    def indicators(self, *, exclude_publisher: str | None = None,
                   now: datetime | None = None) -> pl.DataFrame:
        # expiry is checked when evidence is combined, not when the hits are cached
        return self.store.indicators(exclude_publisher=exclude_publisher, ids=self.ids,
                                     now=datetime(1970, 1, 1, tzinfo=UTC))

    def hashes(self) -> pl.DataFrame:
        return self.store.hashes(self.ids)

    def blocks(self) -> pl.DataFrame:
        return self.store.blocks(self.ids)

    def sketches(self) -> tuple[pl.DataFrame, npt.NDArray[np.uint64]]:
        return self.store.sketches(self.ids)


def touched_ids(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    """Indicator ids a delivery can change: the indicators in it, and the indicators its
    sightings refer to (their corroborated confidence moves)."""
    out: set[str] = set()
    for o in objects:
        if o.get("type") == "indicator" and isinstance(o.get("id"), str):
            out.add(o["id"])
        elif o.get("type") == "sighting" and isinstance(o.get("sighting_of_ref"), str):
            out.add(o["sighting_of_ref"])
    return out


@dataclass
class IncrementalMatch:
    """Match state of one lab's fixed traffic against a growing indicator store.

    ``update(store, ids)`` folds the current version of the indicators ``ids`` into the
    state (``ids=None``: everything in the store, i.e. a full rebuild); ``boosts()`` is
    ``match_indicators`` on the whole store, from the cache.
    """

    events: pl.DataFrame
    accounts: pl.DataFrame
    keyring: KeyRing
    identity: str | None = None
    skeletons: pl.DataFrame | None = None
    cache: MatchCache = field(default_factory=MatchCache)
    #: (name, table, col) -> ``value, indicator_id`` of every cached hit
    hits: dict[tuple[str, str, str], pl.DataFrame] = field(default_factory=dict)
    ind: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_IND))

    def update(self, store: IndicatorStore, ids: Collection[str] | None = None) -> None:
        """Re-read and re-match ``ids`` (all indicators in ``store`` when None)."""
        if ids is None:
            self.hits, self.ind = {}, pl.DataFrame(schema=_IND)
            ids = [r[0] for r in store.db.execute(
                "SELECT id FROM objects WHERE type='indicator'").fetchall()]
        ids = sorted(set(ids))
        if not ids:
            return
        gone = pl.Series(ids, dtype=pl.String).implode()
        self.ind = self.ind.filter(~pl.col("indicator_id").is_in(gone))
        self.hits = {k: h.filter(~pl.col("indicator_id").is_in(gone))
                     for k, h in self.hits.items()}
        fresh = store.indicators(exclude_publisher=self.identity, ids=ids,
                                 keep_valid_until=True)
        self.ind = pl.concat([self.ind, fresh.cast(_IND)])  # type: ignore[arg-type]
        if fresh.height == 0:
            return
        sources, _ = match_sources(self.events, self.accounts,
                                   _Subset(store, fresh["indicator_id"].to_list()),  # type: ignore[arg-type]
                                   keyring=self.keyring, identity=self.identity,
                                   skeletons=self.skeletons, cache=self.cache)
        for src in sources:
            key = (src.name, src.table, src.col)
            old = self.hits.get(key)
            h = src.hits.select("value", "indicator_id")
            self.hits[key] = h if old is None else pl.concat([old, h]).unique()

    def warm(self) -> None:
        """Build the per-account totals and the ``(account, value)`` counts of every
        traffic column a source can match (the first evidence otherwise pays them:
        ~1.4 s at 1M events), so a later delivery only joins."""
        _totals(self.events, self.cache)
        for col in ("client_ip", "template_id", "tpl_head", "tpl_tail"):
            if col in self.events.columns:
                empty = pl.DataFrame({"value": self.events.get_column(col).head(0),
                                      "indicator_id": pl.Series([], dtype=pl.String)})
                _value_counts(self.events, Source(col, "events", col, empty), self.cache)

    def live(self, now: datetime | None = None) -> pl.DataFrame:
        """The cached indicators that have not expired at ``now``."""
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return self.ind.filter((pl.col("valid_until") == "")
                               | (pl.col("valid_until") > stamp)).drop("valid_until")

    def sources(self) -> list[Source]:
        return [Source(n, t, c, h) for (n, t, c), h in self.hits.items() if h.height]

    def boosts(self, now: datetime | None = None) -> pl.DataFrame:
        """``account_id, share_boost, share_reasons, share_signals`` for every account."""
        base = self.accounts.select(pl.col("account_id").cast(pl.String)).unique()
        ev = publisher_evidence(self.events, self.accounts, self.sources(), self.live(now),
                                self.cache)
        return _combine(base, ev)

    def matched_accounts(self, now: datetime | None = None) -> pl.DataFrame:
        """``indicator_id, account_id`` for every live indicator and account it matches
        (what a sighting counts)."""
        live = self.live(now).select("indicator_id")
        parts = []
        for src in self.sources():
            if src.table == "accounts":
                parts.append(_own_values(self.accounts, src).join(src.hits, on="value")
                             .select("indicator_id", "account_id"))
            else:
                parts.append(_value_counts(self.events, src, self.cache)
                             .join(src.hits, on="value").select("indicator_id", "account_id"))
        if not parts:
            return pl.DataFrame(schema={"indicator_id": pl.String, "account_id": pl.String})
        return (pl.concat([p.cast({"indicator_id": pl.String, "account_id": pl.String})
                           for p in parts]).unique().join(live, on="indicator_id", how="semi"))

    def spans(self) -> pl.DataFrame:
        """``account_id, first_seen, last_seen`` of each account's traffic (cached)."""
        return self.cache.get(("spans",), lambda: self.events.group_by(
            pl.col("account_id").cast(pl.String)).agg(
            pl.col("ts").min().alias("first_seen"), pl.col("ts").max().alias("last_seen")))

