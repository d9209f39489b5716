"""A tiny, fast, dependency-free generator of contract-shaped datasets.

Not the simulator (``distillguard.sim`` models labs, campaigns and resellers): this only
produces *well-formed* rows with plausible value distributions, vectorised with numpy and
polars, so tests, the ``validate`` demo and the ingest benchmark can make 1M events in a
couple of seconds without depending on the simulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from distillguard.ingest.schema import ACCOUNTS, EVENTS, Table

FileFormat = Literal["parquet", "jsonl", "jsonl.gz"]

_MODELS = ["atlas-3-large", "atlas-3-mini", "atlas-4", "atlas-4-reasoning"]
_AGENTS = ["python-sdk/1.40.0", "node-sdk/4.2.1", "curl/8.5.0", "httpx/0.28.1", None]
_PROMPTS = [
    "Explain step by step how to solve problem {}.",
    "Write a Python function that returns the {}th prime.",
    "Summarise the following article in three sentences: #{}",
    "Translate sentence {} into French and German.",
    "You are a helpful assistant. Answer question {} with full reasoning.",
]
_START_US = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z


def _frames(n_events: int, n_accounts: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    acc_idx = np.arange(n_accounts)
    accounts = pl.DataFrame({
        "account_id": [f"acct-{i:07d}" for i in acc_idx],
        "created_at": _START_US - rng.integers(0, 365 * 86_400_000_000, n_accounts),
        "email_domain": rng.choice(["gmail.com", "proton.me", "corp.example", "uni.edu"],
                                   n_accounts),
        "payment_fingerprint": [f"pf-{i:06x}" for i in rng.integers(0, 1 << 24, n_accounts)],
        "country": rng.choice(["US", "DE", "SG", "BR", "IN", "GB"], n_accounts),
        "org_id": None,
        "tier": rng.choice(["free", "build", "scale", "enterprise"], n_accounts),
    }).with_columns(pl.col("created_at").cast(pl.Datetime("us", "UTC")),
                    pl.col("org_id").cast(pl.String))

    ts = np.sort(_START_US + rng.integers(0, 30 * 86_400_000_000, n_events))
    acc = rng.zipf(1.3, n_events) % n_accounts
    ip = rng.integers(0, 50_000, n_events)
    tmpl = rng.integers(0, len(_PROMPTS), n_events)
    has_prompt = rng.random(n_events) < 0.9
    events = pl.DataFrame({
        "i": np.arange(n_events),
        "ts": ts,
        "acc": acc,
        "ip": ip,
        "tmpl": tmpl,
        "arg": rng.integers(0, 1_000_000, n_events),
        "has_prompt": has_prompt,
        "model": rng.choice(_MODELS, n_events),
        "ua": rng.integers(0, len(_AGENTS), n_events),
        "input_tokens": rng.integers(5, 4000, n_events),
        "output_tokens": rng.integers(1, 2000, n_events),
        "temperature": np.round(rng.random(n_events), 2),
    })
    prompt = pl.lit(None, dtype=pl.String)
    for k, t in enumerate(_PROMPTS):
        head, tail = t.split("{}")
        prompt = pl.when(pl.col("tmpl") == k).then(
            pl.concat_str(pl.lit(head), pl.col("arg").cast(pl.String), pl.lit(tail))
        ).otherwise(prompt)
    events = events.select(
        event_id=pl.lit("evt-") + pl.col("i").cast(pl.String).str.zfill(9),
        ts=pl.col("ts").cast(pl.Datetime("us", "UTC")),
        account_id=pl.lit("acct-") + pl.col("acc").cast(pl.String).str.zfill(7),
        api_key_id=pl.lit("key-") + pl.col("acc").cast(pl.String),
        model=pl.col("model"),
        client_ip=pl.concat_str(pl.lit("10."), (pl.col("ip") // 65536).cast(pl.String),
                                pl.lit("."), ((pl.col("ip") // 256) % 256).cast(pl.String),
                                pl.lit("."), (pl.col("ip") % 256).cast(pl.String)),
        user_agent=pl.col("ua").replace_strict(list(range(len(_AGENTS))), _AGENTS,
                                               return_dtype=pl.String),
        tls_fingerprint=pl.lit("t13d1516h2_8daaf6152771_02713d6af862"),
        asn=(pl.col("ip") % 7 + 64_500).cast(pl.Int64),
        system_prompt=pl.lit(None, dtype=pl.String),
        prompt=pl.when(pl.col("has_prompt")).then(prompt),
        n_messages=(pl.col("arg") % 5 + 1).cast(pl.Int32),
        n_tools=pl.lit(0, dtype=pl.Int32),
        input_tokens=pl.col("input_tokens"),
        output_tokens=pl.col("output_tokens"),
        max_tokens=pl.lit(4096, dtype=pl.Int64),
        temperature=pl.col("temperature"),
        status=pl.lit(200, dtype=pl.Int32),
    )
    return events, accounts


def _to_arrow_types(df: pl.DataFrame, spec: Table) -> pl.DataFrame:
    return df.select([c.name for c in spec.columns])


def write_frame(df: pl.DataFrame, path_stem: Path, fmt: FileFormat) -> Path:
    """Write ``df`` as ``<stem>.parquet|.jsonl|.jsonl.gz``; timestamps become RFC 3339
    strings with ``Z`` in JSONL, as the contract allows."""
    path = path_stem.with_name(f"{path_stem.name}.{fmt}")
    if fmt == "parquet":
        df.write_parquet(path, compression="zstd", statistics=False)
        return path
    ts_cols = [n for n, t in df.schema.items() if isinstance(t, pl.Datetime)]
    df = df.with_columns(pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ") for c in ts_cols)
    df.write_ndjson(path, compression="gzip" if fmt == "jsonl.gz" else "uncompressed")
    return path


def write_synthetic_dataset(
    directory: str | Path,
    n_events: int = 1_000,
    n_accounts: int | None = None,
    fmt: FileFormat = "parquet",
    seed: int = 0,
) -> Path:
    """Write ``events`` and ``accounts`` (no releases, no labels) into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    n_acc = n_accounts if n_accounts is not None else max(10, n_events // 100)
    events, accounts = _frames(n_events, n_acc, seed)
    write_frame(_to_arrow_types(accounts, ACCOUNTS), out / "accounts", fmt)
    write_frame(_to_arrow_types(events, EVENTS), out / "events", fmt)
    return out
