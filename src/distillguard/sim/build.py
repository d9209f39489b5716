"""Helpers shared by persona and campaign builders: ids, draws, volume calibration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pyarrow as pa
import xxhash

from distillguard.sim.corpora import Pools
from distillguard.sim.infra import IpPool, make_ip_pool, pick_clients
from distillguard.sim.scenario import LabSpec, Scenario
from distillguard.sim.world import DAY_US, NEVER, US_PER_S, LabModels

K = TypeVar("K")

#: Requests per minute per account. Lower than real tiers because a simulated world is a
#: sample of a provider's customers; what matters is who runs into them (batch jobs, eval
#: harnesses, bursty harvesters) and who stays under (low-and-slow accounts).
TIER_RPM = {
    "free": 3, "build": 30, "scale": 200, "enterprise": 1_000, "education": 15,
    "research": 150,
}

BENIGN_COUNTRIES = {
    "US": 0.30, "IN": 0.08, "GB": 0.06, "DE": 0.05, "BR": 0.04, "JP": 0.04, "KR": 0.03,
    "FR": 0.04, "CA": 0.04, "CN": 0.02, "SG": 0.02, "AU": 0.03, "NL": 0.02, "ES": 0.03,
    "IT": 0.02, "MX": 0.02, "TW": 0.02, "VN": 0.02, "TR": 0.02, "RU": 0.01, "EG": 0.01,
    "KE": 0.01, "HK": 0.01, "TH": 0.01, "FI": 0.01, "SE": 0.01,
}


@dataclass(frozen=True)
class LabCtx:
    """Everything a builder needs about the lab and the run."""

    scenario: Scenario
    lab: LabSpec
    lab_index: int
    seed: int
    scale: float
    pools: Pools
    t0: int  # timeline start, µs
    days: int
    models: LabModels

    @property
    def t_end(self) -> int:
        return self.t0 + self.days * DAY_US

    @property
    def release(self) -> int:
        return self.models.release_us

    def rng(self, *key: object) -> np.random.Generator:
        """A generator for this lab keyed by names (stable across code changes elsewhere)."""
        return np.random.default_rng([self.seed, self.lab_index + 1, *(_h(k) for k in key)])

    def world_rng(self, *key: object) -> np.random.Generator:
        """A generator shared by all labs: attacker infrastructure is the same everywhere."""
        return np.random.default_rng([self.seed, 0, *(_h(k) for k in key)])


def _h(k: object) -> int:
    return xxhash.xxh32_intdigest(str(k).encode())


def choice(rng: np.random.Generator, w: dict[str, float], n: int) -> np.ndarray:
    keys = list(w)
    p = np.array([w[k] for k in keys], float)
    idx = rng.choice(len(keys), size=n, p=p / p.sum())
    return np.array(keys, dtype=object)[idx]


def choice_val(rng: np.random.Generator, w: Mapping[K, float], n: int) -> list[K]:
    keys = list(w)
    p = np.array([w[k] for k in keys], float)
    idx = rng.choice(len(keys), size=n, p=p / p.sum())
    return [keys[i] for i in idx]


def account_ids(ctx: LabCtx, group: str, n: int) -> list[str]:
    """Opaque per-lab ids: nothing in them says which population an account is in."""
    salt = f"{ctx.seed}/{ctx.lab.name}/{group}/"
    return [
        "acct_" + xxhash.xxh64_hexdigest((salt + str(i)).encode())[:14] for i in range(n)
    ]


def api_keys(ctx: LabCtx, ids: list[str], n_keys: np.ndarray) -> tuple[list[str], np.ndarray]:
    keys: list[str] = []
    off = np.zeros(len(ids), np.int64)
    for i, (a, k) in enumerate(zip(ids, n_keys, strict=True)):
        off[i] = len(keys)
        keys += ["key_" + xxhash.xxh64_hexdigest(f"{a}#{j}".encode())[:12] for j in range(int(k))]
    return keys, off


def calibrate_rates(
    raw: np.ndarray, active_p: np.ndarray, start: np.ndarray, end: np.ndarray,
    ctx: LabCtx, events: float, weekend: float = 0.85,
) -> np.ndarray:
    """Scale per-account rates so the group's expected event count is ``events``."""
    s = np.clip(start, ctx.t0, ctx.t_end)
    e = np.clip(end, ctx.t0, ctx.t_end)
    alive_days = np.maximum(e - s, 0) / DAY_US
    week = (5 + 2 * weekend) / 7
    exp = float((raw * active_p * alive_days * week).sum())
    return raw * (events / exp) if exp > 0 else raw


def clients_table(
    rng: np.random.Generator, weights: dict[str, float], n: int, spoof: float = 0.0
) -> tuple[pa.Array, pa.Array]:
    cl = pick_clients(rng, weights, n, spoof_share=spoof)
    return pa.array([c.ua for c in cl], pa.string()), pa.array([c.ja4 for c in cl], pa.string())


def concat_pools(*pools: IpPool) -> IpPool:
    return IpPool(
        ip=pa.concat_arrays([p.ip for p in pools]),
        asn=np.concatenate([p.asn for p in pools]),
        country=np.concatenate([p.country for p in pools]),
    )


def home_ips(
    rng: np.random.Generator, pool: IpPool, countries: np.ndarray, lo: int = 0, hi: int | None = None
) -> np.ndarray:
    """Three addresses per account inside ``pool[lo:hi]``, matching the account's country
    where the pool has one (people mostly connect from where they live)."""
    hi = len(pool) if hi is None else hi
    sub = pool.country[lo:hi]
    by: dict[str, np.ndarray] = {}
    for c in np.unique(sub):
        by[str(c)] = np.flatnonzero(sub == c) + lo
    out = rng.integers(lo, hi, size=(len(countries), 3))
    for c, idx in by.items():
        m = np.flatnonzero(countries == c)
        if len(m):
            out[m] = idx[rng.integers(0, len(idx), size=(len(m), 3))]
    return out


def ip_pool_mix(
    rng: np.random.Generator, kinds: dict[str, float], n: int, countries: tuple[str, ...] | None,
    v6: float,
) -> IpPool:
    parts = []
    for kind, w in kinds.items():
        k = max(8, int(n * w))
        sub = max(2, k // 40) if kind in ("datacenter", "corporate", "campus") else None
        parts.append(make_ip_pool(rng, kind, k, countries=countries, v6_share=v6, n_subnets=sub))
    return concat_pools(*parts)


def ts_us(iso: str) -> int:
    import datetime as dt

    d = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return int(d.timestamp() * US_PER_S)


def adoption(
    rng: np.random.Generator, ctx: LabCtx, n: int, share_adopt: float, mean_days: float,
    new_share: tuple[float, float], start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """When each account starts using the new model, and for what share of its traffic."""
    delay = rng.exponential(mean_days * DAY_US, n).astype(np.int64)
    adopt = np.where(rng.random(n) < share_adopt, ctx.release + delay, NEVER)
    adopt = np.where(adopt < NEVER, np.maximum(adopt, start), adopt)
    share = rng.uniform(*new_share, n)
    return adopt.astype(np.int64), share


def settings(
    rng: np.random.Generator, temps: Mapping[float | None, float], maxes: Mapping[int, float],
    n: int,
) -> tuple[np.ndarray, tuple[float | None, ...], np.ndarray, tuple[int, ...]]:
    t = choice_val(rng, temps, n)
    m = choice_val(rng, maxes, n)
    temp = np.array([np.nan if x is None else float(x) for x in t])
    mx = np.array([int(x) for x in m], np.int64)
    return temp, tuple(temps), mx, tuple(int(x) for x in maxes)
