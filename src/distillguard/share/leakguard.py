"""Outbound leak guard: refuse any body that carries a raw value from the lab's own data.

The last line of defence, independent of how the body was built: it looks at the bytes
that are about to leave, not at the objects publish meant to build. It refuses a body
that contains

* an account id, API key id, org id, e-mail domain or payment fingerprint of the lab's
  accounts (as a token anywhere in the text) -- or its *unkeyed* SHA-256 / MD5 hex, which
  anyone could reverse by hashing guesses;
* an IP address of the lab's traffic outside the policy's ``raw_infrastructure``, or a
  network (``a.b.c.0/24``) that contains one;
* a template family id or label (unkeyed hashes of template text);
* a run of ``NGRAM_WORDS`` consecutive words (or ``CJK_CHARS`` characters of unspaced
  text) that occurs in the lab's prompt text.

Everything is set-based: the body's tokens (a few thousand) are joined against the
sensitive values (built once per dataset, one polars column), IPv4 networks are checked
by binary search over the sorted sensitive addresses, and prompt n-grams by one
Aho-Corasick pass (``str.contains_any``) over the prompt column.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import polars as pl

from distillguard.share._ip import allowed_frame, ip_block_expr, ipv4_int_expr
from distillguard.share.errors import LeakError
from distillguard.share.policy import Policy

NGRAM_WORDS = 6
CJK_CHARS = 12
_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@/+\-]*[A-Za-z0-9_]|[A-Za-z0-9]")
_SUBSPLIT = re.compile(r"[@/=:]")
_V4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?$")
_ACCOUNT_COLS = ("account_id", "email_domain", "payment_fingerprint", "org_id")
_HASHED_KINDS = frozenset({"account_id", "email_domain", "payment_fingerprint", "api_key_id",
                           "org_id"})


@dataclass(frozen=True)
class Finding:
    """One leaked value: its kind and a masked excerpt (the guard never echoes a value)."""

    kind: str
    excerpt: str


def _mask(value: str) -> str:
    return value[:3] + "..." + (value[-2:] if len(value) > 8 else "")


def _strings(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.append(str(k))
            _strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _strings(v, out)
    elif obj is not None and not isinstance(obj, bool):
        out.append(str(obj))


class LeakGuard:
    """Sensitive values of one lab; :meth:`scan` / :meth:`enforce` check outbound bodies."""

    def __init__(self, values: pl.DataFrame, v4: npt.NDArray[np.int64], v6: pl.Series,
                 prompts: pl.Series | None) -> None:
        self._values = values.unique("value")  # value (lower-cased), kind
        self._v4 = np.sort(v4)
        self._v6 = v6.unique()
        # Prompt text with whitespace runs collapsed, so n-grams match across line breaks.
        self._prompts = (prompts.str.replace_all(r"\s+", " ") if prompts is not None
                         else None)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_frames(cls, accounts: pl.DataFrame, events: pl.DataFrame, policy: Policy,
                    prompts: pl.Series | None = None) -> LeakGuard:
        """``accounts`` (canonical), ``events`` (canonical or stage-1: account_id,
        api_key_id, client_ip, asn, template_id are used where present), ``prompts``
        (prompt and system prompt text, optional)."""
        parts: list[pl.DataFrame] = []

        def add(series: pl.Series, kind: str) -> None:
            s = series.cast(pl.String).str.strip_chars().str.to_lowercase().drop_nulls().unique()
            s = s.filter(s.str.len_chars() >= 3)
            parts.append(pl.DataFrame({"value": s, "kind": pl.repeat(kind, s.len(), eager=True)}))
            if kind in _HASHED_KINDS:
                raw = series.cast(pl.String).drop_nulls().unique().to_list()
                for algo in ("sha256", "md5", "sha1"):
                    hx = [hashlib.new(algo, v.encode()).hexdigest() for v in raw]
                    parts.append(pl.DataFrame({"value": hx,
                                               "kind": [f"unkeyed-{algo}({kind})"] * len(hx)},
                                              schema={"value": pl.String, "kind": pl.String}))

        for col in _ACCOUNT_COLS:
            if col in accounts.columns:
                add(accounts.get_column(col), col)
        for col in ("account_id", "api_key_id"):
            if col in events.columns:
                add(events.get_column(col), col)
        if "template_id" in events.columns or "tpl_head" in events.columns:
            cols = [c for c in ("template_id", "tpl_head", "tpl_tail") if c in events.columns]
            ids = pl.concat([events.get_column(c).drop_nulls() for c in cols]).unique()
            add(ids.cast(pl.String), "template_id")
            # display labels (T + low 32 bits in hex) of the resolved families only: raw
            # skeleton ids are one per distinct prompt head, labels are never built for them
            fams = (events.get_column("template_id").drop_nulls().unique().to_list()
                    if "template_id" in events.columns else [])
            add(pl.Series([f"T{int(t) & 0xFFFFFFFF:08x}" for t in fams], dtype=pl.String),
                "template_label")
        v4 = np.zeros(0, dtype=np.int64)
        v6 = pl.Series([], dtype=pl.String)
        if "client_ip" in events.columns:
            ips = events.select("client_ip", pl.col("asn") if "asn" in events.columns
                                else pl.lit(None, pl.Int64).alias("asn")).drop_nulls("client_ip")
            allowed = allowed_frame(ips, policy)
            bad = allowed.filter(~pl.col("allowed")).select(
                "client_ip", ipv4_int_expr("client_ip").alias("v4"),
                ip_block_expr("client_ip").alias("block"))
            v4 = bad.get_column("v4").drop_nulls().to_numpy().astype(np.int64)
            six = bad.filter(pl.col("v4").is_null())
            add(six.get_column("client_ip"), "client_ip")
            v6 = six.get_column("block").drop_nulls()
        values = pl.concat(parts) if parts else pl.DataFrame(
            schema={"value": pl.String, "kind": pl.String})
        return cls(values, v4, v6, prompts)

    @classmethod
    def from_dataset(cls, dataset_dir: str | Path, policy: Policy,
                     events: pl.DataFrame | None = None) -> LeakGuard:
        """Build from a dataset directory (reads accounts, and events' identifiers and
        prompt text). Pass the stage-1 ``events`` to also protect template ids."""
        from distillguard.ingest import open_dataset, read_table

        ds = open_dataset(dataset_dir)
        accounts = pl.from_arrow(read_table(ds, "accounts"))
        assert isinstance(accounts, pl.DataFrame)
        raw = _read_event_columns(ds, ["account_id", "api_key_id", "client_ip", "asn",
                                       "prompt", "system_prompt"])
        ev = raw.drop([c for c in ("prompt", "system_prompt") if c in raw.columns])
        if events is not None and "template_id" in events.columns:
            ev = pl.concat([ev, events.select("template_id")], how="diagonal_relaxed")
        prompts = pl.concat([raw.get_column(c).drop_nulls() for c in ("prompt", "system_prompt")
                             if c in raw.columns]) if {"prompt", "system_prompt"} & set(raw.columns) else None
        return cls.from_frames(accounts, ev, policy, prompts)

    # -- checking -----------------------------------------------------------------------
    def scan(self, body: bytes | str | dict[str, Any] | list[Any]) -> list[Finding]:
        """Every raw sensitive value in ``body`` (empty list: safe to send)."""
        if isinstance(body, dict | list):
            doc: Any = body
        else:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            try:
                doc = orjson.loads(text)
            except orjson.JSONDecodeError:
                doc = text
        strings: list[str] = []
        _strings(doc, strings)
        findings: list[Finding] = []
        tokens = self._tokens(strings)
        findings += self._token_findings(tokens)
        findings += self._ip_findings(tokens)
        findings += self._prompt_findings(strings)
        return findings

    def enforce(self, body: bytes | str | dict[str, Any] | list[Any]) -> None:
        """Raise :class:`LeakError` if ``body`` holds any raw sensitive value."""
        findings = self.scan(body)
        if findings:
            kinds = sorted({f.kind for f in findings})
            raise LeakError(f"leak guard refused the outbound body: {len(findings)} raw "
                            f"value(s) of kind {', '.join(kinds)}", tuple(findings))

    @staticmethod
    def _tokens(strings: Iterable[str]) -> list[str]:
        out: set[str] = set()
        for s in strings:
            out.add(s.strip().lower())
            for tok in _TOKEN.findall(s):
                t = tok.lower()
                out.add(t)
                if _SUBSPLIT.search(t):
                    out.update(p for p in _SUBSPLIT.split(t) if p)
        return [t for t in out if len(t) >= 3]

    def _token_findings(self, tokens: list[str]) -> list[Finding]:
        if not tokens or self._values.height == 0:
            return []
        hits = pl.DataFrame({"value": tokens}).join(self._values, on="value", how="inner")
        return [Finding(k, _mask(v)) for v, k in hits.select("value", "kind").iter_rows()]

    def _ip_findings(self, tokens: list[str]) -> list[Finding]:
        out: list[Finding] = []
        for t in tokens:
            m = _V4.match(t)
            if m and self._v4.size:
                octs = [int(m.group(i)) for i in range(1, 5)]
                if any(o > 255 for o in octs):
                    continue
                val = (octs[0] << 24) | (octs[1] << 16) | (octs[2] << 8) | octs[3]
                prefix = int(m.group(5)) if m.group(5) else 32
                span = 1 << (32 - min(32, prefix))
                lo = val & ~(span - 1)
                i = np.searchsorted(self._v4, lo, side="left")
                j = np.searchsorted(self._v4, lo + span - 1, side="right")
                if j > i:
                    out.append(Finding("client_ip" if prefix == 32 else "client_ip_block",
                                       _mask(t)))
            elif ":" in t and "/" in t and self._v6.len():
                s = pl.DataFrame({"client_ip": [t.split("/")[0]]}).select(
                    ip_block_expr("client_ip")).to_series()
                if s.is_in(self._v6.implode()).any():
                    out.append(Finding("client_ip_block", _mask(t)))
        return out

    def _prompt_findings(self, strings: list[str]) -> list[Finding]:
        if self._prompts is None or self._prompts.len() == 0:
            return []
        grams: set[str] = set()
        for s in strings:
            words = s.split()
            if len(words) >= NGRAM_WORDS:
                grams.update(" ".join(words[i:i + NGRAM_WORDS])
                             for i in range(len(words) - NGRAM_WORDS + 1))
            elif len(s) >= CJK_CHARS and any(ord(c) > 0x2E80 for c in s):
                grams.update(s[i:i + CJK_CHARS] for i in range(0, len(s) - CJK_CHARS + 1,
                                                               CJK_CHARS // 2))
        if not grams:
            return []
        # Prompt text may have other whitespace between words; normalise both sides.
        gl = sorted(grams)
        norm = self._prompts
        hit = norm.str.contains_any(gl, ascii_case_insensitive=True)
        if not hit.any():
            return []
        # Which n-grams (for the report): test each against the matching prompts only.
        matched = norm.filter(hit)
        found = [g for g in gl if matched.str.contains(g, literal=True).any()
                 or matched.str.to_lowercase().str.contains(g.lower(), literal=True).any()]
        return [Finding("prompt_text", _mask(g)) for g in found[:20]] or [
            Finding("prompt_text", "(n-gram)")]


def _read_event_columns(ds: Any, columns: list[str]) -> pl.DataFrame:
    from distillguard.ingest import iter_event_batches

    frames = []
    for batch in iter_event_batches(ds, columns=columns):
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        frames.append(df.select([c for c in columns if c in df.columns]))
    return pl.concat(frames) if frames else pl.DataFrame()
