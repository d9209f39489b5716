"""Local SQLite store of partners' indicators and sightings, shaped for vectorised matching.

Only the latest version of each object is kept. Indicators are exploded into one row per
keyed hash / raw block / sketch so matching is a join, not a walk over STIX JSON.
Sightings (other members' corroborations and false-positive reports) adjust each
indicator's effective confidence with the hub's own model
(:func:`distillguard.exchange.corroboration.corroborated_confidence`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import polars as pl

from distillguard.exchange.corroboration import corroborated_confidence
from distillguard.stix.extension import extension_body

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  id TEXT PRIMARY KEY, modified TEXT NOT NULL, collection TEXT, type TEXT,
  created_by TEXT, signal_type TEXT, confidence INTEGER, valid_until TEXT,
  revoked INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hashes (
  indicator_id TEXT NOT NULL, signal_type TEXT NOT NULL, key_id TEXT, epoch TEXT,
  hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hashes_ind ON hashes(indicator_id);
CREATE TABLE IF NOT EXISTS blocks (indicator_id TEXT NOT NULL, block TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_ind ON blocks(indicator_id);
CREATE TABLE IF NOT EXISTS sketches (
  indicator_id TEXT PRIMARY KEY, key_id TEXT, epoch TEXT, hashvalues BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sightings (
  id TEXT PRIMARY KEY, sighting_of TEXT NOT NULL, reporter TEXT, count INTEGER,
  false_positive INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS checkpoints (
  collection TEXT PRIMARY KEY, added_after TEXT, last_event_id INTEGER);
CREATE TABLE IF NOT EXISTS reported (
  indicator_id TEXT NOT NULL, account_id TEXT NOT NULL,
  PRIMARY KEY (indicator_id, account_id));
"""
_BLOCK_TERM = "ISSUBSET '"


def _blocks_of(pattern: str) -> list[str]:
    out = []
    for part in pattern.split(_BLOCK_TERM)[1:]:
        out.append(part.split("'", 1)[0])
    return out


class IndicatorStore:
    """Partner indicators on disk (``path``) or in memory (``":memory:"``)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- writes -------------------------------------------------------------------------
    def add(self, objs: Iterable[Mapping[str, Any]], collection: str = "") -> int:
        """Store objects (newer versions replace older; revoked ones are dropped).
        Returns how many indicator/grouping/sighting versions were taken."""
        n = 0
        cur = self.db.cursor()
        for obj in objs:
            kind = obj.get("type")
            if kind == "sighting":
                n += self._add_sighting(cur, obj)
                continue
            if kind not in ("indicator", "grouping") or not isinstance(obj.get("id"), str):
                continue
            oid, modified = obj["id"], str(obj.get("modified") or obj.get("created") or "")
            row = cur.execute("SELECT modified FROM objects WHERE id=?", (oid,)).fetchone()
            if row is not None and row[0] >= modified:
                continue
            ext = extension_body(obj)
            cur.execute("DELETE FROM hashes WHERE indicator_id=?", (oid,))
            cur.execute("DELETE FROM blocks WHERE indicator_id=?", (oid,))
            cur.execute("DELETE FROM sketches WHERE indicator_id=?", (oid,))
            revoked = obj.get("revoked") is True
            cur.execute(
                "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?,?,?,?,?,?)",
                (oid, modified, collection, kind, obj.get("created_by_ref"),
                 ext.get("signal_type"), obj.get("confidence"), obj.get("valid_until"),
                 int(revoked), orjson.dumps(obj).decode()),
            )
            n += 1
            if revoked or kind != "indicator":
                continue
            sig = str(ext.get("signal_type", ""))
            hashes = ext.get("hashes")
            if isinstance(hashes, Mapping) and isinstance(hashes.get("values"), list):
                cur.executemany(
                    "INSERT INTO hashes VALUES (?,?,?,?,?)",
                    [(oid, sig, hashes.get("key_id"), hashes.get("epoch"), str(h))
                     for h in hashes["values"]],
                )
            sketch = ext.get("sketch")
            if isinstance(sketch, Mapping) and isinstance(sketch.get("hashvalues"), list):
                hv = np.asarray(sketch["hashvalues"], dtype=np.uint64)
                cur.execute("INSERT INTO sketches VALUES (?,?,?,?)",
                            (oid, sketch.get("key_id"), sketch.get("epoch"), hv.tobytes()))
            if obj.get("pattern_type") == "stix" and sig == "network-infrastructure":
                cur.executemany("INSERT INTO blocks VALUES (?,?)",
                                [(oid, b) for b in _blocks_of(str(obj.get("pattern", "")))])
        self.db.commit()
        return n

    def _add_sighting(self, cur: sqlite3.Cursor, obj: Mapping[str, Any]) -> int:
        ref = obj.get("sighting_of_ref")
        if not isinstance(ref, str) or not isinstance(obj.get("id"), str):
            return 0
        ext = extension_body(obj)
        reporter = "anonymous:" + obj["id"] if ext.get("anonymous") else obj.get("created_by_ref")
        cur.execute("INSERT OR REPLACE INTO sightings VALUES (?,?,?,?,?)",
                    (obj["id"], ref, reporter, int(obj.get("count", 1) or 1),
                     int(ext.get("false_positive") is True)))
        return 1

    def checkpoint(self, collection: str) -> tuple[str | None, int | None]:
        row = self.db.execute("SELECT added_after, last_event_id FROM checkpoints "
                              "WHERE collection=?", (collection,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def set_checkpoint(self, collection: str, *, added_after: str | None = None,
                       last_event_id: int | None = None) -> None:
        old_after, old_event = self.checkpoint(collection)
        self.db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                        (collection, added_after or old_after,
                         last_event_id if last_event_id is not None else old_event))
        self.db.commit()

    # -- what this lab's live sensor already reported ------------------------------------
    def reported(self) -> pl.DataFrame:
        """``indicator_id, account_id`` pairs already counted in a sighting we sent.

        Kept here, beside the checkpoint, so a restarted sensor neither re-counts an
        account (the hub sums a member's sighting counts) nor forgets one. The account
        ids are this lab's own and stay in this local file; no sighting carries them."""
        rows = self.db.execute("SELECT indicator_id, account_id FROM reported").fetchall()
        return pl.DataFrame(rows, schema={"indicator_id": pl.String, "account_id": pl.String},
                            orient="row")

    def add_reported(self, pairs: pl.DataFrame) -> None:
        """Remember ``indicator_id, account_id`` pairs as reported (after the send)."""
        self.db.executemany("INSERT OR IGNORE INTO reported VALUES (?,?)",
                            pairs.select("indicator_id", "account_id").iter_rows())
        self.db.commit()

    # -- reads for matching -------------------------------------------------------------
    def _rows(self, sql: str, col: str, ids: Collection[str] | None,
              where: bool = False) -> list[Any]:
        """``sql`` rows, or only those whose ``col`` is in ``ids`` (chunked ``IN`` lists,
        so a delivery of a few objects reads a few rows, not the whole store)."""
        if ids is None:
            return self.db.execute(sql).fetchall()
        ids = list(ids)
        out: list[Any] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            q = f"{sql} {'AND' if where else 'WHERE'} {col} IN ({','.join('?' * len(chunk))})"
            out += self.db.execute(q, chunk).fetchall()
        return out

    def indicators(self, *, exclude_publisher: str | None = None,
                   now: datetime | None = None, ids: Collection[str] | None = None,
                   keep_valid_until: bool = False) -> pl.DataFrame:
        """Live indicators: ``indicator_id, publisher, signal_type, confidence`` where
        ``confidence`` is corroborated by other members' sightings (0..100).

        ``ids``: only these indicators; ``keep_valid_until``: also return
        ``valid_until`` and keep expired ones (an incremental matcher filters at use)."""
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rows = self._rows(
            "SELECT id, coalesce(created_by, ''), coalesce(signal_type, ''), "
            "coalesce(confidence, 50), coalesce(valid_until, '') FROM objects "
            "WHERE type='indicator' AND revoked=0", "id", ids, where=True)
        df = pl.DataFrame(rows, schema={"indicator_id": pl.String, "publisher": pl.String,
                                        "signal_type": pl.String, "base": pl.Int64,
                                        "valid_until": pl.String}, orient="row")
        if not keep_valid_until:
            df = df.filter((pl.col("valid_until") == "") | (pl.col("valid_until") > stamp))
        if exclude_publisher:
            df = df.filter(pl.col("publisher") != exclude_publisher)
        s = self._rows("SELECT sighting_of, coalesce(reporter, ''), false_positive "
                       "FROM sightings", "sighting_of", ids)
        sig = pl.DataFrame(s, schema={"indicator_id": pl.String, "reporter": pl.String,
                                      "fp": pl.Int64}, orient="row")
        if exclude_publisher:  # our own sightings (sent by the live sensor, pulled back)
            # corroborate nothing; our own false-positive reports still count against an
            # indicator (we reviewed the accounts it matched and found them honest)
            sig = sig.filter((pl.col("reporter") != exclude_publisher) | (pl.col("fp") == 1))
        counts = (
            sig.join(df.select("indicator_id", "publisher"), on="indicator_id")
            .filter(pl.col("reporter") != pl.col("publisher"))
            .group_by("indicator_id")
            .agg(pl.col("reporter").filter(pl.col("fp") == 0).n_unique().alias("corr"),
                 pl.col("reporter").filter(pl.col("fp") == 1).n_unique().alias("fps"))
        )
        df = df.join(counts, on="indicator_id", how="left").with_columns(
            pl.col("corr").fill_null(0), pl.col("fps").fill_null(0))
        conf = [corroborated_confidence(b, c, f) for b, c, f in
                zip(df["base"].to_list(), df["corr"].to_list(), df["fps"].to_list(), strict=True)]
        return df.with_columns(pl.Series("confidence", conf, dtype=pl.Int64)).select(
            "indicator_id", "publisher", "signal_type", "confidence", "corr", "fps",
            *(["valid_until"] if keep_valid_until else []))

    def hashes(self, ids: Collection[str] | None = None) -> pl.DataFrame:
        rows = self._rows("SELECT indicator_id, signal_type, coalesce(key_id,''), "
                          "coalesce(epoch,''), hash FROM hashes", "indicator_id", ids)
        return pl.DataFrame(rows, schema={"indicator_id": pl.String, "signal_type": pl.String,
                                          "key_id": pl.String, "epoch": pl.String,
                                          "hash": pl.String}, orient="row")

    def blocks(self, ids: Collection[str] | None = None) -> pl.DataFrame:
        rows = self._rows("SELECT indicator_id, block FROM blocks", "indicator_id", ids)
        return pl.DataFrame(rows, schema={"indicator_id": pl.String, "block": pl.String},
                            orient="row")

    def sketches(self, ids: Collection[str] | None = None
                 ) -> tuple[pl.DataFrame, npt.NDArray[np.uint64]]:
        from distillguard.share.sketch import NUM_PERM

        rows = sorted((r for r in self._rows(
            "SELECT indicator_id, coalesce(key_id,''), coalesce(epoch,''), hashvalues "
            "FROM sketches", "indicator_id", ids)
            if len(r[3]) == 8 * NUM_PERM), key=lambda r: r[0])  # other sketch sizes cannot be compared with ours
        meta = pl.DataFrame([r[:3] for r in rows], schema={"indicator_id": pl.String,
                            "key_id": pl.String, "epoch": pl.String}, orient="row")
        if not rows:
            return meta, np.zeros((0, 0), dtype=np.uint64)
        sigs = np.stack([np.frombuffer(r[3], dtype=np.uint64) for r in rows])
        return meta, sigs

    def counts(self) -> dict[str, int]:
        q = {"objects": "SELECT count(*) FROM objects", "hashes": "SELECT count(*) FROM hashes",
             "blocks": "SELECT count(*) FROM blocks", "sketches": "SELECT count(*) FROM sketches",
             "sightings": "SELECT count(*) FROM sightings"}
        return {k: int(self.db.execute(v).fetchone()[0]) for k, v in q.items()}
