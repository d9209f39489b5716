"""Run a scenario: build every lab's groups, then stream its events day by day."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.errors import ConfigError
from distillguard.ingest.schema import ACCOUNTS, RELEASES, TS
from distillguard.sim.build import LabCtx, ts_us
from distillguard.sim.campaigns import build_campaign
from distillguard.sim.content import AREAS
from distillguard.sim.corpora import load_pools
from distillguard.sim.personas import build_persona
from distillguard.sim.scenario import LabSpec, Scenario, load_scenario
from distillguard.sim.world import DAY_US, US_PER_S, Group, LabModels, group_day
from distillguard.sim.writer import LABELS_SCHEMA, EventWriter, TruthWriter, write_table

Progress = Callable[[str, int, int], None]
ROW_GROUP = 131_072
_TEXT_COLS = [
    "account_id", "api_key_id", "client_ip", "user_agent", "tls_fingerprint", "asn",
    "system_prompt", "prompt", "n_messages", "n_tools", "max_tokens", "temperature",
]


@dataclass(frozen=True)
class LabSummary:
    name: str
    path: Path
    events: int
    accounts: int
    distillation_accounts: int
    attack_events: int
    by_campaign: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SimSummary:
    """What ``simulate`` wrote."""

    out: Path
    scenario: str
    seed: int
    scale: float
    labs: tuple[LabSummary, ...]
    wall_s: float

    @property
    def events(self) -> int:
        return sum(lab.events for lab in self.labs)


def _lab_specs(sc: Scenario, k: int) -> list[LabSpec]:
    if k < 1:
        raise ConfigError("--labs must be at least 1")
    out = list(sc.labs[:k])
    i = 0
    while len(out) < k:  # more labs than the scenario defines: vary the defined ones
        base = sc.labs[i % len(sc.labs)]
        rel = min(sc.days - 1.0, max(1.0, base.release_day + 2.5 * (len(out) - i)))
        out.append(replace(base, name=f"{base.name}-{len(out)}", release_day=rel))
        i += 1
    return out


def build_lab(sc: Scenario, lab: LabSpec, idx: int, seed: int, scale: float) -> tuple[LabCtx, list[Group]]:
    pools = load_pools()
    t0 = int(sc.start.timestamp() * US_PER_S)
    rel = t0 + int(lab.release_day * DAY_US)
    ctx = LabCtx(sc, lab, idx, seed, scale, pools, t0, sc.days, LabModels(lab.models + (lab.new_model,), rel))
    groups: list[Group] = []
    resold = None
    for p in sc.personas:
        if p.name == "resold_customer":
            resold = p
            continue
        groups.append(build_persona(ctx, p))
    # resold customers are spread over the campaigns' resellers present in this lab
    weights = []
    for c in sc.campaigns:
        pres = c.presence[idx % len(c.presence)] if c.presence else None
        ok = pres is not None and pres.volume > 0 and not pres.low_and_slow_only
        weights.append(c.accounts * pres.volume if ok and pres else 0.0)
    tot = sum(weights) or 1.0
    for c, w in zip(sc.campaigns, weights, strict=True):
        groups += build_campaign(ctx, c, resold, (w / tot) * lab.benign_volume if resold else 0.0)
    return ctx, groups


def _event_ids(start: int, n: int, salt: int) -> pa.Array:
    """Opaque unique ids: a bijective 64-bit mix of a per-lab counter."""
    x = (np.arange(start, start + n, dtype=np.uint64) + np.uint64(salt)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    s = pc.cast(pa.array(x), pa.string())
    return pc.binary_join_element_wise("ev_", s, "")


def _statuses(acct: np.ndarray, ts: np.ndarray, rpm: np.ndarray, rng: np.random.Generator,
              jail: np.ndarray, new_model: np.ndarray, rel: int) -> np.ndarray:
    """429 past the tier's per-minute limit, sporadic 5xx, content-policy 400s."""
    n = len(acct)
    status = np.full(n, 200, np.int32)
    if n == 0:
        return status
    key = acct.astype(np.int64) * (1 << 32) + ts // (60 * US_PER_S)
    order = np.argsort(key, kind="stable")
    k = key[order]
    first = np.r_[0, np.flatnonzero(np.diff(k)) + 1]
    grp = np.repeat(np.arange(len(first)), np.diff(np.r_[first, n]))
    rank = np.arange(n) - first[grp]
    over = np.zeros(n, bool)
    over[order] = rank >= rpm[acct[order]]
    status[over] = 429
    u = rng.random(n)
    launch = new_model & (ts >= rel) & (ts < rel + 12 * 3600 * US_PER_S)
    status[(status == 200) & (u < 0.0015)] = 500
    status[(status == 200) & (u > 1 - np.where(launch, 0.03, 0.001))] = 529
    v = rng.random(n)
    status[(status == 200) & (v < np.where(jail, 0.08, 0.003))] = 400
    return status


def run_lab(
    ctx: LabCtx, groups: list[Group], out: Path, *, emit_truth: bool = False,
    progress: Progress | None = None,
) -> LabSummary:
    out.mkdir(parents=True, exist_ok=True)
    models = pa.array(list(ctx.models.names), pa.string())
    n_old = len(ctx.models.names) - 1
    ids_arr = [pa.array(g.ids, pa.string()) for g in groups]
    keys_arr = [pa.array(g.keys, pa.string()) for g in groups]
    base = np.cumsum([0] + [g.n for g in groups])
    rpm = np.concatenate([g.rpm for g in groups])
    jail_rec = [np.array([getattr(r, "truth", "") == "jailbreak" for r in g.recipes]) for g in groups]
    rec_names = [[getattr(r, "truth", "") for r in g.recipes] for g in groups]
    rec_flat = np.array([x for rn in rec_names for x in rn], dtype=object)
    rec_base = np.cumsum([0] + [len(rn) for rn in rec_names])[:-1]
    gnames = np.array([g.name for g in groups], dtype=object)
    areas = np.array(AREAS, dtype=object)
    ew = EventWriter(out / "events.parquet")
    tw = TruthWriter(out / "_truth" / "events_truth.parquet") if emit_truth else None
    carry: pa.Table | None = None
    counter = 0
    attack_events = 0
    salt = int(ctx.rng("event-ids").integers(0, 2**62))
    for d in range(ctx.days):
        parts = []
        for gi, g in enumerate(groups):
            r = group_day(g, d, ctx.t0, ctx.models, ctx.rng("day", g.name, d))
            if r is None:
                continue
            acct = r["acct"]
            mt = r["max_tok"]
            tp = r["temp"]
            cols = {
                "ts": pa.array(r["ts"], pa.int64()),
                "gacct": pa.array(acct + base[gi]),
                "account_id": ids_arr[gi].take(pa.array(acct)),
                "api_key_id": keys_arr[gi].take(pa.array(r["key"])),
                "model_i": pa.array(r["model_i"]),
                "client_ip": g.ips.ip.take(pa.array(r["ip"])),
                "user_agent": g.ua.take(pa.array(r["client"])),
                "tls_fingerprint": g.ja4.take(pa.array(r["client"])),
                "asn": pa.array(g.ips.asn[r["ip"]]),
                "system_prompt": r["system"],
                "prompt": r["prompt"],
                "n_messages": pa.array(r["n_msg"], pa.int32()),
                "n_tools": pa.array(r["n_tools"], pa.int32()),
                "input_tokens": pa.array(r["inp"]),
                "output_tokens": pa.array(r["out"]),
                "max_tokens": pa.array(mt, pa.int64(), mask=mt <= 0),
                "temperature": pa.array(tp, pa.float64(), mask=np.isnan(tp)),
                "_attack": pa.array(r["attack"]),
                "_jail": pa.array(jail_rec[gi][r["recipe"]]),
                "_group": pa.array(np.full(len(acct), gi, np.int32)),
                "_recipe": pa.array(r["recipe"].astype(np.int32)),
                "_area": pa.array(r["area"].astype(np.int32)),
            }
            parts.append(pa.table(cols))
        if carry is not None:
            parts.append(carry)
        if not parts:
            continue
        t = pa.concat_tables(parts)
        # sort numerically, then materialise the (big, text-heavy) rows one row group at a
        # time: peak memory is one unsorted day plus one row group, not two sorted copies
        order = pc.sort_indices(t, [("ts", "ascending"), ("gacct", "ascending")]).to_numpy()
        ts = t.column("ts").to_numpy()[order]
        k = int(np.searchsorted(ts, ctx.t0 + (d + 1) * DAY_US))
        carry = t.take(pa.array(order[k:])) if d < ctx.days - 1 and k < len(order) else None
        order, ts = order[:k], ts[:k]
        n = len(order)
        if n == 0:
            continue
        col = {c: t.column(c).to_numpy(zero_copy_only=False)[order] for c in
               ("gacct", "model_i", "_jail", "input_tokens", "output_tokens", "_attack", "_group", "_recipe", "_area")}
        status = _statuses(col["gacct"], ts, rpm, ctx.rng("status", d), col["_jail"], col["model_i"] == n_old, ctx.release)
        ok = status == 200
        inp = np.where((status == 429) | (status >= 500), 0, col["input_tokens"])
        outp = np.where(ok, col["output_tokens"], 0)
        att = col["_attack"]
        attack_events += int(att.sum())
        for s0 in range(0, n, ROW_GROUP):
            s1 = min(n, s0 + ROW_GROUP)
            sub = t.select(_TEXT_COLS).take(pa.array(order[s0:s1]))
            prompt, system = sub.column("prompt"), sub.column("system_prompt")
            if ctx.lab.prompt_retention < 1.0:  # sampled content logging at this lab
                keep = pa.array(ctx.rng("retention", d, s0).random(s1 - s0) < ctx.lab.prompt_retention)
                prompt = pc.if_else(keep, prompt, pa.nulls(s1 - s0, pa.string()))
                system = pc.if_else(keep, system, pa.nulls(s1 - s0, pa.string()))
            ja4 = sub.column("tls_fingerprint") if ctx.lab.records_ja4 else pa.nulls(s1 - s0, pa.string())
            asn = sub.column("asn") if ctx.lab.records_asn else pa.nulls(s1 - s0, pa.int64())
            eid = _event_ids(counter, s1 - s0, salt)
            counter += s1 - s0
            ev = pa.table(
                {
                    "event_id": eid,
                    "ts": pa.array(ts[s0:s1], pa.int64()).cast(TS),
                    "account_id": sub.column("account_id"),
                    "api_key_id": sub.column("api_key_id"),
                    "model": models.take(pa.array(col["model_i"][s0:s1])),
                    "client_ip": sub.column("client_ip"),
                    "user_agent": sub.column("user_agent"),
                    "tls_fingerprint": ja4,
                    "asn": asn,
                    "system_prompt": system,
                    "prompt": prompt,
                    "n_messages": sub.column("n_messages"),
                    "n_tools": sub.column("n_tools"),
                    "input_tokens": pa.array(inp[s0:s1]),
                    "output_tokens": pa.array(outp[s0:s1]),
                    "max_tokens": sub.column("max_tokens"),
                    "temperature": sub.column("temperature"),
                    "status": pa.array(status[s0:s1], pa.int32()),
                }
            )
            ew.write(ev)
            if tw is not None:
                gi = col["_group"][s0:s1]
                code = rec_base[gi] + col["_recipe"][s0:s1]
                tw.write(
                    pa.table(
                        {
                            "event_id": eid,
                            "source": pa.array(np.where(att[s0:s1], "attack", "benign").astype(object), pa.string()),
                            "group": pa.array(gnames[gi], pa.string()),
                            "recipe": pa.array(rec_flat[code], pa.string()),
                            "area": pa.array(areas[col["_area"][s0:s1]], pa.string()),
                        }
                    )
                )
        del t
        if progress:
            progress(ctx.lab.name, d + 1, ctx.days)
    ew.close()
    if tw is not None:
        tw.close()
    _write_accounts(ctx, groups, out)
    labels = [g for g in groups if g.label == "distillation"]
    by_c: dict[str, int] = {}
    for g in labels:
        by_c[g.campaign or ""] = by_c.get(g.campaign or "", 0) + g.n
    return LabSummary(
        name=ctx.lab.name, path=out, events=ew.rows, accounts=int(base[-1]),
        distillation_accounts=sum(g.n for g in labels), attack_events=attack_events, by_campaign=by_c,
    )


def _write_accounts(ctx: LabCtx, groups: list[Group], out: Path) -> None:
    ids = [i for g in groups for i in g.ids]
    created = np.concatenate([g.created for g in groups])
    acc = pa.table(
        {
            "account_id": pa.array(ids, pa.string()),
            "created_at": pa.array(created, pa.int64()).cast(TS),
            "email_domain": pa.array([e for g in groups for e in g.email], pa.string()),
            "payment_fingerprint": pa.array([p for g in groups for p in g.payment], pa.string()),
            "country": pa.array([c for g in groups for c in g.country], pa.string()),
            "org_id": pa.array([o for g in groups for o in g.org], pa.string()),
            "tier": pa.array([t for g in groups for t in g.tier], pa.string()),
        }
    )
    lab = pa.table(
        {
            "account_id": pa.array(ids, pa.string()),
            "label": pa.array([g.label for g in groups for _ in g.ids], pa.string()),
            "campaign": pa.array([g.campaign for g in groups for _ in g.ids], pa.string()),
            "actor": pa.array([g.actor for g in groups for _ in g.ids], pa.string()),
            "persona": pa.array([p for g in groups for p in g.persona], pa.string()),
        }
    )
    order = pc.sort_indices(acc, [("account_id", "ascending")])
    write_table(out / "accounts.parquet", acc.take(order), ACCOUNTS.schema)
    write_table(out / "labels.parquet", lab.take(order), LABELS_SCHEMA)
    rel = pa.table(
        {
            "model": pa.array(list(ctx.lab.models) + [ctx.lab.new_model], pa.string()),
            "released_at": pa.array(
                [ts_us(x) for x in ctx.lab.old_releases] + [ctx.release], pa.int64()
            ).cast(TS),
        }
    )
    write_table(out / "releases.parquet", rel, RELEASES.schema)


def simulate(
    out: Path, *, scale: float, seed: int, labs: int = 1, scenario: Path | None = None,
    emit_truth: bool = False, progress: Progress | None = None,
) -> SimSummary:
    """Generate a world. ``labs == 1`` writes the dataset into ``out``; more labs write
    ``out/<lab-name>/`` each. Same arguments give byte-identical files."""
    if not scale > 0:
        raise ConfigError("scale must be positive")
    t_start = time.perf_counter()
    sc = load_scenario(scenario)
    out = Path(out)
    specs = _lab_specs(sc, labs)
    summaries = []
    for i, lab in enumerate(specs):
        ctx, groups = build_lab(sc, lab, i, seed, scale)
        target = out if labs == 1 else out / lab.name
        summaries.append(run_lab(ctx, groups, target, emit_truth=emit_truth, progress=progress))
    return SimSummary(out, sc.name, seed, scale, tuple(summaries), time.perf_counter() - t_start)
