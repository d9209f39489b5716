"""Distillation campaigns run through proxy resellers ("hydra clusters").

Modelled on the public 2026 disclosures: a reasoning-trace harvest (~150k exchanges, chain
of thought, rubric grading, rewrites of sensitive queries), an agentic / tool-use / coding
harvest (~3.4M), and a very large capability sweep (~13M) that moves about half of its
traffic to a newly released model within a day.

Infrastructure is drawn from the *world* seed, so the same operation shows up at every lab
with the same reseller exit pools, relay subnets, client stacks, card ranges and template
families, while account ids, volumes and timing are per lab. Roles:

=============  ==============================================================================
dedicated      reseller accounts carrying only harvest traffic; bursts in lockstep windows,
               rotating exits, banned and replaced by fresh accounts from sign-up batches
mixed          reseller accounts carrying harvest traffic *and* resold honest customers
low_and_slow   a few requests a day, human rhythm, residential exits, careful paraphrases
direct         the actor's own cloud accounts (shell-company domain, shared org)
=============  ==============================================================================

The reseller's honest resold customers get their own benign accounts (persona
``resold_customer``) on the same exits, client and card ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pyarrow as pa
import xxhash

from distillguard.sim import templates as T
from distillguard.sim.build import (
    TIER_RPM,
    LabCtx,
    account_ids,
    api_keys,
    calibrate_rates,
    choice,
    clients_table,
    concat_pools,
    settings,
)
from distillguard.sim.content import TemplateRecipe
from distillguard.sim.infra import (
    CARD_BINS,
    CONSUMER_MAIL,
    COUNTRY_TZ,
    DISPOSABLE_MAIL,
    VIRTUAL_BINS,
    IpPool,
    card,
    company_domains,
    make_ip_pool,
)
from distillguard.sim.personas import PERSONAS, benign_recipes
from distillguard.sim.scenario import CampaignSpec, PersonaSpec, Presence
from distillguard.sim.world import BURST, DAY_US, FLAT, HUMAN, NEVER, US_PER_S, Group

DEFAULT_KNOBS: dict[str, object] = {
    "languages": {"en": 0.6, "zh": 0.3, "other": 0.1},
    "raw_share": 0.25,
    "surface": 6,
    "span": 3,
    "epoch_days": 7.0,
    "rhythm": {"burst": 0.6, "flat": 0.3, "human": 0.1},
    "ip": {"rotating": 0.5, "sticky": 0.2, "relay": 0.3},
    "spoof_ua": 0.1,
    "clients": {"openai-python": 0.3, "httpx": 0.15, "aiohttp": 0.1, "go": 0.1,
                "litellm": 0.1, "python-requests": 0.1, "anthropic-python": 0.1,
                "openai-node": 0.05},
    "countries": {"US": 0.35, "SG": 0.15, "JP": 0.1, "GB": 0.1, "DE": 0.05, "KR": 0.05,
                  "AU": 0.05, "CA": 0.05, "NL": 0.05, "HK": 0.05},
    "exit_countries": ["US", "JP", "SG", "GB", "DE", "KR", "TW", "HK", "NL", "CA", "AU", "VN"],
    "operator_tz": 8.0,
    "mimic_tz": 0.6,
    "email": {"consumer": 0.6, "disposable": 0.15, "custom": 0.25},
    "payment": {"shared": 0.3, "sequential": 0.5, "random": 0.2},
    "tiers": {"build": 0.7, "free": 0.1, "scale": 0.2},
    "temps": {1.0: 0.25, 0.7: 0.25, 0.6: 0.15, 0.0: 0.15, None: 0.2},
    "maxes": {16384: 0.25, 32000: 0.15, 8192: 0.3, 4096: 0.15, 0: 0.15},
    "ban_share": 0.6,
    "ban_life_days": 9.0,
    "burst_every_days": 5.0,
    "aged_share": 0.2,
    "org_share": 0.2,
    "mixed_attack_share": [0.3, 0.85],
    "lso_rate": [1.0, 6.0],
    "lso_raw_extra": 0.25,
    "lso_browser": 0.4,
    "pivot": None,  # e.g. {share: 0.6, hours: 8, accounts: 0.9}
    "adopt": [0.5, 5.0, 0.2, 0.6],
    "system": {"none": 0.6, "generic": 0.4},
    "n_exits": 2500,
    "composed": 1.0,  # paraphrased wordings per catalogue wording (0 = fixed catalogue only)
    "keys": [1, 2],  # API keys per account
    "ua_rotate": 0.0,  # share of accounts whose gateway rotates its user agent per request
    "reseller_pool": None,  # name shared by campaigns that buy from the same resellers
    "office_hours": 0.4,  # share of resellers that run bursts in the operator's office hours
    "paraphrase": 0.0,  # share of templated requests reworded per request by a paraphrasing model
    "system_per_request": False,  # draw the system prompt per request (pass as a multi-tenant router)
}

ATTACK_SYSTEM = T.GENERIC_SYSTEM[:4]


@dataclass(frozen=True)
class Reseller:
    """One proxy reseller's infrastructure (identical in every lab)."""

    name: str
    resi: IpPool
    relay: IpPool
    ua: pa.Array
    ja4: pa.Array
    cards: tuple[str, ...]  # (bin6, last4) encoded as "bin:last4" for shared cards
    seq_bin: str
    seq_start: int
    domains: tuple[str, ...]
    bursts: np.ndarray  # sign-up batch times (µs)
    template_base: int


def _knob(c: CampaignSpec, key: str) -> object:
    return c.knobs.get(key, DEFAULT_KNOBS[key])


def _knob_pair(c: CampaignSpec, key: str) -> tuple[float, float]:
    """A ``[lo, hi]`` knob; the scenario loader checked its shape, callers convert."""
    lo, hi = cast("tuple[float, float]", _knob(c, key))
    return lo, hi


def make_resellers(ctx: LabCtx, c: CampaignSpec) -> list[Reseller]:
    n = max(1, int(round(c.resellers * max(ctx.scale, 0.05) ** 0.5)))
    out = []
    words = ctx.pools.text["words"].to_pylist()
    pool = str(_knob(c, "reseller_pool") or c.name)  # campaigns may buy from the same hydra
    for r in range(n):
        wr = ctx.world_rng("reseller", pool, r)
        exits = tuple(cast("list[str]", _knob(c, "exit_countries")))
        n_exit = int(int(_knob(c, "n_exits")) * max(ctx.scale, 0.05) ** 0.5)  # type: ignore[call-overload]
        resi = make_ip_pool(wr, "residential", max(200, n_exit), countries=exits, v6_share=0.08)
        mob = make_ip_pool(wr, "mobile", max(50, n_exit // 5), countries=exits, v6_share=0.2)
        relay = make_ip_pool(wr, "datacenter", 64, n_subnets=int(wr.integers(2, 9)))
        ua, ja4 = clients_table(wr, _knob(c, "clients"), 6, spoof=float(_knob(c, "spoof_ua")))  # type: ignore[arg-type]
        cards = tuple(f"{CARD_BINS[int(wr.integers(0, len(CARD_BINS)))]}:{int(wr.integers(0, 10_000))}" for _ in range(int(wr.integers(3, 9))))
        every = float(_knob(c, "burst_every_days")) * DAY_US  # type: ignore[arg-type]
        k = int((ctx.days + 90) * DAY_US / every) + 2
        bursts = ctx.t0 - 90 * DAY_US + (np.arange(k) * every + wr.uniform(0, every * 0.6, k)).astype(np.int64)
        out.append(
            Reseller(
                name=f"{pool}/r{r}",
                resi=concat_pools(resi, mob),
                relay=relay,
                ua=ua,
                ja4=ja4,
                cards=cards,
                seq_bin=VIRTUAL_BINS[int(wr.integers(0, len(VIRTUAL_BINS)))],
                seq_start=int(wr.integers(0, 9_000)),
                domains=tuple(company_domains(wr, words, 3, shady=True)),
                bursts=bursts,
                template_base=int(wr.integers(0, 100_000)),
            )
        )
    return out


def family_recipes(ctx: LabCtx, c: CampaignSpec, offsets: np.ndarray, raw_extra: float = 0.0) -> list[TemplateRecipe]:
    """One recipe per family. Wordings and their order come from the world seed, so every
    lab sees the same families; surface variants per language follow the knob weights."""
    langs = dict(_knob(c, "languages"))  # type: ignore[call-overload]
    out: list[TemplateRecipe] = []
    for fam in c.families:
        f = T.ATTACK_FAMILIES[fam]
        wr = ctx.world_rng("family", c.name, fam)
        k = int(_knob(c, "surface"))  # type: ignore[call-overload]
        tl: list[str] = []
        meds: list[float] = []
        mx = max(langs.values())
        for lang, text in f.wordings:
            w = langs.get(lang, langs.get("other", 0.0))
            if w <= 0:
                continue
            m = max(1, int(round(k * w / mx)))
            tl += T.surface_variants(text, wr, m)
        if not tl:
            tl = [t for _, t in f.wordings]
        n_comp = int(len(tl) * float(_knob(c, "composed")))  # type: ignore[arg-type]
        if n_comp and f.y_pool is None:
            tl += T.composed_wordings(fam, wr, n_comp)
        wr.shuffle(tl)
        meds = [f.out_median] * len(tl)
        sysw = dict(_knob(c, "system"))  # type: ignore[call-overload]
        # system prompts: none, generic ones, or an honest app's (to pass as an app backend)
        system: tuple[str | None, ...] = f.system or (
            (None,) * max(1, int(10 * sysw.get("none", 0.5)))
            + ATTACK_SYSTEM * max(0, int(round(4 * sysw.get("generic", 0.4))))
            + T.APP_SYSTEM[: int(round(15 * sysw.get("app", 0.0)))]
        )
        out.append(
            TemplateRecipe(
                tl, list(f.x_pools), ctx.pools, offsets, span=int(_knob(c, "span")),  # type: ignore[call-overload]
                drift=1, y_pool=f.y_pool,
                raw_share=min(0.95, float(_knob(c, "raw_share")) + raw_extra) if fam not in ("rubric",) else 0.0,  # type: ignore[arg-type]
                # one gateway config per account: the same system prompt on every request
                system=system,
                acct_system=(offsets * 7 + len(out)) % len(system)
                if not f.system and not _knob(c, "system_per_request") else None,
                out_median=meds, tools=f.tools,
                n_messages=f.n_messages, truth=f"{c.name}:{fam}",
                epoch_days=float(_knob(c, "epoch_days")),  # type: ignore[arg-type]
                paraphrase=float(_knob(c, "paraphrase")), para_family=fam,  # type: ignore[arg-type]
            )
        )
    return out


def _slots(
    ctx: LabCtx, rng: np.random.Generator, n_target: int, res_of: np.ndarray, resellers: list[Reseller],
    start_day: float, ban_share: float, life_days: float, aged_share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Account lifetimes: slots whose banned accounts are replaced by fresh ones."""
    t_start = ctx.t0 + int(start_day * DAY_US)
    span_days = max(1.0, ctx.days - start_day)
    per_slot = 1.0 + ban_share * span_days / max(life_days, 0.5)
    n_slots = max(1, int(round(1.07 * n_target / per_slot)))
    slot_res = res_of[rng.integers(0, len(res_of), n_slots)] if len(res_of) else np.zeros(n_slots, np.int64)
    res_l: list[int] = []
    created_l: list[int] = []
    start_l: list[int] = []
    end_l: list[int] = []
    first = t_start + (rng.random(n_slots) ** 2 * min(span_days, 6.0) * DAY_US).astype(np.int64)
    bans = rng.random(n_slots) < ban_share
    for s in range(n_slots):
        t = int(first[s])
        r = int(slot_res[s])
        while t < ctx.t_end and len(start_l) < n_target * 1.15 + 5:
            life = int(rng.exponential(life_days * DAY_US)) if bans[s] else NEVER
            e = min(t + max(life, 3600 * US_PER_S), NEVER)
            b = resellers[r].bursts
            prev = b[b < t - 2 * 3600 * US_PER_S]
            if rng.random() < aged_share:
                cr = ctx.t0 - int(rng.uniform(90, 500) * DAY_US)
            elif len(prev):
                cr = int(prev[-1]) + int(rng.exponential(900) * US_PER_S)
            else:
                cr = t - int(rng.uniform(1, 10) * DAY_US)
            res_l.append(r)
            created_l.append(cr)
            start_l.append(t)
            end_l.append(e)
            if e >= ctx.t_end:
                break
            t = e + int(rng.uniform(0.5, 8.0) * 3600 * US_PER_S)
    return (np.array(res_l, np.int64), np.array(created_l, np.int64),
            np.array(start_l, np.int64), np.array(end_l, np.int64))


def _group(
    ctx: LabCtx, c: CampaignSpec, role: str, resellers: list[Reseller], n_target: int,
    events: float, pres: Presence, resold: bool = False,
) -> Group | None:
    if n_target <= 0:
        return None
    rng = ctx.rng("campaign", c.name, role, "resold" if resold else "")
    lso = role == "low_and_slow"
    if role == "direct":
        res_of = np.zeros(1, np.int64)
    else:
        sizes = rng.dirichlet(np.full(len(resellers), 2.0))
        res_of = rng.choice(len(resellers), size=256, p=sizes)
    ban_share = 0.0 if (lso or resold) else float(_knob(c, "ban_share"))  # type: ignore[arg-type]
    res, created, start, end = _slots(
        ctx, rng, n_target, res_of, resellers if role != "direct" else resellers[:1], pres.start_day,
        ban_share, float(_knob(c, "ban_life_days")), float(_knob(c, "aged_share")),  # type: ignore[arg-type]
    )
    if resold:
        start = np.full(len(start), ctx.t0) + rng.integers(0, 3 * DAY_US, len(start))
        created = np.minimum(created, start - DAY_US)
    n = len(res)
    gname = f"{c.name}/{role}" + ("/resold" if resold else "")
    ids = account_ids(ctx, gname, n)
    # infrastructure: concatenate resellers' exits and relays, keep each account in its own
    pools, rng_lo, rng_hi, relay_lo, relay_hi = [], [], [], [], []
    off = 0
    if role == "direct":
        wr = ctx.world_rng("direct", c.name)
        dc = make_ip_pool(wr, "datacenter", 48, countries=("SG", "HK", "US", "JP"), n_subnets=3)
        pools.append(dc)
        rng_lo.append(0); rng_hi.append(len(dc)); relay_lo.append(0); relay_hi.append(len(dc))
        ua, ja4 = clients_table(wr, {"python-requests": 0.4, "httpx": 0.3, "aiohttp": 0.3}, 3)
        client_base = np.zeros(1, np.int64)
    else:
        uas: list[pa.Array] = []
        ja4s: list[pa.Array] = []
        cb: list[int] = []
        for r in resellers:
            pools.append(r.resi)
            rng_lo.append(off); rng_hi.append(off + len(r.resi))
            off += len(r.resi)
            pools.append(r.relay)
            relay_lo.append(off); relay_hi.append(off + len(r.relay))
            off += len(r.relay)
            cb.append(sum(len(u) for u in uas))
            uas.append(r.ua); ja4s.append(r.ja4)
        ua, ja4 = pa.concat_arrays(uas), pa.concat_arrays(ja4s)
        client_base = np.array(cb, np.int64)
    ips = concat_pools(*pools)
    lo = np.array(rng_lo)[res]
    hi = np.array(rng_hi)[res]
    rlo = np.array(relay_lo)[res]
    rhi = np.array(relay_hi)[res]
    # rhythm and network mode
    if lso:
        rhythm = np.full(n, HUMAN, np.int8)
        ip_mode = np.where(rng.random(n) < 0.7, 0, 2).astype(np.int8)  # sticky residential exit
        home = lo[:, None] + rng.integers(0, 1 << 30, (n, 3)) % (hi - lo)[:, None]
    elif resold:
        rhythm = np.full(n, HUMAN, np.int8)
        ip_mode = np.where(rng.random(n) < 0.5, 1, 0).astype(np.int8)
        home = rlo[:, None] + rng.integers(0, 1 << 30, (n, 3)) % (rhi - rlo)[:, None]
    else:
        rmap = {"burst": BURST, "flat": FLAT, "human": HUMAN}
        rhythm = np.array([rmap[x] for x in choice(rng, _knob(c, "rhythm"), n)], np.int8)  # type: ignore[arg-type]
        if role == "mixed":  # a gateway multiplexing many users looks flat-ish
            rhythm = np.where(rng.random(n) < 0.6, FLAT, rhythm).astype(np.int8)
        # home: a residential proxy address of the account's own (ISP proxies), kept for weeks
        mm = {"rotating": 1, "sticky": 2, "relay": 0, "home": 3}
        ip_mode = np.array([mm[x] for x in choice(rng, _knob(c, "ip"), n)], np.int8)  # type: ignore[arg-type]
        home = rlo[:, None] + rng.integers(0, 1 << 30, (n, 3)) % (rhi - rlo)[:, None]
        own = np.flatnonzero(ip_mode == 3)
        if len(own):
            home[own] = lo[own, None] + rng.integers(0, 1 << 30, (len(own), 3)) % (hi - lo)[own, None]
            ip_mode[own] = 0
        if role == "direct":
            ip_mode = np.zeros(n, np.int8)
    # declared identity
    countries = choice(rng, _knob(c, "countries"), n)  # type: ignore[arg-type]
    op_tz = float(_knob(c, "operator_tz"))  # type: ignore[arg-type]
    mimic = rng.random(n) < float(_knob(c, "mimic_tz"))  # type: ignore[arg-type]
    tz = np.where(mimic, np.array([COUNTRY_TZ.get(x, 0.0) for x in countries]), op_tz) + rng.normal(0, 0.7, n)
    if resold:
        tz = np.where(rng.random(n) < 0.7, 8.0, tz)
    tiers = list(choice(rng, _knob(c, "tiers"), n))  # type: ignore[arg-type]
    if role == "direct":
        tiers = ["scale"] * n
    if lso:  # careful operators buy a tier whose limits they never touch
        tiers = ["build" if t == "free" else t for t in tiers]
    rpm = np.array([TIER_RPM[t] for t in tiers], np.int32)
    # e-mail, payment, org
    email_kind = choice(rng, _knob(c, "email"), n)  # type: ignore[arg-type]
    emails: list[str | None] = []
    cons = choice(rng, CONSUMER_MAIL, n)
    pay_kind = choice(rng, _knob(c, "payment"), n)  # type: ignore[arg-type]
    pays: list[str | None] = []
    seq_counter: dict[int, int] = {}
    proc = ctx.lab.processor
    direct_dom = company_domains(ctx.world_rng("direct-domain", c.name), ctx.pools.text["words"].to_pylist(), 1)[0]
    for i in range(n):
        r = resellers[int(res[i])] if role != "direct" else resellers[0]
        ek = email_kind[i]
        if role == "direct":
            emails.append(direct_dom)
        elif ek == "custom":
            emails.append(r.domains[int(rng.integers(0, len(r.domains)))])
        elif ek == "disposable":
            emails.append(DISPOSABLE_MAIL[int(rng.integers(0, len(DISPOSABLE_MAIL)))])
        else:
            emails.append(str(cons[i]))
        pk = pay_kind[i]
        if pk == "shared":
            b, l4 = r.cards[int(rng.integers(0, len(r.cards)))].split(":")
            pays.append(card(rng, b, int(l4), proc))
        elif pk == "sequential":
            k = seq_counter.get(int(res[i]), int(rng.integers(0, 400)))
            seq_counter[int(res[i])] = k + 1
            pays.append(card(rng, r.seq_bin, (r.seq_start + k) % 10_000, proc))
        else:
            pays.append(card(rng, CARD_BINS[int(rng.integers(0, len(CARD_BINS)))], int(rng.integers(0, 10_000)), proc + ids[i]))
    if resold:
        for j in np.flatnonzero(rng.random(n) < 0.4):  # some resold seats use the reseller's own cards
            pays[j] = card(rng, resellers[int(res[j])].seq_bin, int(rng.integers(0, 10_000)), proc)
    org_share = float(_knob(c, "org_share"))  # type: ignore[arg-type]
    orgs: list[str | None] = ["org-" + s[5:] for s in ids]
    shared_org = rng.random(n) < (org_share if role != "direct" else 1.0)
    for j in np.flatnonzero(shared_org):
        key = f"{ctx.seed}/{ctx.lab.name}/{c.name}/{int(res[j])}/{int(rng.integers(0, 3))}"
        orgs[j] = "org-" + xxhash.xxh64_hexdigest(key.encode())[:14]
    # clients
    k_cl = len(ua) // max(1, len(client_base)) if role != "direct" else len(ua)
    c1 = client_base[np.minimum(res, len(client_base) - 1)] + rng.integers(0, max(1, k_cl), n)
    c2 = client_base[np.minimum(res, len(client_base) - 1)] + rng.integers(0, max(1, k_cl), n)
    acct_client = np.stack([c1, c2], axis=1)
    client2_p = rng.uniform(0.0, 0.3, n)
    rot = rng.random(n) < float(_knob(c, "ua_rotate"))  # type: ignore[arg-type]
    client2_p = np.where(rot & ~np.array([resold] * n), 0.5, client2_p)
    if lso:  # careful operators send a browser UA (often over a python TLS stack)
        bua, bja = clients_table(ctx.world_rng("lso-clients", c.name), {"chrome": 0.5, "safari": 0.2, "openai-python": 0.3}, 6, spoof=0.5)
        base = len(ua)
        ua, ja4 = pa.concat_arrays([ua, bua]), pa.concat_arrays([ja4, bja])
        br = rng.random(n) < float(_knob(c, "lso_browser"))  # type: ignore[arg-type]
        acct_client[br, 0] = base + rng.integers(0, 6, int(br.sum()))
        acct_client[br, 1] = acct_client[br, 0]
    # recipes
    offs = np.array([resellers[int(x)].template_base if role != "direct" else 0 for x in res]) + rng.integers(0, 8, n)
    if resold:
        recipes: list[object] = benign_recipes(PERSONAS["resold_customer"].recipes, ctx, n, rng)
        attack = np.zeros(len(recipes), bool)
        rw = np.array([w for _, w in PERSONAS["resold_customer"].recipes])
        cw = np.cumsum(rng.dirichlet(rw * 8 + 0.05, n), axis=1)
        attack_share = np.zeros(n)
    else:
        fam = family_recipes(ctx, c, offs, raw_extra=float(_knob(c, "lso_raw_extra")) if lso else 0.0)  # type: ignore[arg-type]
        fw = np.array(list(c.families.values()), float)
        per = rng.dirichlet(fw / fw.sum() * 12 + 0.05, n)
        recipes = list(fam)
        attack = np.ones(len(fam), bool)
        attack_share = np.ones(n)
        if role == "mixed":
            lo_s, hi_s = _knob_pair(c, "mixed_attack_share")
            attack_share = rng.uniform(float(lo_s), float(hi_s), n)
            honest = benign_recipes(PERSONAS["resold_customer"].recipes, ctx, n, rng)
            hw = np.array([w for _, w in PERSONAS["resold_customer"].recipes])
            hper = rng.dirichlet(hw * 8 + 0.05, n)
            per = np.concatenate([per * attack_share[:, None], hper * (1 - attack_share)[:, None]], axis=1)
            recipes += honest
            attack = np.concatenate([attack, np.zeros(len(honest), bool)])
        cw = np.cumsum(per, axis=1)
    # volume
    active_p = np.full(n, 1.0) if not (lso or resold) else rng.uniform(0.5, 0.95, n)
    if lso:
        lo_r, hi_r = _knob_pair(c, "lso_rate")
        rate = rng.uniform(float(lo_r), float(hi_r), n)
    else:
        raw = rng.lognormal(0.0, 0.6, n) / np.maximum(attack_share, 0.05) * (4.0 if role == "direct" else 1.0)
        rate = calibrate_rates(raw, active_p, start, end, ctx, events, weekend=1.0)
    # model pivot
    piv = _knob(c, "pivot")
    if piv and not resold:
        p = dict(piv)  # type: ignore[call-overload]
        hours = float(p.get("hours", 8.0))
        adopt = ctx.release + (rng.uniform(0.3, hours, n) * 3600 * US_PER_S).astype(np.int64)
        adopt = np.where(rng.random(n) < float(p.get("accounts", 0.9)), np.maximum(adopt, start), NEVER)
        new_share = np.clip(rng.normal(float(p.get("share", 0.6)), 0.12, n), 0.05, 0.95)
    else:
        a = _knob(c, "adopt")
        a = [0.6, 3.0, 0.3, 0.8] if resold else a
        delay = rng.exponential(float(a[1]) * DAY_US, n).astype(np.int64)  # type: ignore[index]
        adopt = np.where(rng.random(n) < float(a[0]), np.maximum(ctx.release + delay, start), NEVER)  # type: ignore[index]
        new_share = rng.uniform(float(a[2]), float(a[3]), n)  # type: ignore[index]
    n_old = len(ctx.models.names) - 1
    w = np.array(ctx.lab.model_weights, float)
    old_pref = rng.choice(n_old, n, p=w / w.sum())
    if resold:
        pd = PERSONAS["resold_customer"]
        temp, talt, mx, malt = settings(rng, pd.temps, pd.maxes, n)
    else:
        temp, talt, mx, malt = settings(
            rng, cast("dict[float | None, float]", _knob(c, "temps")),
            cast("dict[int, float]", _knob(c, "maxes")), n)
        if lso:
            mx = np.where(mx > 8192, 4096, mx)
    k_lo, k_hi = _knob_pair(c, "keys")
    n_keys = rng.integers(int(k_lo), int(k_hi) + 1, n) if not resold else rng.integers(1, 3, n)
    keys, key_off = api_keys(ctx, ids, n_keys)
    persona = "resold_customer" if resold else {"dedicated": "hydra_dedicated", "mixed": "hydra_mixed", "low_and_slow": "low_and_slow", "direct": "direct"}[role]
    return Group(
        name=gname,
        attack=attack,
        recipes=recipes,  # type: ignore[arg-type]
        recipe_cw=cw,
        ids=ids,
        created=created,
        start=start,
        end=end,
        rate=rate,
        active_p=active_p,
        rhythm=rhythm,
        tz=tz,
        gap=rng.uniform(90.0, 600.0, n) if lso else (rng.uniform(20.0, 150.0, n) if resold else rng.uniform(1.0, 20.0, n)),
        sess_len=3.0 if lso else 5.0,
        rpm=rpm,
        keys=keys,
        key_off=key_off,
        n_keys=n_keys,
        ua=ua,
        ja4=ja4,
        acct_client=acct_client,
        client2_p=client2_p,
        ips=ips,
        ip_mode=ip_mode,
        ip_home=home,
        mobile=(0, 0),
        mobile_share=np.zeros(n),
        adopt=adopt.astype(np.int64),
        new_share=new_share,
        old_pref=old_pref,
        temp=temp,
        temp_alt=talt,
        max_tok=mx,
        max_tok_alt=malt,
        fixed_p=np.full(n, 0.9 if not resold else 0.6),
        out_mult=rng.uniform(0.8, 1.3, n),
        email=emails,
        payment=pays,
        country=list(countries),
        org=orgs,
        tier=tiers,
        label="benign" if resold else "distillation",
        campaign=None if resold else c.name,
        actor=None if resold else c.actor,
        persona=[persona] * n,
        reseller=res,
        burst_seed=int(ctx.world_rng("bursts", c.name).integers(0, 2**31)),
        lock_p=rng.uniform(0.5, 0.95, n),
        shift_p=float(_knob(c, "office_hours")),  # type: ignore[arg-type]
        shift_tz=float(_knob(c, "operator_tz")),  # type: ignore[arg-type]
        ip_lo=np.where(ip_mode == 0, rlo, lo) if not resold else rlo,
        ip_hi=np.where(ip_mode == 0, rhi, hi) if not resold else rhi,
        weekend=1.0 if not (lso or resold) else 0.85,
    )


def build_campaign(ctx: LabCtx, c: CampaignSpec, resold: PersonaSpec | None, resold_weight: float) -> list[Group]:
    """All groups of one campaign in one lab (plus its resellers' honest customers)."""
    # labs beyond the scenario's list see the operation the way an earlier lab did
    pres = c.presence[ctx.lab_index % len(c.presence)] if c.presence else Presence()
    if pres.volume <= 0:
        return []
    resellers = make_resellers(ctx, c)
    n_acc = c.accounts * ctx.scale * pres.volume
    events = c.events * ctx.scale * pres.volume
    roles = {"low_and_slow": 1.0} if pres.low_and_slow_only else dict(c.roles)
    tot = sum(roles.values())
    groups: list[Group] = []
    # low-and-slow volume follows from its account count; the rest carries the campaign
    lso_n = int(round(n_acc * roles.get("low_and_slow", 0.0) / tot)) if roles.get("low_and_slow") else 0
    if roles.get("low_and_slow"):
        lso_n = max(lso_n, 2)
    lo_r, hi_r = _knob_pair(c, "lso_rate")
    lso_events = lso_n * (float(lo_r) + float(hi_r)) / 2 * 0.72 * (ctx.days - pres.start_day)
    rest = max(events - lso_events, 0.0)
    weights = {"dedicated": 1.0, "mixed": 0.8, "direct": 4.0}
    share = {r: roles[r] * weights[r] for r in roles if r != "low_and_slow"}
    ssum = sum(share.values()) or 1.0
    for role in roles:
        if role == "low_and_slow":
            g = _group(ctx, c, role, resellers, lso_n, 0.0, pres)
        else:
            n_r = max(2, int(round(n_acc * roles[role] / tot)))
            g = _group(ctx, c, role, resellers, n_r, rest * share[role] / ssum, pres)
        if g is not None:
            groups.append(g)
    if resold is not None and resold_weight > 0 and not pres.low_and_slow_only:
        n_res = max(2, int(round(resold.accounts * ctx.scale * resold_weight)))
        g = _group(ctx, c, "dedicated", resellers, n_res, resold.events * ctx.scale * resold_weight, Presence(), resold=True)
        if g is not None:
            groups.append(g)
    return groups
