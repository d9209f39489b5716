"""Keyed similarity sketches of prompt-template families (text never leaves the lab).

A template family is identified in the lab by its *skeleton*: the template's fixed text
with numbers, names, code and quotes abstracted (:mod:`distillguard.enrich._skeleton`).
We publish a keyed MinHash of the skeleton's character 5-gram shingles:

* each shingle is hashed with BLAKE2b keyed by the epoch key (without the key, a shingle
  value cannot be tested against guessed text);
* the MinHash permutations are drawn from the same key, so sketches are comparable only
  between key holders of one epoch.

Two key holders compare sketches: the fraction of equal positions estimates the Jaccard
similarity of the two skeletons' shingle sets ("same template family?"), so a surface
variant of a template (punctuation, an extra word) still matches, while the sketch
reveals neither the text nor, to an outsider, anything testable.

Matching many sketches uses LSH banding (``BANDS`` x ``ROWS``): candidate pairs share a
band, and only candidates get the full estimate, so it scales to many partner sketches.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

NUM_PERM = 64
SHINGLE = 5
BANDS, ROWS = 16, 4  # BANDS * ROWS == NUM_PERM; ~50% candidate rate at Jaccard 0.5
_MERSENNE = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Character ``k``-grams of the whitespace-normalised, lower-cased text."""
    t = " ".join(text.lower().split())
    if len(t) <= k:
        return {t} if t else set()
    return {t[i : i + k] for i in range(len(t) - k + 1)}


def _perms(key: bytes, num_perm: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    stream = b"".join(
        hmac.digest(key, f"distillguard/minhash/{i}".encode(), "sha256")
        for i in range((num_perm * 16 + 31) // 32)
    )
    raw = np.frombuffer(stream[: num_perm * 16], dtype="<u8").reshape(num_perm, 2)
    a = (raw[:, 0] % (_MERSENNE - np.uint64(1))) + np.uint64(1)
    b = raw[:, 1] % _MERSENNE
    return a, b


def keyed_minhash(
    texts: Sequence[str], key: bytes, num_perm: int = NUM_PERM
) -> npt.NDArray[np.uint64]:
    """``(len(texts), num_perm)`` keyed MinHash signatures (32-bit values in uint64).

    An empty text gets an all-``2**32-1`` signature, which matches nothing real.
    """
    a, b = _perms(key, num_perm)
    out = np.full((len(texts), num_perm), _MASK32, dtype=np.uint64)
    for i, text in enumerate(texts):
        sh = shingles(text)
        if not sh:
            continue
        hv = np.fromiter(
            (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4, key=key[:64],
                                            person=b"dg-shingle").digest(), "little")
             for s in sh),
            dtype=np.uint64, count=len(sh),
        )
        with np.errstate(over="ignore"):
            ph = ((hv[:, None] * a[None, :] + b[None, :]) % _MERSENNE) & _MASK32
        out[i] = ph.min(axis=0)
    return out


def jaccard(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def _bands(ids: pl.Series, sigs: npt.NDArray[np.uint64], name: str) -> pl.DataFrame:
    n = sigs.shape[0]
    if n == 0:
        return pl.DataFrame(schema={name: ids.dtype, "band": pl.UInt16(), "bkey": pl.UInt64()})
    view = np.ascontiguousarray(sigs[:, : BANDS * ROWS]).reshape(n, BANDS, ROWS)
    # Combine the ROWS values of a band into one 64-bit key (deterministic, no Python loop).
    mult = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                     0x27D4EB2F165667C5], dtype=np.uint64)[:ROWS]
    with np.errstate(over="ignore"):
        keys = (view * mult).sum(axis=2, dtype=np.uint64)
    return pl.DataFrame({
        name: np.repeat(ids.to_numpy(), BANDS),
        "band": np.tile(np.arange(BANDS, dtype=np.uint16), n),
        "bkey": keys.reshape(-1),
    })


def sketch_matches(
    own_ids: pl.Series,
    own: npt.NDArray[np.uint64],
    partner_ids: pl.Series,
    partner: npt.NDArray[np.uint64],
    threshold: float = 0.6,
) -> pl.DataFrame:
    """Pairs ``own_id, partner_id, similarity`` with estimated Jaccard >= ``threshold``.

    ``own_ids`` / ``partner_ids`` must be unique. LSH banding finds candidates with a join;
    only candidate pairs are compared position by position.
    """
    schema = {"own_id": own_ids.dtype, "partner_id": partner_ids.dtype,
              "similarity": pl.Float64()}
    if own.shape[0] == 0 or partner.shape[0] == 0:
        return pl.DataFrame(schema=schema)
    cand = (
        _bands(own_ids, own, "own_id")
        .join(_bands(partner_ids, partner, "partner_id"), on=["band", "bkey"])
        .select("own_id", "partner_id").unique()
    )
    if cand.height == 0:
        return pl.DataFrame(schema=schema)
    oi = pl.DataFrame({"own_id": own_ids, "oi": np.arange(len(own_ids))})
    pi = pl.DataFrame({"partner_id": partner_ids, "pi": np.arange(len(partner_ids))})
    cand = cand.join(oi, on="own_id").join(pi, on="partner_id")
    o = cand.get_column("oi").to_numpy()
    p = cand.get_column("pi").to_numpy()
    sim = (own[o] == partner[p]).mean(axis=1)
    return (
        cand.select("own_id", "partner_id")
        .with_columns(pl.Series("similarity", sim, dtype=pl.Float64))
        .filter(pl.col("similarity") >= threshold)
        .cast(schema)  # type: ignore[arg-type]
    )


def family_skeletons(prompts: pl.DataFrame, template_ids: pl.Series) -> pl.DataFrame:
    """``template_id, skeleton`` for the given families, from events with ``prompt`` text.

    Recomputes the stage-1 head/tail skeletons (same code, same hash) and keeps, per
    family, one skeleton string (the families are defined by that string's hash).
    """
    from distillguard.enrich._enrich import HASH_SEED
    from distillguard.enrich._skeleton import head_skeleton_expr, tail_skeleton_expr

    ids = template_ids.cast(pl.UInt64).unique().implode()
    p = prompts.select(pl.col("prompt")).filter(pl.col("prompt").is_not_null()).lazy()
    parts = []
    for expr in (head_skeleton_expr, tail_skeleton_expr):
        sk = p.select(expr(pl.col("prompt")).alias("skeleton"))
        parts.append(
            sk.with_columns(pl.col("skeleton").hash(HASH_SEED).alias("template_id"))
            .filter(pl.col("template_id").is_in(ids))
            .unique("template_id")
        )
    return (
        pl.concat(parts).unique("template_id", keep="first")
        .select("template_id", "skeleton").collect()
    )
