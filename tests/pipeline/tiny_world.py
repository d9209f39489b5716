"""A small hand-built world (no simulator): benign personas, hard negatives and one
templated, multi-account distillation operation, written per the traffic-log contract.

Deterministic for a seed. Used by pipeline, report and baseline tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 10
RELEASE = START + dt.timedelta(days=6)

CHAT = [
    "what's a good name for a golden retriever puppy", "help me write an email to my landlord "
    "about the broken heater", "how long should I boil an egg", "can you recommend a sci-fi "
    "book like dune", "explain the offside rule in football", "my cat keeps scratching the "
    "sofa what can I do", "write a short poem for my mom's birthday", "is it safe to eat "
    "raw cookie dough", "how do I get rid of fruit flies", "tips for a job interview at a bank",
    "translate 'where is the train station' to german", "why is the sky blue",
    "plan a vegetarian dinner for six people", "what does a notary do",
    "how can I improve my sleep schedule", "summarise the plot of hamlet in two lines",
]
PROBLEMS = [
    "A farmer has {a} sheep and buys {b} more. How many sheep now?",
    "Find x if {a}x + {b} = {c}.", "What is the remainder of {a} divided by {b}?",
    "Write a Python function that checks whether {a} is prime.",
    "Knights always tell the truth; knaves lie. Person {a} says person {b} is a knave.",
    "Explain why the sum of two odd numbers like {a} and {b} is even.",
    "Sort the list [{a}, {b}, {c}] with merge sort and explain each pass.",
    "How many ways can {a} books be arranged on a shelf?",
]
COT_TEMPLATE = ("You are an expert tutor. Solve the problem below. Think step by step and show "
                "your complete reasoning before the final answer.\n\nProblem: {p}")
GRADE_TEMPLATE = ("Grade the following answer on a scale of 1 to 10 using the rubric "
                  "(correctness, clarity). Answer: {p}")
BATCH_TEMPLATE = "Extract the invoice number and total from this record as JSON: {p}"
BENCH = [f"def task_{i}(x):\n    \"\"\"Return x plus {i}.\"\"\"\n" for i in range(40)]


def _rows(rng: np.random.Generator, acct: str, n: int, *, prompts: list[str], hours: tuple[int, int],
          ua: str, max_tokens: int | None, temp: float, out_mean: int, model: str = "m-1",
          system: str | None = None, ip: str = "198.51.100.1", new_model_share: float = 0.0) -> list[dict]:
    rows = []
    for _ in range(n):
        day = int(rng.integers(0, DAYS))
        hour = int(rng.integers(hours[0], hours[1]))
        ts = START + dt.timedelta(days=day, hours=hour, seconds=int(rng.integers(0, 3600)))
        m = model
        if ts >= RELEASE and rng.random() < new_model_share:
            m = "m-2"
        p = prompts[int(rng.integers(0, len(prompts)))]
        p = p.format(a=int(rng.integers(2, 999)), b=int(rng.integers(2, 999)),
                     c=int(rng.integers(2, 999)), p=PROBLEMS[int(rng.integers(0, len(PROBLEMS)))]
                     .format(a=int(rng.integers(2, 999)), b=int(rng.integers(2, 999)),
                             c=int(rng.integers(2, 999))))
        rows.append({
            "ts": ts, "account_id": acct, "model": m, "client_ip": ip, "user_agent": ua,
            "asn": 64500, "system_prompt": system, "prompt": p, "n_messages": 1, "n_tools": 0,
            "input_tokens": len(p) // 4 + 5, "output_tokens": int(rng.poisson(out_mean)) + 1,
            "max_tokens": max_tokens, "temperature": temp, "status": 200,
        })
    return rows


def build_tiny_world(seed: int = 0, *, proxy_pool: bool = False
                     ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(events, accounts, releases, labels)`` frames.

    ``proxy_pool``: also add the operation's quiet accounts (``quiet-*``: a handful of
    requests each, mostly ordinary chat with a few of the operation's template prompts,
    same exits and client) and honest customers of the same proxy pool (``resold-*``:
    ordinary chat through the operation's exits and client): what linking must raise
    and what it must leave alone.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    accts: list[dict] = []
    labels: list[dict] = []

    def account(aid: str, created: dt.datetime, tier: str, label: str, persona: str,
                campaign: str | None = None) -> None:
        accts.append({"account_id": aid, "created_at": created, "email_domain": "example.com",
                      "payment_fingerprint": f"pf-{aid}", "country": "US", "org_id": None,
                      "tier": tier})
        labels.append({"account_id": aid, "label": label, "campaign": campaign,
                       "actor": "op-x" if campaign else None, "persona": persona})

    browser = "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15"
    # enough ordinary customers that the operation's template is a minority's (< 20% of
    # accounts, the graph's cap for "too common to tie anyone"), as on any real provider
    for i in range(140):
        aid = f"human-{i:03d}"
        account(aid, START - dt.timedelta(days=int(rng.integers(30, 400))), "free", "benign", "casual")
        chat = CHAT + [f"question {j} about my garden, roses variety {rng.integers(99)}" for j in range(3)]
        rows += _rows(rng, aid, int(rng.integers(8, 40)), prompts=chat, hours=(8, 23), ua=browser,
                      max_tokens=None, temp=0.7, out_mean=250, ip=f"203.0.113.{i}")
    account("app-000", START - dt.timedelta(days=300), "scale", "benign", "app_backend")
    rows += _rows(rng, "app-000", 1500, prompts=CHAT + PROBLEMS[:3], hours=(0, 24),
                  ua="OpenAI/Python 1.40.0", max_tokens=1024, temp=0.7, out_mean=300,
                  system="You are ShopBot, the assistant of an online store.", ip="192.0.2.10")
    account("batch-000", START - dt.timedelta(days=200), "enterprise", "benign", "enterprise_batch")
    rows += _rows(rng, "batch-000", 800, prompts=[BATCH_TEMPLATE], hours=(1, 5),
                  ua="python-requests/2.32", max_tokens=256, temp=0.0, out_mean=60, ip="192.0.2.20")
    for i in range(2):
        aid = f"eval-{i}"
        account(aid, START - dt.timedelta(days=100), "build", "benign", "benchmark_evaluator")
        rows += _rows(rng, aid, 300, prompts=BENCH, hours=(0, 24), ua="python-httpx/0.27",
                      max_tokens=512, temp=0.0, out_mean=200, ip=f"192.0.2.3{i}")
    burst = START - dt.timedelta(hours=3)
    for i in range(20):
        aid = f"hydra-{i:03d}"
        account(aid, burst + dt.timedelta(seconds=30 * i), "free", "distillation", "attacker", "camp-A")
        tmpl = [COT_TEMPLATE] if i % 2 else [COT_TEMPLATE, GRADE_TEMPLATE]
        rows += _rows(rng, aid, int(rng.integers(150, 400)), prompts=tmpl, hours=(0, 24),
                      ua="python-requests/2.31", max_tokens=8192, temp=0.8, out_mean=1500,
                      ip=f"100.64.0.{i % 5}", new_model_share=0.6)
    if proxy_pool:
        for i in range(6):
            aid = f"quiet-{i:03d}"
            account(aid, START - dt.timedelta(days=60 + i), "free", "distillation",
                    "low_and_slow", "camp-A")
            kw = dict(hours=(8, 23), ua="python-requests/2.31", max_tokens=None, temp=0.7,
                      out_mean=250, ip=f"100.64.0.{i % 5}")
            rows += _rows(rng, aid, 12, prompts=[COT_TEMPLATE], **kw)  # type: ignore[arg-type]
            rows += _rows(rng, aid, 4, prompts=CHAT, **kw)  # type: ignore[arg-type]
        for i in range(6):
            aid = f"resold-{i:03d}"
            account(aid, START - dt.timedelta(days=int(rng.integers(30, 400))), "free", "benign",
                    "resold_customer")
            rows += _rows(rng, aid, int(rng.integers(10, 30)), prompts=CHAT, hours=(8, 23),
                          ua="python-requests/2.31", max_tokens=None, temp=0.7, out_mean=250,
                          ip=f"100.64.0.{i % 5}")
    ev = pl.DataFrame(rows, infer_schema_length=None).sort("ts").with_row_index("i")
    ev = ev.with_columns((pl.lit("e") + pl.col("i").cast(pl.String).str.zfill(7)).alias("event_id")
                         ).drop("i").with_columns(
        pl.col("ts").dt.cast_time_unit("us"), pl.col("n_messages").cast(pl.Int32),
        pl.col("n_tools").cast(pl.Int32), pl.col("status").cast(pl.Int32),
        pl.col("max_tokens").cast(pl.Int64), pl.col("asn").cast(pl.Int64))
    acc = pl.DataFrame(accts, infer_schema_length=None).with_columns(pl.col("created_at").dt.cast_time_unit("us"),
                                           pl.col("org_id").cast(pl.String))
    rel = pl.DataFrame({"model": ["m-2"], "released_at": [RELEASE]}).with_columns(
        pl.col("released_at").dt.cast_time_unit("us"))
    return ev, acc, rel, pl.DataFrame(labels, infer_schema_length=None)


def write_tiny_world(path: Path, seed: int = 0, *, proxy_pool: bool = False) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    ev, acc, rel, lab = build_tiny_world(seed, proxy_pool=proxy_pool)
    ev.write_parquet(path / "events.parquet")
    acc.write_parquet(path / "accounts.parquet")
    rel.write_parquet(path / "releases.parquet")
    lab.write_parquet(path / "labels.parquet")
    return path
