"""Prompt skeletons: the fixed part of a templated prompt, with the payload abstracted away.

Distillation at scale is templated: an operation wraps millions of varied payloads (a maths
problem, a code task, a sensitive query) in a handful of instruction templates ("Solve the
following step by step ... {problem} ... show your reasoning"). A skeleton keeps the
template and drops what varies: numbers, quoted text, code, capitalised names, whitespace
runs. Hashing the skeleton of the *head* and of the *tail* of a prompt separately catches
both prefix templates ("Answer step by step: {x}") and suffix templates ("{x}\\n\\nThink
carefully and explain each step"), without any per-event Python.

Everything here is a polars expression, so it runs vectorised over Arrow batches (and maps
1:1 onto Spark SQL ``regexp_replace`` / ``xxhash64`` later).
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Characters of the raw prompt looked at for the head/tail skeletons. Templates put their
#: fixed instruction text in the first or last sentence or two; longer windows only add
#: payload noise and cost (the regexes below are the most expensive step of enrichment).
HEAD_CHARS = 100
TAIL_CHARS = 100
#: Characters of the *skeleton* that are hashed.
SKELETON_CHARS = 56

# Order matters: code and quotes go first so their digits/names never reach later rules.
_RULES: tuple[tuple[str, str], ...] = (
    (r"```[^`]*(?:```|$)|`[^`]*`", " C "),  # fenced (possibly cut by the window) or inline code
    (r"\"[^\"]*\"|“[^”]*”|«[^»]*»|「[^」]*」", " Q "),  # quoted text
    (r"([a-z,;:] )[A-Z][a-zA-Z]+", "${1}N"),  # capitalised name mid-sentence
    (r"[0-9]+(?:[.,][0-9]+)*", "0"),  # numbers
    # whitespace runs; single spaces are left alone (matching every space doubles the cost),
    # and the ASCII class is used because the unicode \s is ~10x slower
    (r"[ \t\r\n]{2,}|[\t\r\n]", " "),
)


def skeleton_expr(text: pl.Expr) -> pl.Expr:
    """Normalised skeleton of ``text``: numbers, code, quotes and names abstracted."""
    out = text
    for pattern, repl in _RULES:
        out = out.str.replace_all(pattern, repl)
    return out.str.to_lowercase().str.strip_chars()


def head_skeleton_expr(prompt: pl.Expr) -> pl.Expr:
    return skeleton_expr(prompt.str.head(HEAD_CHARS)).str.head(SKELETON_CHARS)


def tail_skeleton_expr(prompt: pl.Expr) -> pl.Expr:
    return skeleton_expr(prompt.str.tail(TAIL_CHARS)).str.tail(SKELETON_CHARS)


#: Distinct windows remembered per side by a :class:`SkeletonCache` (24 bytes each); past
#: this, new windows are still hashed correctly, just not remembered.
CACHE_MAX_WINDOWS = 1 << 22
_KEY_SEEDS = (0x5EED0001, 0x5EED0002)


class SkeletonCache:
    """Skeleton hash of each distinct head / tail window, remembered across batches.

    The skeleton regexes were the most expensive step of enrichment, and traffic repeats
    itself: a template sends the same head window millions of times, replayed problem sets
    the same tails. Measured on the simulated 16M world, 10M events held ~1.05M distinct
    head windows and ~1.04M distinct tails (one event in ten brings a new one), a 124k-row
    batch about a third. The skeleton is a function of the window text alone, so the
    regexes run once per window never seen before and every other row looks its hash up.

    Windows are keyed by a 64-bit hash of their text (sorted numpy arrays, binary search)
    and checked against a second, independently seeded 64-bit hash; a row whose check
    disagrees (a key collision) is hashed on its own, so a row gets a cached value only
    when both hashes agree. One instance per stream of batches (not thread-safe); each
    call's result equals the uncached computation.
    """

    def __init__(self, max_windows: int = CACHE_MAX_WINDOWS) -> None:
        self.max_windows = max_windows
        empty = np.empty(0, dtype=np.uint64)
        self._keys = {"head": empty, "tail": empty}
        self._checks = {"head": empty, "tail": empty}
        self._values = {"head": empty, "tail": empty}

    def hashes(self, side: str, prompts: pl.Series, seed: int) -> pl.Series:
        """``UInt64`` skeleton hash (``seed``) of each prompt's ``side`` window; null
        where the prompt is null."""
        win = prompts.str.head(HEAD_CHARS) if side == "head" else prompts.str.tail(TAIL_CHARS)
        valid = win.is_not_null().to_numpy()
        rows = np.flatnonzero(valid)
        out = np.zeros(len(win), dtype=np.uint64)
        if len(rows):
            w = win.gather(rows) if len(rows) < len(win) else win
            k1 = w.hash(_KEY_SEEDS[0]).to_numpy()
            k2 = w.hash(_KEY_SEEDS[1]).to_numpy()
            uniq, first, inv = np.unique(k1, return_index=True, return_inverse=True)
            keys, checks, values = self._keys[side], self._checks[side], self._values[side]
            pos = np.searchsorted(keys, uniq)
            hit = pos < len(keys)
            hit[hit] = keys[pos[hit]] == uniq[hit]
            u_val = np.empty(len(uniq), dtype=np.uint64)
            u_chk = np.empty(len(uniq), dtype=np.uint64)
            u_val[hit] = values[pos[hit]]
            u_chk[hit] = checks[pos[hit]]
            miss = np.flatnonzero(~hit)
            if len(miss):
                rep = first[miss]
                u_val[miss] = _skeleton_hashes(side, w.gather(rep), seed)
                u_chk[miss] = k2[rep]
                room = self.max_windows - len(keys)
                if room > 0:
                    add = miss[:room]
                    at = np.searchsorted(keys, uniq[add])
                    self._keys[side] = np.insert(keys, at, uniq[add])
                    self._checks[side] = np.insert(checks, at, u_chk[add])
                    self._values[side] = np.insert(values, at, u_val[add])
            vals = u_val[inv.reshape(-1)]
            bad = np.flatnonzero(u_chk[inv.reshape(-1)] != k2)
            if len(bad):  # key collision: these rows are hashed on their own
                vals[bad] = _skeleton_hashes(side, w.gather(bad), seed)
            out[rows] = vals
        return pl.Series(out, dtype=pl.UInt64()).scatter(np.flatnonzero(~valid), None)


def _skeleton_hashes(side: str, windows: pl.Series, seed: int) -> np.ndarray:
    """Hash of the skeleton of each (non-null) window, as the uncached path computes it."""
    skel = skeleton_expr(pl.col("w"))
    cut = skel.str.head(SKELETON_CHARS) if side == "head" else skel.str.tail(SKELETON_CHARS)
    return windows.to_frame("w").select(cut.hash(seed)).to_series().to_numpy()
