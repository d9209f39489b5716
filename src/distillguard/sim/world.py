"""Account groups and the vectorised day-by-day event generator.

A *group* is a set of accounts in one lab that behave alike (one persona, or one role of
one campaign behind one reseller). Each account carries its own parameters (rate, rhythm,
time zone, clients, IPs, sampling settings, recipe mix, model adoption), so a group is a
distribution, not a clone army. Events are generated one UTC day at a time for all groups
with numpy / Arrow compute, which bounds memory at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.sim.content import Batch, Filled
from distillguard.sim.infra import IpPool

US_PER_S = 1_000_000
DAY_US = 86_400 * US_PER_S
NEVER = np.iinfo(np.int64).max // 4

# rhythm codes
HUMAN, BUSINESS, FLAT, APP, BATCH, BURST = range(6)
RHYTHMS = {"human": HUMAN, "business": BUSINESS, "flat": FLAT, "app": APP, "batch": BATCH, "burst": BURST}

_HUMAN_PDF = np.array(
    [2.0, 1.2, 0.7, 0.5, 0.4, 0.6, 1.2, 2.5, 4.5, 6.0, 6.5, 6.5, 6.0, 6.2, 6.5, 6.5,
     6.0, 5.5, 5.2, 5.5, 6.0, 5.8, 4.8, 3.5]
)
_BUSINESS_PDF = np.array(
    [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 5.0, 9.0, 10.0, 10.0, 7.0, 8.5, 10.0, 10.0,
     9.0, 6.0, 3.0, 1.5, 1.0, 0.8, 0.5, 0.3]
)
_CDF = {
    HUMAN: np.cumsum(_HUMAN_PDF / _HUMAN_PDF.sum()),
    BUSINESS: np.cumsum(_BUSINESS_PDF / _BUSINESS_PDF.sum()),
}
_APP_TZ = np.array([-8.0, -6.0, -5.0, -3.0, 0.0, 1.0, 2.0, 5.5, 8.0, 9.0])
_APP_TZ_W = np.cumsum(np.array([0.12, 0.12, 0.18, 0.06, 0.08, 0.16, 0.06, 0.1, 0.07, 0.05]))


class Recipe(Protocol):
    truth: str

    def fill(self, b: Batch, rng: np.random.Generator) -> Filled: ...


@dataclass
class Group:
    """Accounts that share a behaviour generator. Arrays are per account."""

    name: str
    attack: np.ndarray  # per recipe: does this recipe produce attack traffic
    recipes: list[Recipe]
    recipe_cw: np.ndarray  # (n, R) cumulative recipe weights per account
    ids: list[str]
    created: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rate: np.ndarray
    active_p: np.ndarray
    rhythm: np.ndarray
    tz: np.ndarray
    gap: np.ndarray
    sess_len: float
    rpm: np.ndarray
    keys: list[str]
    key_off: np.ndarray
    n_keys: np.ndarray
    ua: pa.Array
    ja4: pa.Array
    acct_client: np.ndarray  # (n, 2)
    client2_p: np.ndarray
    ips: IpPool
    ip_mode: np.ndarray  # 0 home, 1 rotating, 2 sticky per session
    ip_home: np.ndarray  # (n, 3)
    mobile: tuple[int, int]  # index range of mobile addresses inside ``ips``
    mobile_share: np.ndarray
    adopt: np.ndarray
    new_share: np.ndarray
    old_pref: np.ndarray
    temp: np.ndarray
    temp_alt: tuple[float | None, ...]
    max_tok: np.ndarray
    max_tok_alt: tuple[int, ...]
    fixed_p: np.ndarray  # probability the account's own settings are used
    out_mult: np.ndarray
    # account table and labels
    email: list[str | None]
    payment: list[str | None]
    country: list[str | None]
    org: list[str | None]
    tier: list[str]
    label: str
    campaign: str | None
    actor: str | None
    persona: list[str]
    reseller: np.ndarray | None = None
    burst_seed: int = 0
    lock_p: np.ndarray | None = None
    shift_p: float = 0.0  # share of resellers whose burst windows follow office hours
    shift_tz: float = 8.0  # ... in this time zone (the operator's)
    ip_lo: np.ndarray | None = None  # per-account address range for rotating / sticky
    ip_hi: np.ndarray | None = None
    zdr: np.ndarray | None = None  # accounts whose prompt text the provider does not keep
    weekend: float = 0.85
    day_mult: dict[int, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)


def _session_times(
    g: Group, acct: np.ndarray, day0: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sessions with a human daily rhythm in the account's local time zone."""
    cnt = np.bincount(acct, minlength=g.n)
    ns = 1 + rng.binomial(np.maximum(cnt - 1, 0), 1.0 / g.sess_len)
    off = np.cumsum(ns) - ns
    sl = np.floor(rng.random(len(acct)) * ns[acct]).astype(np.int64)
    sess = off[acct] + sl
    order = np.argsort(sess, kind="stable")
    acct = acct[order]
    sess = sess[order]
    n_s = int(ns.sum())
    first = np.searchsorted(sess, np.arange(n_s))
    pos = np.arange(len(sess)) - first[sess]
    s_acct = np.repeat(np.arange(g.n), ns)
    u = rng.random(n_s)
    hour = np.where(
        g.rhythm[s_acct] == BUSINESS,
        np.searchsorted(_CDF[BUSINESS], u),
        np.searchsorted(_CDF[HUMAN], u),
    ).clip(0, 23) + rng.random(n_s)
    start = ((hour - g.tz[s_acct]) * 3600.0) % 86_400.0
    gaps = rng.exponential(1.0, len(sess)) * g.gap[acct] * (pos > 0)
    cs = np.cumsum(gaps)
    within = cs - cs[first[sess]]
    ts = day0 + ((start[sess] + within) * US_PER_S).astype(np.int64)
    return acct, ts, sess, pos


def _times(
    g: Group, acct: np.ndarray, d: int, day0: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Timestamps, session ids and positions for the events of one group-day."""
    rh = g.rhythm[acct]
    parts = []
    base_sess = 0
    # human-like
    m = np.isin(rh, (HUMAN, BUSINESS))
    if m.any():
        a, ts, s, p = _session_times(g, acct[m], day0, rng)
        parts.append((a, ts, s, p))
        base_sess = int(s.max()) + 1
    # flat / app: independent requests, app traffic follows its users' clocks
    m = np.isin(rh, (FLAT, APP))
    if m.any():
        a = acct[m]
        k = len(a)
        sec = rng.random(k) * 86_400.0
        app = g.rhythm[a] == APP
        if app.any():
            tz = _APP_TZ[np.searchsorted(_APP_TZ_W, rng.random(k)).clip(0, len(_APP_TZ) - 1)]
            hour = np.searchsorted(_CDF[HUMAN], rng.random(k)).clip(0, 23) + rng.random(k)
            sec = np.where(app, ((hour - tz) * 3600.0) % 86_400.0, sec)
        ts = day0 + (sec * US_PER_S).astype(np.int64)
        s = base_sess + np.arange(k)
        parts.append((a, ts, s, np.zeros(k, np.int64)))
        base_sess += k
    # batch jobs: a run at the job's hour, requests back to back
    m = rh == BATCH
    if m.any():
        a = np.sort(acct[m])
        first = np.searchsorted(a, np.arange(g.n))
        pos = np.arange(len(a)) - first[a]
        start = (g.tz[a] % 24.0) * 3600.0
        jit = rng.normal(0, 1.0, g.n) * 300.0
        sec = start + jit[a] + pos * g.gap[a] * (1.0 + 0.15 * rng.standard_normal(len(a)))
        ts = day0 + (sec * US_PER_S).astype(np.int64)
        parts.append((a, ts, base_sess + a, pos))
        base_sess += g.n
    # attack bursts: accounts of one reseller share narrow windows (lockstep)
    m = rh == BURST
    if m.any():
        a = acct[m]
        k = len(a)
        res = g.reseller[a] if g.reseller is not None else np.zeros(k, np.int64)
        n_res = int(res.max()) + 1
        w_per = 10
        wr = np.random.default_rng([g.burst_seed, d])
        w_start = wr.random((n_res, w_per)) * 86_400.0
        # some resellers run their jobs in the operator's working hours, not around the clock
        shifted = np.random.default_rng([g.burst_seed, 7]).random(n_res) < g.shift_p
        hour = np.searchsorted(_CDF[BUSINESS], wr.random((n_res, w_per))).clip(0, 23) + wr.random((n_res, w_per))
        w_start = np.where(shifted[:, None], ((hour - g.shift_tz) * 3600.0) % 86_400.0, w_start)
        w_len = wr.uniform(900.0, 5_400.0, (n_res, w_per))
        wi = rng.integers(0, w_per, k)
        in_win = w_start[res, wi] + rng.random(k) * w_len[res, wi]
        lock = rng.random(k) < (g.lock_p[a] if g.lock_p is not None else 0.7)
        sec = np.where(lock, in_win, rng.random(k) * 86_400.0)
        ts = day0 + (sec * US_PER_S).astype(np.int64)
        parts.append((a, ts, base_sess + res * w_per + wi, np.zeros(k, np.int64)))
    a = np.concatenate([p[0] for p in parts])
    ts = np.concatenate([p[1] for p in parts])
    s = np.concatenate([p[2] for p in parts])
    p = np.concatenate([p[3] for p in parts])
    return a, ts, s, p


@dataclass(frozen=True)
class LabModels:
    names: tuple[str, ...]  # old models then the new one last
    release_us: int


class DayEvents(TypedDict):
    """One group's events of one day, column by column (``group_day``'s result)."""

    ts: np.ndarray
    acct: np.ndarray
    prompt: pa.Array
    system: pa.Array
    model_i: np.ndarray
    client: np.ndarray
    key: np.ndarray
    ip: np.ndarray
    n_msg: np.ndarray
    n_tools: np.ndarray
    inp: np.ndarray
    out: np.ndarray
    max_tok: np.ndarray
    temp: np.ndarray
    attack: np.ndarray
    recipe: np.ndarray
    area: np.ndarray


def group_day(
    g: Group, d: int, t0: int, models: LabModels, rng: np.random.Generator
) -> DayEvents | None:
    """All events of one group on day ``d`` as column arrays (unsorted)."""
    day0 = t0 + d * DAY_US
    alive = (g.start < day0 + DAY_US) & (g.end > day0)
    if not alive.any():
        return None
    boost = g.day_mult.get(d, 1.0)
    act = alive & (rng.random(g.n) < np.minimum(1.0, g.active_p * boost))
    weekday = (d + _weekday(t0)) % 7
    lam = g.rate * act * g.day_mult.get(d, 1.0)
    if weekday >= 5:
        lam = lam * np.where(np.isin(g.rhythm, (BUSINESS, BATCH)), 0.2, g.weekend)
    cnt = rng.poisson(lam)
    if cnt.sum() == 0:
        return None
    acct = np.repeat(np.arange(g.n), cnt)
    acct, ts, sess, pos = _times(g, acct, d, day0, rng)
    keep = (ts >= g.start[acct]) & (ts < g.end[acct])
    acct, ts, sess, pos = acct[keep], ts[keep], sess[keep], pos[keep]
    n = len(acct)
    if n == 0:
        return None
    # recipe per event, from the account's own mix
    r = (rng.random(n)[:, None] > g.recipe_cw[acct]).sum(axis=1).clip(0, len(g.recipes) - 1)
    prompts: list[pa.Array] = []
    systems: list[pa.Array] = []
    idx_parts = []
    n_msg = np.zeros(n, np.int32)
    n_tools = np.zeros(n, np.int32)
    med = np.zeros(n)
    area = np.zeros(n, np.int8)
    for k, rec in enumerate(g.recipes):
        m = np.flatnonzero(r == k)
        if not len(m):
            continue
        f = rec.fill(Batch(acct[m], sess[m], pos[m], d), rng)
        prompts.append(f.prompt)
        systems.append(f.system)
        idx_parts.append(m)
        n_msg[m] = f.n_messages
        n_tools[m] = f.n_tools
        med[m] = f.out_median
        area[m] = f.area
    order = np.concatenate(idx_parts)
    inv = pa.array(np.argsort(order, kind="stable"))
    prompt = pa.concat_arrays(prompts).take(inv)
    system = pa.concat_arrays(systems).take(inv)
    if g.zdr is not None and g.zdr.any():
        keep_text = pa.array(~g.zdr[acct])
        p_bytes0 = pc.binary_length(prompt).fill_null(0).to_numpy(zero_copy_only=False)
        s_bytes0 = pc.binary_length(system).fill_null(0).to_numpy(zero_copy_only=False)
        prompt = pc.if_else(keep_text, prompt, pa.nulls(n, pa.string()))
        system = pc.if_else(keep_text, system, pa.nulls(n, pa.string()))
    else:
        p_bytes0 = s_bytes0 = None
    # model: old preference, pivot to the new model after the account adopts it
    n_old = len(models.names) - 1
    old = np.where(rng.random(n) < 0.85, g.old_pref[acct], rng.integers(0, n_old, n))
    new = (ts >= g.adopt[acct]) & (rng.random(n) < g.new_share[acct])
    model_i = np.where(new, n_old, old)
    # client, key, address
    cl = np.where(rng.random(n) < g.client2_p[acct], g.acct_client[acct, 1], g.acct_client[acct, 0])
    kk = np.minimum(rng.geometric(0.7, n) - 1, g.n_keys[acct] - 1)
    key_i = g.key_off[acct] + kk
    mode = g.ip_mode[acct]
    hi = np.minimum(rng.geometric(0.75, n) - 1, 2)
    ip_i = g.ip_home[acct, hi]
    npool = len(g.ips)
    lo = g.ip_lo[acct] if g.ip_lo is not None else np.zeros(n, np.int64)
    width = (g.ip_hi[acct] - lo) if g.ip_hi is not None else np.full(n, npool)
    width = np.maximum(width, 1)
    ip_i = np.where(mode == 1, lo + rng.integers(0, 1 << 40, n) % width, ip_i)
    ip_i = np.where(mode == 2, lo + (sess * 2_654_435_761 + acct * 97) % width, ip_i)
    m0, m1 = g.mobile
    if m1 > m0:
        mob = rng.random(n) < g.mobile_share[acct]
        ip_i = np.where(mob, rng.integers(m0, m1, n), ip_i)
    # sampling settings: a script sends the same settings every time; people vary
    fixed = rng.random(n) < g.fixed_p[acct]
    ta = np.array([np.nan if t is None else t for t in g.temp_alt])
    temp = np.where(fixed, g.temp[acct], ta[rng.integers(0, len(ta), n)])
    mta = np.array(g.max_tok_alt, np.int64)
    max_tok = np.where(fixed, g.max_tok[acct], mta[rng.integers(0, len(mta), n)])
    # tokens consistent with the text
    if p_bytes0 is not None:  # billing still counts the text the provider did not keep
        p_bytes, s_bytes = p_bytes0, s_bytes0
    else:
        p_bytes = pc.binary_length(prompt).fill_null(0).to_numpy(zero_copy_only=False)
        s_bytes = pc.binary_length(system).fill_null(0).to_numpy(zero_copy_only=False)
    hist = np.where(n_msg > 1, (n_msg - 1) * rng.lognormal(np.log(140.0), 0.8, n), 0.0)
    inp = (p_bytes + s_bytes) / 3.6 + 4 * n_msg + hist + 95 * n_tools + 3
    out = rng.lognormal(np.log(np.maximum(med * g.out_mult[acct], 1.0)), 0.65, n)
    cap = np.where(max_tok > 0, max_tok, 16_384)
    out = np.minimum(np.maximum(out, 1.0), cap)
    return {
        "ts": ts,
        "acct": acct,
        "prompt": prompt,
        "system": system,
        "model_i": model_i,
        "client": cl,
        "key": key_i,
        "ip": ip_i,
        "n_msg": n_msg,
        "n_tools": n_tools,
        "inp": np.ceil(inp).astype(np.int64),
        "out": np.ceil(out).astype(np.int64),
        "max_tok": max_tok,
        "temp": temp,
        "attack": g.attack[r],
        "recipe": r,
        "area": area,
    }


def _weekday(t0: int) -> int:
    import datetime as dt

    return dt.datetime.fromtimestamp(t0 / US_PER_S, dt.UTC).weekday()
