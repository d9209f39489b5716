"""Vectorised hashed character n-gram features and linear scoring, in numpy.

scikit-learn's ``HashingVectorizer`` tokenises in Python (~100 µs per short document),
which is too slow for the content sample of a 16M-event scan. Here every document is
turned into Unicode code points in one buffer, n-gram hashes are computed for all
positions at once, and a linear model is applied by gathering its weights and summing
per document (``np.add.reduceat``). The feature definition is shared by training and
scoring so the learned weights mean the same thing in both.

Feature value: each hashed 3- and 4-gram occurrence contributes ``1/sqrt(n_grams)`` (a
length-normalised bag of n-grams), so long and short windows are comparable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

N_FEATURES = 2**16
NGRAMS = (3, 4)
_MULT = np.uint64(0x9E3779B1)
_CHUNK_DOCS = 5_000


def _codepoints(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    lowered = [" " + t.lower() + " " for t in texts]
    lengths = np.fromiter((len(t) for t in lowered), dtype=np.int64, count=len(lowered))
    buf = np.frombuffer("".join(lowered).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    return buf, lengths


def ngram_hashes(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(doc_index, feature_index)`` for every n-gram occurrence in ``texts``."""
    buf, lengths = _codepoints(texts)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    doc_of_pos = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    end_of_pos = np.repeat(starts + lengths, lengths)
    pos = np.arange(len(buf), dtype=np.int64)
    docs: list[npt.NDArray[np.int64]] = []
    feats: list[npt.NDArray[np.int64]] = []
    for n in NGRAMS:
        valid = pos + n <= end_of_pos
        m = len(buf) - n + 1
        if m <= 0:
            continue
        h = np.zeros(m, dtype=np.uint64)
        for k in range(n):
            h = (h * _MULT + buf[k : k + m] + np.uint64(n)) & np.uint64(0xFFFFFFFFFFFF)
        keep = valid[:m]
        docs.append(doc_of_pos[:m][keep])
        feats.append(((h[keep] * _MULT) >> np.uint64(20)).astype(np.int64) % N_FEATURES)
    if not docs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(docs), np.concatenate(feats)


def feature_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """Sparse feature matrix (for training); same definition as :func:`linear_scores`."""
    d, f = ngram_hashes(texts)
    counts = np.bincount(d, minlength=len(texts)).astype(np.float64)
    vals = 1.0 / np.sqrt(np.maximum(counts[d], 1.0))
    return sparse.csr_matrix((vals, (d, f)), shape=(len(texts), N_FEATURES))


def linear_scores(
    texts: Sequence[str], coef: npt.NDArray[np.float64], intercept: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Decision values ``X @ coef.T + intercept``, ``X`` built one chunk at a time.

    The chunk's sparse count matrix times the dense weights is one C-level product
    (scipy); gathering ``coef[:, f]`` per occurrence and one ``bincount`` per model was
    ~3x slower and held an (occurrences x models) float array per chunk. The matrix is
    built straight from CSR arrays, one entry per n-gram occurrence, rows grouped by a
    stable argsort of the document index (two sorted runs: a linear merge); scipy's COO
    conversion sorted every row's columns and summed repeats first, which cost more than
    the product itself and only changes the order of the additions (last-bit float
    differences, 2e-14 on the 1M-event sample).
    """
    out = np.empty((len(texts), coef.shape[0]), dtype=np.float64)
    w = np.ascontiguousarray(coef.T)  # (features, models)
    for lo in range(0, len(texts), _CHUNK_DOCS):
        chunk = texts[lo : lo + _CHUNK_DOCS]
        d, f = ngram_hashes(chunk)
        counts = np.bincount(d, minlength=len(chunk))
        indptr = np.concatenate(([0], np.cumsum(counts)))
        x = sparse.csr_matrix((np.ones(len(d)), f[np.argsort(d, kind="stable")], indptr),
                              shape=(len(chunk), N_FEATURES))
        norm = np.sqrt(np.maximum(counts.astype(np.float64), 1.0))
        out[lo : lo + len(chunk)] = (x @ w) / norm[:, None]
    return out + intercept[None, :]
