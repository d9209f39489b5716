"""PRADA-style query-distribution test per account (Juuti et al., EuroS&P 2019).

For each account's query stream (in time order), PRADA keeps the minimum L2 distance of
each new query to all earlier ones and tests that set of distances for normality with
Shapiro-Wilk; a W statistic below a threshold flags the stream. Natural queries give
roughly normal distances; synthetic, systematically perturbed streams do not. Score here is
``1 - W`` (higher = less natural), flagged at ``W < delta``.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
from scipy import stats

from distillguard.enrich._ngrams import ngram_hashes

MIN_QUERIES = 8
MAX_QUERIES = 64
DELTA = 0.90
DIMS = 512


def _embed(texts: list[str]) -> np.ndarray:
    """Length-normalised hashed char 3/4-gram counts folded to ``DIMS`` dimensions."""
    d, f = ngram_hashes(texts)
    x = np.zeros((len(texts), DIMS))
    np.add.at(x, (d, f % DIMS), 1.0)
    unit: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return unit


def _w_statistic(texts: list[str]) -> float | None:
    if len(texts) < MIN_QUERIES:
        return None
    x = _embed(texts)
    d = []
    for i in range(1, x.shape[0]):
        dist = np.sqrt(((x[:i] - x[i]) ** 2).sum(axis=1))
        d.append(float(dist.min()))
    arr = np.asarray(d)
    if arr.size < 3 or np.ptp(arr) == 0:
        return 0.0  # degenerate: identical distances are as unnatural as it gets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.shapiro(arr).statistic)


def prada_scores(events: pl.DataFrame, accounts: pl.DataFrame, delta: float = DELTA) -> pl.DataFrame:
    """``account_id, score, flagged`` from ``events`` (``account_id, ts, prompt``).

    Uses the first ``MAX_QUERIES`` prompts of each account (PRADA is sequential); accounts
    with fewer than ``MIN_QUERIES`` prompts get score 0 (PRADA cannot decide on them).
    """
    q = (events.filter(pl.col("prompt").is_not_null()).sort("account_id", "ts")
         .group_by("account_id", maintain_order=True).head(MAX_QUERIES)
         .group_by("account_id", maintain_order=True).agg(pl.col("prompt").str.head(300)))
    ids, scores = [], []
    for aid, prompts in q.iter_rows():
        w = _w_statistic(prompts)
        ids.append(aid)
        scores.append(0.0 if w is None else 1.0 - w)
    res = pl.DataFrame({"account_id": ids, "score": scores}, schema={"account_id": pl.String(),
                                                                   "score": pl.Float64()})
    return (accounts.select("account_id").join(res, on="account_id", how="left")
            .with_columns(pl.col("score").fill_null(0.0))
            .with_columns((pl.col("score") > 1 - delta).alias("flagged")))
