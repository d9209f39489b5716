"""The traffic-log contract (``shared/contract/traffic-logs.md``) as Arrow schemas.

This module is the single source of truth for column names, types and nullability. The
simulator writes these schemas, ingest validates against them, and every later stage can
rely on the canonical types (timestamps are ``timestamp[us, UTC]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One table of a dataset: its file stem, columns and whether it must exist."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: str | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.nullable)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


EVENTS = Table(
    "events",
    required=True,
    key="event_id",
    columns=(
        Column("event_id", pa.string(), False, "unique within the dataset"),
        Column("ts", TS, False, "when the request arrived (UTC)"),
        Column("account_id", pa.string(), False, "the customer account billed"),
        Column("api_key_id", pa.string(), True),
        Column("model", pa.string(), False),
        Column("client_ip", pa.string(), True, "IPv4 or IPv6"),
        Column("user_agent", pa.string(), True),
        Column("tls_fingerprint", pa.string(), True, "JA4 or JA3"),
        Column("asn", pa.int64(), True),
        Column("system_prompt", pa.string(), True),
        Column("prompt", pa.string(), True, "final user turn; null where not retained"),
        Column("n_messages", pa.int32(), True),
        Column("n_tools", pa.int32(), True),
        Column("input_tokens", pa.int64(), False),
        Column("output_tokens", pa.int64(), False),
        Column("max_tokens", pa.int64(), True),
        Column("temperature", pa.float64(), True),
        Column("status", pa.int32(), True),
    ),
)

ACCOUNTS = Table(
    "accounts",
    required=True,
    key="account_id",
    columns=(
        Column("account_id", pa.string(), False),
        Column("created_at", TS, False, "sign-up time (UTC)"),
        Column("email_domain", pa.string(), True),
        Column("payment_fingerprint", pa.string(), True),
        Column("country", pa.string(), True, "ISO 3166-1 alpha-2"),
        Column("org_id", pa.string(), True),
        Column("tier", pa.string(), True),
    ),
)

RELEASES = Table(
    "releases",
    required=False,
    key="model",
    columns=(
        Column("model", pa.string(), False),
        Column("released_at", TS, False),
    ),
)

LABELS = Table(
    "labels",
    required=False,
    key="account_id",
    columns=(
        Column("account_id", pa.string(), False),
        Column("label", pa.string(), False, "benign or distillation"),
        Column("campaign", pa.string(), True),
        Column("actor", pa.string(), True),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (EVENTS, ACCOUNTS, RELEASES, LABELS)}

#: File suffixes accepted for every table, in order of preference.
SUFFIXES: tuple[str, ...] = (".parquet", ".jsonl", ".jsonl.gz")

LABEL_VALUES = ("benign", "distillation")
