"""Streaming, validating readers that yield canonical Arrow batches of valid rows.

Row validity never depends on which ``columns`` a caller projects: besides the projected
columns, readers always read the non-nullable columns and every column whose stored type
could fail to convert (e.g. a string column where the contract wants an int). So the scan
stage that reads only prompt text and the stage that reads everything see the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.ingest._convert import cast_is_infallible, convert, is_null_np
from distillguard.ingest._dedupe import SeenKeys, hash_keys
from distillguard.ingest._errors import ContractError, StrictModeError
from distillguard.ingest._quarantine import QuarantineWriter
from distillguard.ingest._sources import (
    Locator,
    Progress,
    RawChunk,
    iter_jsonl,
    iter_parquet,
    parquet_schema,
)
from distillguard.ingest.dataset import DataFile, Dataset
from distillguard.ingest.report import MAX_EXAMPLES, REASONS, Issue, ValidationReport
from distillguard.ingest.schema import LABEL_VALUES, TABLES, Table

_CODES = {r: i + 1 for i, r in enumerate(REASONS)}
_NAMES = {i + 1: r for i, r in enumerate(REASONS)}


def progress_total(f: DataFile) -> int:
    """The unit total a reader's ``progress`` callback counts towards: rows for Parquet,
    on-disk bytes for JSONL(.gz)."""
    if f.format == "parquet":
        try:
            return sum(int(pq.ParquetFile(p).metadata.num_rows) for p in f.parts)
        except Exception:  # unreadable: the reader itself will raise a clear error
            return 0
    return f.size


def _resolve_columns(spec: Table, columns: Sequence[str] | None) -> list[str]:
    names = [c.name for c in spec.columns]
    if columns is None:
        return names
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise ValueError(f"unknown {spec.name} column(s) {unknown}; the contract has {names}")
    wanted = set(columns)
    return [n for n in names if n in wanted]  # canonical order


def _message(reason: str, field: str | None, value: Any, spec: Table) -> str:
    if reason == "wrong_type" and field:
        return f"cannot convert {value!r} to {spec.column(field).type}"
    if reason == "bad_timestamp":
        return f"cannot parse {value!r} as an RFC 3339 timestamp"
    if reason == "null_required":
        return "null or missing value in a non-nullable column"
    if reason == "unknown_account":
        return f"account {value!r} is not in accounts"
    if reason == "duplicate_key":
        return f"{field} {value!r} already seen (first occurrence kept)"
    if reason == "bad_value":
        return f"{value!r} is not one of {', '.join(LABEL_VALUES)}"
    return REASONS.get(reason, reason)


class _TableReader:
    def __init__(self, f: DataFile, spec: Table, out_cols: list[str], report: ValidationReport,
                 quarantine: Path | None, strict: bool, known_accounts: pa.Array | None) -> None:
        self.f, self.spec, self.out_cols = f, spec, out_cols
        self.report, self.strict = report, strict
        self.known = known_accounts
        self.seen = SeenKeys() if spec.key else None
        self.qw = QuarantineWriter(quarantine, spec.name) if quarantine is not None else None
        self.out_schema = pa.schema([spec.schema.field(c) for c in out_cols])

    def _reject(self, reason: str, field: str | None, rows: list[int | None],
                offs: list[int | None], values: list[Any], recs: list[Any], n_total: int) -> None:
        issues = [Issue(self.spec.name, str(self.f.path), r, o, field, reason,
                        _message(reason, field, v, self.spec))
                  for r, o, v in zip(rows, offs, values, strict=True)]
        if self.strict and issues:
            first = issues[0]
            raise StrictModeError(f"{first.reason}: {first.message} (strict mode)",
                                  path=first.file, row=first.row, offset=first.offset,
                                  field=first.field)
        self.report.add_bad(self.spec.name, reason, n_total, issues[:MAX_EXAMPLES])
        if self.qw is not None:
            self.qw.write(issues, recs)

    def process(self, chunk: RawChunk) -> pa.Table:
        spec = self.spec
        for r in chunk.rejected:
            issue = Issue(spec.name, str(self.f.path), r.row, r.offset, r.field, r.reason,
                          r.message)
            if self.strict:
                raise StrictModeError(f"{r.reason}: {r.message} (strict mode)",
                                      path=issue.file, row=r.row, offset=r.offset, field=r.field)
            self.report.add_bad(spec.name, r.reason, 1, [issue])
            if self.qw is not None:
                self.qw.write([issue], [r.record])
        self.report.add_rows(spec.name, read=len(chunk.rejected), ok=0)
        outs = [self._process_part(t, loc) for t, loc in chunk.parts]
        if len(outs) == 1:
            return outs[0]
        return pa.concat_tables(outs) if outs else self.out_schema.empty_table()

    def _process_part(self, t: pa.Table, locate: Locator) -> pa.Table:
        spec = self.spec
        n = t.num_rows
        reason = np.zeros(n, dtype=np.int8)
        field = np.full(n, -1, dtype=np.int16)
        conv: dict[str, pa.ChunkedArray] = {}
        for i, c in enumerate(spec.columns):
            if c.name not in t.column_names:
                if c.name in self.out_cols or not c.nullable:
                    conv[c.name] = pa.chunked_array([pa.nulls(n, c.type)], type=c.type)
                if not c.nullable:  # absent from every row of this part
                    m = reason == 0
                    reason[m], field[m] = _CODES["null_required"], i
                continue
            arr, fail = convert(t.column(c.name), c.type)
            if fail is not None:
                code = _CODES["bad_timestamp" if pa.types.is_timestamp(c.type) else "wrong_type"]
                m = fail & (reason == 0)
                reason[m], field[m] = code, i
            if not c.nullable:
                nulls = is_null_np(arr)
                if fail is not None:
                    nulls &= ~fail
                m = nulls & (reason == 0)
                reason[m], field[m] = _CODES["null_required"], i
            conv[c.name] = arr

        if spec.name == "labels" and "label" in conv:
            ok = np.asarray(pc.is_in(conv["label"], value_set=pa.array(LABEL_VALUES))
                            .to_numpy(zero_copy_only=False), dtype=bool)
            m = ~ok & (reason == 0)
            reason[m], field[m] = _CODES["bad_value"], self._idx("label")
        if self.known is not None and spec.name == "events" and n:
            ok = np.asarray(pc.is_in(conv["account_id"], value_set=self.known)
                            .to_numpy(zero_copy_only=False), dtype=bool)
            m = ~ok & (reason == 0)
            reason[m], field[m] = _CODES["unknown_account"], self._idx("account_id")
        if self.seen is not None and spec.key is not None and n:
            valid = reason == 0
            h = hash_keys(conv[spec.key])
            dup = np.zeros(n, dtype=bool)
            dup[valid] = self.seen.check_and_add(h[valid])
            reason[dup], field[dup] = _CODES["duplicate_key"], self._idx(spec.key)

        valid = reason == 0
        n_ok = int(valid.sum())
        self.report.add_rows(spec.name, read=n, ok=n_ok)
        if n_ok < n:
            self._report_bad(t, locate, reason, field)

        cols = [conv[c] for c in self.out_cols]
        out = pa.Table.from_arrays(cols, schema=self.out_schema) if cols else pa.table({})
        if n_ok < n:
            out = out.filter(pa.array(valid))
        return out

    def _idx(self, name: str) -> int:
        return next(i for i, c in enumerate(self.spec.columns) if c.name == name)

    def _report_bad(self, t: pa.Table, locate: Locator, reason: np.ndarray,
                    field: np.ndarray) -> None:
        bad = np.flatnonzero(reason)
        pairs = np.unique(np.stack([reason[bad].astype(np.int32), field[bad].astype(np.int32)]),
                          axis=1)
        for code, fi in pairs.T:
            idx = bad[(reason[bad] == code) & (field[bad] == fi)]
            located = idx if (self.qw is not None or self.strict) else idx[:MAX_EXAMPLES]
            fname = self.spec.columns[fi].name if fi >= 0 else None
            rows, offs, recs = locate(located)
            if fname is not None and fname in t.column_names:
                take = pa.array(located, type=pa.int64())
                values = t.column(fname).take(take).to_pylist()
            else:
                values = [None] * len(located)
            self._reject(_NAMES[int(code)], fname, list(rows), offs, values, recs, len(idx))

    def close(self) -> None:
        if self.qw is not None:
            self.qw.close()
            if self.qw.n and str(self.qw.path) not in self.report.quarantine_files:
                self.report.quarantine_files.append(str(self.qw.path))


def iter_table_batches(
    ds: Dataset,
    table: str,
    columns: Sequence[str] | None = None,
    batch_rows: int = 1_000_000,
    report: ValidationReport | None = None,
    quarantine: Path | str | None = None,
    strict: bool = False,
    known_accounts: pa.Array | None = None,
    progress: Progress | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield canonical batches (at most ``batch_rows`` rows) of the valid rows of ``table``.

    Bad rows are counted in ``report``, written to ``<quarantine>/<table>.quarantine.jsonl``
    if ``quarantine`` is a directory, and skipped; with ``strict=True`` the first bad row
    raises :class:`StrictModeError`. An unreadable file raises ``UnreadableInputError``; a
    missing required column raises ``ContractError``. ``known_accounts`` (events only):
    events whose ``account_id`` is not in it are rejected as ``unknown_account``.
    """
    spec = TABLES[table]
    f = ds.file(table)
    out_cols = _resolve_columns(spec, columns)
    report = report if report is not None else ValidationReport()
    if f is None:
        return
    report.files[table] = str(f.path)
    report.counts(table)
    source: Iterator[RawChunk]
    if f.format == "parquet":
        fs = parquet_schema(f)
        missing = [c for c in spec.required_columns if c not in fs.names]
        if missing:
            raise ContractError(f"required column(s) {', '.join(missing)} missing",
                                path=f.path, field=missing[0])
        read = [c.name for c in spec.columns if c.name in fs.names and (
            c.name in out_cols or not c.nullable
            or not cast_is_infallible(fs.field(c.name).type, c.type))]
        source = iter_parquet(f, read, batch_rows, progress)
    else:
        source = iter_jsonl(f, spec, progress)
    reader = _TableReader(f, spec, out_cols, report,
                          Path(quarantine) if quarantine is not None else None, strict,
                          known_accounts)
    # JSONL chunks hold a few 10k rows each: coalesce them so callers see batches of
    # ~batch_rows rows whatever the format (fewer, larger batches = less per-batch overhead).
    pending: list[pa.Table] = []
    n_pending = 0
    try:
        for chunk in source:
            out = reader.process(chunk)
            if out.num_rows == 0:
                continue
            pending.append(out)
            n_pending += out.num_rows
            if n_pending >= batch_rows:
                yield from _emit(pending, batch_rows, final=False)
                n_pending = sum(t.num_rows for t in pending)
        yield from _emit(pending, batch_rows, final=True)
    finally:
        reader.close()


#: Chunks at least this long are yielded as they are instead of being copied together.
_BIG_CHUNK = 65_536


def _emit(pending: list[pa.Table], batch_rows: int, final: bool) -> Iterator[pa.RecordBatch]:
    """Yield full ``batch_rows`` batches from ``pending`` (all of it if ``final``); keep
    the remainder in ``pending``."""
    if not pending:
        return
    table = pa.concat_tables(pending) if len(pending) > 1 else pending[0]
    pending.clear()
    chunk_rows = [len(c) for c in table.column(0).chunks] if table.num_columns else []
    if chunk_rows and min(chunk_rows[:-1] or chunk_rows) >= min(batch_rows, _BIG_CHUNK):
        # Parquet row groups are big already: hand them out as they are, no copy
        yield from table.to_batches(max_chunksize=batch_rows)
        return
    table = table.combine_chunks()
    n_full = table.num_rows if final else (table.num_rows // batch_rows) * batch_rows
    if n_full:
        yield from table.slice(0, n_full).to_batches(max_chunksize=batch_rows)
    if n_full < table.num_rows:
        pending.append(table.slice(n_full))


def iter_event_batches(
    ds: Dataset,
    columns: Sequence[str] | None = None,
    batch_rows: int = 1_000_000,
    report: ValidationReport | None = None,
    quarantine: Path | str | None = None,
    strict: bool = False,
    known_accounts: pa.Array | None = None,
    progress: Progress | None = None,
) -> Iterator[pa.RecordBatch]:
    """:func:`iter_table_batches` for ``events``: canonical batches of valid events."""
    return iter_table_batches(ds, "events", columns=columns, batch_rows=batch_rows,
                              report=report, quarantine=quarantine, strict=strict,
                              known_accounts=known_accounts, progress=progress)


def read_table(
    ds: Dataset,
    table: str,
    columns: Sequence[str] | None = None,
    report: ValidationReport | None = None,
    quarantine: Path | str | None = None,
    strict: bool = False,
    known_accounts: pa.Array | None = None,
) -> pa.Table:
    """A whole (small) table as one canonical ``pa.Table`` of valid rows; an absent
    optional table (releases, labels) is an empty canonical table."""
    spec = TABLES[table]
    out_cols = _resolve_columns(spec, columns)
    schema = pa.schema([spec.schema.field(c) for c in out_cols])
    batches = list(iter_table_batches(ds, table, columns=columns, report=report,
                                      quarantine=quarantine, strict=strict,
                                      known_accounts=known_accounts))
    return pa.Table.from_batches(batches, schema=schema)
