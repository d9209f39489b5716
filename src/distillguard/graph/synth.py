"""Small synthetic linking worlds for tests and the graph benchmark.

Not the project simulator (``distillguard.sim``): this builds only the narrow columns the
graph stage reads, vectorised, so the tests and the 100k-account benchmark need no
generated dataset. It contains the structures linking must handle: benign accounts with
popular SDKs, big mail providers, big consumer ISPs and corporate NAT groups (orgs);
campaigns run through proxy IP pools with sequential and shared cards, sign-up bursts,
shared templates and lockstep timing, a share of low-and-slow accounts; and honest
*resold* customers who share a campaign's proxy pool and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
UAS = [
    f"sdk-{n}/1.{i}"
    for n in ("openai-python", "node", "httpx", "curl", "go-http")
    for i in range(3)
]


def _opt(values: np.ndarray, keep: np.ndarray) -> pl.Series:
    """String series with nulls where ``keep`` is False."""
    v = pl.Series(values.astype(str), dtype=pl.String)
    return pl.select(pl.when(pl.Series(keep)).then(v).otherwise(None)).to_series()


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
    """Build a world; ``campaigns`` lists the number of accounts per campaign.

    ``scores`` is a part-1 stand-in: loud campaign accounts U(0.6, 1), everyone else
    U(0, 0.35) (low-and-slow accounts look clean to part 1).
    """
    rng = np.random.default_rng(seed)
    secs = days * 86400
    nc = len(campaigns)
    # ---- account table -------------------------------------------------------------------
    pop_b = np.zeros(n_benign, dtype=np.int64) - 1  # campaign index, -1 benign
    sizes = np.asarray(campaigns, dtype=np.int64)
    camp_of = np.concatenate(
        [pop_b, np.repeat(np.arange(nc), sizes), np.repeat(np.arange(nc), n_resold_per_campaign)]
    )
    kind = np.concatenate(
        [
            np.zeros(n_benign, np.int8),
            np.ones(int(sizes.sum()), np.int8),
            np.full(nc * n_resold_per_campaign, 2, np.int8),
        ]
    )
    n = len(kind)
    j_in = np.concatenate(
        [np.arange(n_benign)]
        + [np.arange(s) for s in sizes]
        + [np.arange(n_resold_per_campaign)] * nc
    )
    low = (kind == 1) & (rng.random(n) < low_slow_share)
    org = np.where(
        (kind == 0) & (rng.random(n) < 0.3), rng.integers(0, max(1, n_benign // 25), n), -1
    )
    prefix = np.array(["b", "a", "r"])[kind]
    ids = [
        f"{p}{c}_{j:06d}" if k else f"b{j:06d}"
        for p, c, j, k in zip(prefix, camp_of, j_in, kind, strict=True)
    ]
    base = rng.integers(1000, 9000, max(nc, 1))
    burst_day = rng.integers(5, 30, max(nc, 1))
    created_s = np.where(
        kind == 1,
        -burst_day[np.clip(camp_of, 0, None)] * 86400
        + 7200 * (j_in // 20)
        + rng.integers(0, 240, n),
        -rng.integers(0, 200 * 86400, n),
    )
    mail = rng.choice(
        ["gmail.com", "outlook.com", "yahoo.com", "own"], p=[0.6, 0.2, 0.1, 0.1], size=n
    )
    email = np.where(org >= 0, np.char.add("corp", org.astype(str)), mail).astype(object)
    email = np.where(email == "own", np.char.add("mail", np.arange(n).astype(str)), email).astype(
        object
    )
    email = np.where(org >= 0, np.char.add(email.astype(str), ".example"), email).astype(object)
    email = np.where(
        kind == 1,
        np.char.add(np.char.add("mx", camp_of.astype(str)), (j_in % 3).astype(str)),
        email,
    )
    email = np.where(kind == 1, np.char.add(email.astype(str), ".example"), email)
    email = np.where(kind == 2, "gmail.com", email)
    rand_pay = np.char.add("pf", np.char.zfill(rng.integers(0, 2**40, n).astype(str), 13))
    seq_pay = np.char.add(
        np.char.add(
            np.char.add("pm", camp_of.astype(str)), base[np.clip(camp_of, 0, None)].astype(str)
        ),
        np.char.zfill((j_in // 3).astype(str), 5),
    )
    pay = np.where((kind == 1) & (j_in % 3 != 0), seq_pay, rand_pay)
    own = np.where((kind == 1) & ~low, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.35, n))
    persona = np.select(
        [kind == 2, low, kind == 1, org >= 0],
        ["resold_customer", "low_and_slow", "attacker", "corporate"],
        "casual",
    )
    accounts = pl.DataFrame(
        {
            "account_id": ids,
            "created_at": pl.Series(
                (
                    np.datetime64(T0.replace(tzinfo=None), "s") + created_s.astype("timedelta64[s]")
                ).astype("datetime64[us]")
            ).dt.replace_time_zone("UTC"),
            "email_domain": email.astype(str),
            "payment_fingerprint": pay,
            "org_id": _opt(np.char.add("org", org.astype(str)), org >= 0),
            "tier": ["build"] * n,
        }
    )
    labels = pl.DataFrame(
        {
            "account_id": ids,
            "label": np.where(kind == 1, "distillation", "benign"),
            "campaign": _opt(np.char.add("camp", camp_of.astype(str)), kind == 1),
            "persona": persona,
        }
    )
    scores = pl.DataFrame({"account_id": ids, "score": own, "flagged": own >= 0.6})
    # ---- events ----------------------------------------------------------------------------
    n_ev = np.where(
        kind == 1,
        np.where(low, 4, np.maximum(5, rng.poisson(attack_events, n))),
        np.maximum(np.where(kind == 2, 2, 1), rng.poisson(benign_events, n)),
    )
    a = np.repeat(np.arange(n), n_ev)
    m = len(a)
    ka, ca = kind[a], camp_of[a]
    n_ticks = max(200, attack_events * 6)
    ticks = np.sort(rng.integers(0, secs, (max(nc, 1), n_ticks)), axis=1)
    ts = np.where(
        ka == 1,
        ticks[np.clip(ca, 0, None), rng.integers(0, n_ticks, m)] + rng.integers(0, 8, m),
        rng.integers(0, secs, m),
    )
    home = rng.integers(0, 2**31, n)
    home_ip = (
        pl.DataFrame({"h": home})
        .select(
            pl.format(
                "{}.{}.{}.{}",
                11 + pl.col("h") % 200,
                (pl.col("h") // 200) % 256,
                (pl.col("h") // 51200) % 256,
                1 + (pl.col("h") // 13107200) % 254,
            )
        )
        .to_series()
        .to_numpy()
    )
    corp_ip = (
        pl.DataFrame({"o": org, "x": rng.integers(1, 4, n)})
        .select(pl.format("10.{}.{}.{}", pl.col("o") % 250, pl.col("o") // 250, pl.col("x")))
        .to_series()
        .to_numpy()
    )
    pool_i = rng.integers(0, 64, m)
    pool_ip = (
        pl.DataFrame({"c": np.clip(ca, 0, None), "p": pool_i})
        .select(pl.format("203.{}.{}.{}", pl.col("c"), pl.col("p") // 16, 1 + pl.col("p") % 16))
        .to_series()
        .to_numpy()
    )
    ip = np.where(ka >= 1, pool_ip, np.where(org[a] >= 0, corp_ip[a], home_ip[a]))
    asn = np.where(ka >= 1, 64500 + ca, np.where(org[a] >= 0, 3000 + org[a], 7000 + home[a] % 50))
    ua_acc = np.where(
        (kind == 1) & (rng.random(n) < 0.7),
        np.char.add("python-httpx/0.2", np.clip(camp_of, 0, None).astype(str)),
        np.asarray(UAS)[rng.integers(0, len(UAS), n)],
    )
    tpl = _opt(
        np.char.add(
            np.char.add(np.char.add("T", ca.astype(str)), "_"), rng.integers(0, 5, m).astype(str)
        ),
        ka == 1,
    )
    events = (
        pl.DataFrame(
            {
                "account_id": pl.Series(ids)[a].to_numpy() if m else [],
                "ts": (
                    np.datetime64(T0.replace(tzinfo=None), "s") + ts.astype("timedelta64[s]")
                ).astype("datetime64[us]"),
                "model": ["m-1"] * m,
                "client_ip": ip,
                "asn": asn.astype(np.int64),
                "user_agent": ua_acc[a],
                "template_id": tpl,
                "input_tokens": rng.integers(20, 400, m),
                "output_tokens": rng.integers(50, 900, m),
            }
        )
        .with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
        .sort("ts")
    )
    return SynthWorld(events=events, accounts=accounts, labels=labels, scores=scores)
