"""Streaming duplicate detection over tens of millions of string keys.

Keys are hashed to uint64 with polars (vectorised, zero-copy from Arrow) and kept in
sorted numpy arrays: one large ``main`` array plus a few small ``pending`` ones that are
merged in geometrically (amortised O(n log n), 8 bytes per key: 128 MB for 16M events).
A 64-bit hash makes a false "duplicate" among 16M distinct keys a ~1e-5 event.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

_MAX_PENDING = 8


def hash_keys(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """uint64 hash of each value (stable for a given polars version)."""
    s = pl.Series(values=col) if not isinstance(col, pa.ChunkedArray) else pl.from_arrow(col)
    assert isinstance(s, pl.Series)
    out: np.ndarray = np.asarray(s.hash(seed=0).to_numpy(), dtype=np.uint64)
    return out


def _member(sorted_arr: np.ndarray, h: np.ndarray) -> np.ndarray:
    if len(sorted_arr) == 0:
        return np.zeros(len(h), dtype=bool)
    idx = np.searchsorted(sorted_arr, h)
    idx[idx == len(sorted_arr)] = 0
    found: np.ndarray = sorted_arr[idx] == h
    return found


class SeenKeys:
    """Set of key hashes seen so far, checked and extended one batch at a time."""

    def __init__(self) -> None:
        self.main = np.empty(0, dtype=np.uint64)
        self.pending: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.main) + sum(len(p) for p in self.pending)

    def check_and_add(self, h: np.ndarray) -> np.ndarray:
        """Mask of hashes already seen, earlier in this batch or in a previous one.
        The first occurrence is never marked, so callers keep it."""
        n = len(h)
        if n == 0:
            return np.zeros(0, dtype=bool)
        # polars' parallel sort; it need not be stable: the first occurrence of each run of
        # equal hashes is found with minimum.reduceat over the original positions.
        order = pl.Series(h).arg_sort().to_numpy().astype(np.int64, copy=False)
        hs = h[order]
        starts = np.flatnonzero(np.concatenate([[True], hs[1:] != hs[:-1]]))
        uniq = hs[starts]  # sorted, unique: membership tests on sorted queries are fast
        seen = np.zeros(len(uniq), dtype=bool)
        for arr in (self.main, *self.pending):
            seen |= _member(arr, uniq)
        dup = np.ones(n, dtype=bool)
        dup[np.minimum.reduceat(order, starts)] = False
        if seen.any():
            lengths = np.diff(np.concatenate([starts, [n]]))
            dup[order[np.repeat(seen, lengths)]] = True
        new = uniq[~seen]
        if len(new):
            self.pending.append(new)
        n_pending = sum(len(p) for p in self.pending)
        if len(self.pending) > _MAX_PENDING or n_pending > max(len(self.main), 1 << 20):
            if n_pending > max(len(self.main), 1 << 20):
                self.main = np.sort(np.concatenate([self.main, *self.pending]))
                self.pending = []
            else:
                self.pending = [np.sort(np.concatenate(self.pending))]
        return dup
