"""The validation report: what was read, what was rejected and why.

A :class:`ValidationReport` is a mutable accumulator that readers update as they stream
batches, so one object can summarise a multi-million-row run without keeping the rows.
Every rejected row is counted under a reason and the first few of each reason are kept
as examples that name the file, row (or line and byte offset) and field.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

#: Why a row was rejected. Stable strings: they appear in reports and quarantine files.
REASONS: dict[str, str] = {
    "malformed_json": "line is not valid JSON",
    "not_an_object": "line is JSON but not an object",
    "wrong_type": "value has the wrong type",
    "bad_timestamp": "timestamp cannot be parsed",
    "null_required": "null or missing value in a non-nullable column",
    "unknown_account": "event references an account missing from accounts",
    "duplicate_key": "key already seen earlier in the table (first occurrence kept)",
    "bad_value": "value outside the allowed set",
}

#: Examples kept per (table, reason).
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Issue:
    """One rejected row. ``row`` is 1-based: the line number for JSONL, the record
    number for Parquet. ``offset`` is the byte offset of the line (in the decompressed
    stream for ``.jsonl.gz``)."""

    table: str
    file: str
    row: int | None
    offset: int | None
    field: str | None
    reason: str
    message: str

    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


@dataclass
class TableCounts:
    rows_read: int = 0
    rows_ok: int = 0
    rows_bad: int = 0


@dataclass
class ValidationReport:
    """Accumulates counts, bad-row reasons, examples and summary statistics."""

    tables: dict[str, TableCounts] = field(default_factory=dict)
    bad_rows: dict[str, Counter[str]] = field(default_factory=dict)
    examples: list[Issue] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    quarantine_files: list[str] = field(default_factory=list)
    strict: bool = False

    # -- updating ---------------------------------------------------------------------
    def counts(self, table: str) -> TableCounts:
        return self.tables.setdefault(table, TableCounts())

    def add_rows(self, table: str, *, read: int, ok: int) -> None:
        c = self.counts(table)
        c.rows_read += read
        c.rows_ok += ok
        c.rows_bad += read - ok

    def add_bad(self, table: str, reason: str, n: int, examples: list[Issue]) -> None:
        """Count ``n`` rejected rows of ``reason``; keep up to MAX_EXAMPLES examples."""
        if n <= 0:
            return
        counter = self.bad_rows.setdefault(table, Counter())
        have = min(counter[reason], MAX_EXAMPLES)
        counter[reason] += n
        self.examples.extend(examples[: max(0, MAX_EXAMPLES - have)])

    # -- reading ----------------------------------------------------------------------
    @property
    def n_bad(self) -> int:
        return sum(sum(c.values()) for c in self.bad_rows.values())

    @property
    def ok(self) -> bool:
        """No fatal problem, and no bad row if the run was strict."""
        return not self.fatal and not (self.strict and self.n_bad > 0)

    def bad_by_reason(self) -> dict[str, int]:
        """Bad-row counts keyed ``"table/reason"``."""
        return {f"{t}/{r}": n for t, c in self.bad_rows.items() for r, n in sorted(c.items())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "strict": self.strict,
            "files": dict(self.files),
            "tables": {t: asdict(c) for t, c in self.tables.items()},
            "bad_rows": {t: dict(c) for t, c in self.bad_rows.items()},
            "examples": [asdict(e) for e in self.examples],
            "fatal": list(self.fatal),
            "stats": dict(self.stats),
            "quarantine_files": list(self.quarantine_files),
        }
