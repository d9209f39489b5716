"""Small synthetic linking worlds for tests and the graph benchmark.

Not the project simulator (``distillguard.sim``): this builds only the narrow columns the
graph stage reads, at any size, in a second, so the tests and the 100k-account benchmark
need no generated dataset. It contains the structures linking must handle: benign accounts
with popular SDKs, big mail providers and corporate NAT groups (orgs); campaigns run through
proxy IP pools with sequential cards, sign-up bursts, shared templates and lockstep timing,
a share of low-and-slow accounts; and honest *resold* customers who share a campaign's
proxy pool and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
UAS = [f"sdk-{n}/1.{i}" for n in ("openai-python", "node", "httpx", "curl", "go-http") for i in range(3)]


@dataclass(frozen=True)
class SynthWorld:
    events: pl.DataFrame
    accounts: pl.DataFrame
    labels: pl.DataFrame
    scores: pl.DataFrame


def synth_world(
    *,
    n_benign: int = 2000,
    campaigns: tuple[int, ...] = (120, 60),
    n_resold_per_campaign: int = 20,
    low_slow_share: float = 0.25,
    benign_events: int = 12,
    attack_events: int = 40,
    days: int = 14,
    seed: int = 0,
) -> SynthWorld:
    """Build a world; ``campaigns`` lists the number of accounts per campaign."""
    rng = np.random.default_rng(seed)
    secs = days * 86400
    ev_parts: list[pl.DataFrame] = []
    acc_rows: dict[str, list[object]] = {
        k: [] for k in ("account_id", "created_at", "email_domain", "payment_fingerprint", "org_id", "tier")
    }
    lab: dict[str, list[object]] = {k: [] for k in ("account_id", "label", "campaign", "persona")}
    score: list[float] = []

    def add_account(
        aid: str, created: dt.datetime, dom: str, pay: str, org: str | None,
        label: str, camp: str | None, persona: str, s: float,
    ) -> None:
        acc_rows["account_id"].append(aid)
        acc_rows["created_at"].append(created)
        acc_rows["email_domain"].append(dom)
        acc_rows["payment_fingerprint"].append(pay)
        acc_rows["org_id"].append(org)
        acc_rows["tier"].append("build")
        lab["account_id"].append(aid)
        lab["label"].append(label)
        lab["campaign"].append(camp)
        lab["persona"].append(persona)
        score.append(s)

    def events_for(aid: str, ts: np.ndarray, ips: np.ndarray, asn: np.ndarray, ua: np.ndarray,
                   tpl: np.ndarray | None) -> None:
        n = len(ts)
        ev_parts.append(
            pl.DataFrame(
                {
                    "account_id": [aid] * n,
                    "ts": (np.datetime64(T0.replace(tzinfo=None), "s") + ts.astype("timedelta64[s]")).astype("datetime64[us]"),
                    "client_ip": ips,
                    "asn": asn.astype(np.int64),
                    "user_agent": ua,
                    "template_id": pl.Series(tpl if tpl is not None else [None] * n, dtype=pl.String),
                    "output_tokens": rng.integers(50, 900, n),
                    "input_tokens": rng.integers(20, 400, n),
                    "model": ["m-1"] * n,
                }
            )
        )

    # benign: individuals, with a share in corporate NAT orgs
    org_of = np.where(rng.random(n_benign) < 0.3, rng.integers(0, max(1, n_benign // 25), n_benign), -1)
    for i in range(n_benign):
        aid = f"b{i:06d}"
        org = f"org{org_of[i]}" if org_of[i] >= 0 else None
        dom = (
            f"corp{org_of[i]}.example" if org is not None
            else str(rng.choice(["gmail.com", "outlook.com", "yahoo.com", f"mail{i}.example"], p=[0.6, 0.2, 0.1, 0.1]))
        )
        created = T0 - dt.timedelta(seconds=int(rng.integers(0, 200 * 86400)))
        add_account(aid, created, dom, f"pf{rng.integers(0, 2**48):012x}", org, "benign", None,
                    "corporate" if org else "casual", float(rng.uniform(0, 0.3)))
        n = max(1, int(rng.poisson(benign_events)))
        if org is not None:
            ip = np.array([f"10.{org_of[i] % 250}.{org_of[i] // 250}.{int(rng.integers(1, 4))}"] * n)
            asn = np.full(n, 3000 + org_of[i])
        else:
            home = f"{rng.integers(11, 220)}.{rng.integers(0, 256)}.{rng.integers(0, 256)}.{rng.integers(1, 255)}"
            ip = np.array([home] * n)
            asn = np.full(n, int(rng.integers(7000, 7050)))  # big consumer ISPs: shared by many
        ua = np.array([UAS[int(rng.integers(0, len(UAS)))]] * n)
        events_for(aid, np.sort(rng.integers(0, secs, n)), ip, asn, ua, None)

    for c, size in enumerate(campaigns):
        camp = f"camp{c}"
        pool = np.array([f"203.{c}.{b}.{h}" for b in range(4) for h in range(1, 17)])
        pool_asn = 64500 + c
        ticks = np.sort(rng.choice(secs, size=max(200, attack_events * 6), replace=False))
        base = int(rng.integers(1000, 9000))
        burst0 = T0 - dt.timedelta(days=int(rng.integers(5, 30)))
        doms = [f"mx{c}{k}.example" for k in range(3)]
        for j in range(size):
            aid = f"a{c}_{j:05d}"
            low = rng.random() < low_slow_share
            created = burst0 + dt.timedelta(hours=2 * (j // 20), seconds=int(rng.integers(0, 240)))
            pay = f"pm{c}{base}{j // 3:05d}" if j % 3 else f"pf{rng.integers(0, 2**48):012x}"
            add_account(aid, created, doms[j % 3], pay, None, "distillation", camp,
                        "low_and_slow" if low else "attacker",
                        float(rng.uniform(0.05, 0.35) if low else rng.uniform(0.6, 1.0)))
            n = 4 if low else max(5, int(rng.poisson(attack_events)))
            ts = rng.choice(ticks, size=n, replace=False) + rng.integers(0, 8, n)
            ips = pool[rng.integers(0, len(pool), n)]
            ua = np.array([f"python-httpx/0.2{c}" if rng.random() < 0.7 else UAS[0]] * n)
            tpl = np.array([f"T{c}_{int(k)}" for k in rng.integers(0, 5, n)], dtype=object)
            events_for(aid, np.sort(ts), ips, np.full(n, pool_asn), ua, tpl)
        for r in range(n_resold_per_campaign):
            aid = f"r{c}_{r:04d}"
            created = T0 - dt.timedelta(seconds=int(rng.integers(0, 200 * 86400)))
            add_account(aid, created, "gmail.com", f"pf{rng.integers(0, 2**48):012x}", None,
                        "benign", None, "resold_customer", float(rng.uniform(0, 0.3)))
            n = max(2, int(rng.poisson(benign_events)))
            events_for(aid, np.sort(rng.integers(0, secs, n)), pool[rng.integers(0, len(pool), n)],
                       np.full(n, pool_asn), np.array([UAS[int(rng.integers(0, len(UAS)))]] * n), None)

    events = pl.concat(ev_parts).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
    accounts = pl.DataFrame(acc_rows, schema={
        "account_id": pl.String, "created_at": pl.Datetime("us", "UTC"), "email_domain": pl.String,
        "payment_fingerprint": pl.String, "org_id": pl.String, "tier": pl.String})
    labels = pl.DataFrame(lab, schema={"account_id": pl.String, "label": pl.String,
                                       "campaign": pl.String, "persona": pl.String})
    sc = np.asarray(score)
    scores = pl.DataFrame({"account_id": lab["account_id"], "score": sc, "flagged": sc >= 0.6})
    return SynthWorld(events=events, accounts=accounts, labels=labels, scores=scores)
