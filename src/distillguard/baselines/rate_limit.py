"""Per-account rate-limit rule: peak requests per minute and per day against tier limits."""

from __future__ import annotations

import polars as pl

#: (requests per minute, requests per day) per tier; typical public API limits.
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "free": (20, 2_000), "build": (60, 10_000), "scale": (300, 100_000),
    "enterprise": (1_000, 1_000_000), "education": (60, 10_000), "research": (120, 20_000),
}
DEFAULT_LIMIT = (60, 10_000)


def rate_limit_scores(events: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """``account_id, score, flagged``: score = r / (1 + r) with r the worst ratio of peak
    rate to the tier limit, so ``flagged`` (r > 1) is exactly "exceeded a limit"."""
    per_min = (events.group_by("account_id", pl.col("ts").dt.truncate("1m"))
               .agg(pl.len().alias("n")).group_by("account_id").agg(pl.col("n").max().alias("rpm")))
    per_day = (events.group_by("account_id", pl.col("ts").dt.truncate("1d"))
               .agg(pl.len().alias("n")).group_by("account_id").agg(pl.col("n").max().alias("rpd")))
    lim = pl.DataFrame({"tier": list(RATE_LIMITS), "lim_m": [v[0] for v in RATE_LIMITS.values()],
                        "lim_d": [v[1] for v in RATE_LIMITS.values()]})
    acc = accounts.select("account_id", "tier").join(lim, on="tier", how="left").with_columns(
        pl.col("lim_m").fill_null(DEFAULT_LIMIT[0]), pl.col("lim_d").fill_null(DEFAULT_LIMIT[1]))
    r = (acc.join(per_min, on="account_id", how="left").join(per_day, on="account_id", how="left")
         .with_columns(pl.max_horizontal(pl.col("rpm").fill_null(0) / pl.col("lim_m"),
                                         pl.col("rpd").fill_null(0) / pl.col("lim_d")).alias("r")))
    return r.select("account_id", (pl.col("r") / (1 + pl.col("r"))).alias("score"),
                    (pl.col("r") > 1).alias("flagged"))
