"""Report matches back to the hub as STIX sightings, and false positives as such.

A sighting says "this many of our accounts, between these times, matched your
indicator" -- a count and a time range, never an account id, IP or text. The hub counts
distinct corroborating members per indicator; a false-positive report (a sighting with
``false_positive: true``) lowers the indicator's corroborated confidence for every
member (see :mod:`distillguard.exchange.corroboration`), and each lab's store applies
the same model when it pulls the sightings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import polars as pl

from distillguard.share.client import HubLink, post_objects
from distillguard.share.leakguard import LeakGuard
from distillguard.share.store import IndicatorStore
from distillguard.stix.extension import sighting
from distillguard.stix.markings import MARKING_ID_OF_LEVEL


def _ts(d: datetime | None) -> str | None:
    if d is None:
        return None
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def build_sightings(matched: pl.DataFrame, *, identity: str | None, tlp: str = "amber",
                    min_accounts: int = 1, anonymous: bool = False) -> list[dict[str, Any]]:
    """One sighting per matched indicator (``matched_indicators`` output)."""
    out = []
    for row in matched.filter(pl.col("n_accounts") >= min_accounts).iter_rows(named=True):
        out.append(sighting(
            row["indicator_id"], reporter_identity=identity, count=int(row["n_accounts"]),
            first_seen=_ts(row["first_seen"]), last_seen=_ts(row["last_seen"]),
            anonymous=anonymous, marking_refs=[MARKING_ID_OF_LEVEL[tlp]],
        ))
    return out


def false_positive(indicator_id: str, *, identity: str | None, count: int = 1,
                   tlp: str = "amber", anonymous: bool = False) -> dict[str, Any]:
    """A false-positive report: the indicator matched accounts we know to be honest."""
    return sighting(indicator_id, reporter_identity=identity, count=max(1, count),
                    false_positive=True, anonymous=anonymous,
                    marking_refs=[MARKING_ID_OF_LEVEL[tlp]])


def send_sightings(link: HubLink, objs: Sequence[dict[str, Any]], store: IndicatorStore,
                   guard: LeakGuard | None, default_collection: str = "") -> list[dict[str, Any]]:
    """Post sightings to the collection each indicator came from (leak-guarded)."""
    by_col: dict[str, list[dict[str, Any]]] = {}
    for obj in objs:
        row = store.db.execute("SELECT collection FROM objects WHERE id=?",
                               (obj["sighting_of_ref"],)).fetchone()
        col = (row[0] if row and row[0] else default_collection)
        by_col.setdefault(col, []).append(obj)
    statuses = []
    with link.client(on_send=guard.enforce if guard is not None else None) as client:
        for col, items in by_col.items():
            if not col:
                continue
            body = orjson.dumps({"objects": items})
            statuses.append(post_objects(client, link, col, body))
    return statuses
