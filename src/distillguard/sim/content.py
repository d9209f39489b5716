"""Prompt recipes: vectorised generators of prompt text from pools and templates.

A recipe turns a batch of events (which account, which session, position in the
session, which day) into prompt / system-prompt columns with Arrow compute, never a Python
loop per event. Two kinds cover every persona and campaign:

* ``ChatRecipe`` replays real ShareGPT conversations: one conversation per session, the
  n-th event of a session sends the conversation's n-th user turn (``n_messages`` grows).
* ``TemplateRecipe`` fills one or two slots of a template with pool text. Each account
  uses a window of the template variants; the window drifts with time (campaigns mutate
  their templates), or is pinned to one template (a batch job, an eval harness).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.sim.corpora import Pools
from distillguard.sim.templates import paraphrase_prompts, split_slots


@dataclass
class Batch:
    """The events a recipe must fill (all arrays aligned)."""

    acct: np.ndarray  # group-local account index
    sess: np.ndarray  # session id (unique within the group-day)
    pos: np.ndarray  # position in session
    day: int


@dataclass
class Filled:
    prompt: pa.Array
    system: pa.Array
    n_messages: np.ndarray
    n_tools: np.ndarray
    out_median: np.ndarray
    area: np.ndarray  # capability area code (see AREAS)


AREAS = ("chat", "math", "logic", "algorithmic", "code", "tools", "sensitive", "grading", "synthetic", "multilingual", "jailbreak", "batch")
_POOL_AREA = {
    "chat_a": 0, "chat_b": 0, "answer_a": 0, "answer_b": 0, "code_a": 4, "code_b": 4,
    "humaneval_pub": 4, "tools_a": 5, "tools_b": 5, "tools_pub": 5, "harm_a": 6, "harm_b": 6,
    "jailbreak_b": 10,
}


def _null_strings(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _pick_system(
    choices: tuple[str | None, ...], acct_choice: np.ndarray | None, acct: np.ndarray, rng: np.random.Generator
) -> pa.Array:
    if not choices:
        return _null_strings(len(acct))
    arr = pa.array(list(choices), pa.string())
    idx = acct_choice[acct] if acct_choice is not None else rng.integers(0, len(choices), len(acct))
    return arr.take(pa.array(idx))


@dataclass
class ChatRecipe:
    pool: str
    pools: Pools
    system: tuple[str | None, ...] = ()
    acct_system: np.ndarray | None = None  # per-account index into ``system``
    out_median: float = 380.0
    truth: str = ""
    _starts: np.ndarray = field(init=False, repr=False)
    _lens: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        conv = self.pools.conv[self.pool]
        change = np.flatnonzero(np.diff(conv)) + 1
        self._starts = np.concatenate([[0], change]).astype(np.int64)
        self._lens = np.diff(np.concatenate([self._starts, [len(conv)]]))

    def fill(self, b: Batch, rng: np.random.Generator) -> Filled:
        n = len(b.acct)
        u, inv = np.unique(b.sess, return_inverse=True)
        conv = rng.integers(0, len(self._starts), size=len(u))[inv]
        turn = np.minimum(b.pos, self._lens[conv] - 1)
        idx = self._starts[conv] + turn
        prompt = self.pools.text[self.pool].take(pa.array(idx))
        system = _pick_system(self.system, self.acct_system, b.acct, rng)
        has_sys = ~np.asarray(system.is_null().to_numpy(zero_copy_only=False))
        n_msg = (2 * turn + 1 + has_sys).astype(np.int32)
        med = np.full(n, self.out_median) * np.where(turn > 0, 0.8, 1.0)
        return Filled(prompt, system, n_msg, np.zeros(n, np.int32), med, np.zeros(n, np.int8))


@dataclass
class TemplateRecipe:
    """Templates with one or two slots over real pool text.

    ``span``: how many variants one account uses at a time; ``drift``: how many variants
    the window moves per epoch (0 = pinned). ``raw_share``: events sent as the bare pool
    text with no wrapper at all. ``x_mode='sequential'`` walks the pool in order (an eval
    harness iterating a problem set).
    """

    templates: list[str]
    x_pools: list[tuple[str, float]]
    pools: Pools
    acct_offset: np.ndarray
    span: int = 3
    drift: int = 1
    y_pool: str | None = None
    raw_share: float = 0.0
    system: tuple[str | None, ...] = ()
    acct_system: np.ndarray | None = None
    out_median: float | list[float] = 600.0
    tools: bool = False
    n_messages: tuple[int, int] = (1, 1)
    x_mode: str = "random"
    area: int = -1
    truth: str = ""
    epoch_days: float = 7.0  # how often the account's template window moves by ``drift``
    paraphrase: float = 0.0  # share of templated events reworded per event (no shared skeleton)
    para_family: str = ""  # which request the paraphraser keeps (templates.paraphrase_prompts)
    _words: list[str] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        parts = [split_slots(t) for t in self.templates]
        self._a = pa.array([p[0] for p in parts], pa.string())
        self._b = pa.array([p[1] for p in parts], pa.string())
        self._c = pa.array([p[2] for p in parts], pa.string())
        self._two = np.array(["<<Y>>" in t for t in self.templates])
        med = self.out_median
        self._med = np.asarray(med if isinstance(med, list) else [med] * len(self.templates), float)
        w = np.array([w for _, w in self.x_pools], float)
        self._xw = np.cumsum(w / w.sum())

    def fill(self, b: Batch, rng: np.random.Generator) -> Filled:
        n = len(b.acct)
        nv = len(self.templates)
        epoch = int(b.day // self.epoch_days)
        off = self.acct_offset[b.acct] + epoch * self.drift
        v = (off + rng.integers(0, max(1, self.span), size=n)) % nv
        which = np.searchsorted(self._xw, rng.random(n), side="right").clip(0, len(self.x_pools) - 1)
        xs = []
        ntools = np.zeros(n, np.int32)
        area = np.full(n, self.area, np.int8)
        order = np.empty(n, np.int64)
        pos = 0
        for k, (pool, _) in enumerate(self.x_pools):
            m = np.flatnonzero(which == k)
            if not len(m):
                continue
            size = self.pools.size(pool)
            if self.x_mode == "sequential":
                idx = (self.acct_offset[b.acct[m]] * 37 + b.day * 211 + np.arange(len(m))) % size
            else:
                idx = rng.integers(0, size, size=len(m))
            xs.append(self.pools.text[pool].take(pa.array(idx)))
            if self.tools:
                ntools[m] = np.maximum(1, self.pools.n_tools[pool][idx])
            if self.area < 0:
                if pool.startswith("rg_"):
                    area[m] = 1 + self.pools.area[pool][idx]
                else:
                    area[m] = _POOL_AREA.get(pool, 0)
            order[pos : pos + len(m)] = m
            pos += len(m)
        x = pa.concat_arrays(xs) if len(xs) > 1 else xs[0]
        x = x.take(pa.array(np.argsort(order, kind="stable")))
        if self.y_pool is not None:
            y = self.pools.text[self.y_pool].take(pa.array(rng.integers(0, self.pools.size(self.y_pool), n)))
            y = pc.if_else(pa.array(self._two[v]), y, _null_strings(n))
        else:
            y = _null_strings(n)
        vi = pa.array(v)
        prompt = pc.binary_join_element_wise(
            self._a.take(vi), x, self._b.take(vi), y, self._c.take(vi), "",
            null_handling="replace", null_replacement="",
        )
        if self.raw_share > 0:
            raw = rng.random(n) < self.raw_share
            prompt = pc.if_else(pa.array(raw), x, prompt)
        else:
            raw = np.zeros(n, bool)
        if self.paraphrase > 0:
            para = np.flatnonzero((rng.random(n) < self.paraphrase) & ~raw)
            if len(para):
                idx = pa.array(para)
                ys = y.take(idx).to_pylist()
                if not self._words:
                    self._words = self.pools.text["words"].to_pylist()
                new = paraphrase_prompts(self.para_family, x.take(idx).to_pylist(), ys, rng, self._words)
                full = prompt.to_pylist()
                for j, t in zip(para.tolist(), new, strict=True):
                    full[j] = t
                prompt = pa.array(full, pa.string())
        system = _pick_system(self.system, self.acct_system, b.acct, rng)
        has_sys = ~np.asarray(system.is_null().to_numpy(zero_copy_only=False))
        lo, hi = self.n_messages
        if hi > lo:
            # odd counts: user/assistant alternation ending in a user (or tool) turn
            n_msg = lo + 2 * rng.integers(0, (hi - lo) // 2 + 1, size=n)
        else:
            n_msg = np.full(n, lo)
        return Filled(
            prompt, system, (n_msg + has_sys).astype(np.int32), ntools, self._med[v], area
        )
