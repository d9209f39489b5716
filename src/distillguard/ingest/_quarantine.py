"""Quarantine files: every rejected row, with where it came from and why.

One JSON object per line in ``<dir>/<table>.quarantine.jsonl``::

    {"table": "events", "file": ".../events.jsonl", "row": 17, "offset": 2310,
     "field": "input_tokens", "reason": "wrong_type", "message": "...", "record": ...}

``record`` is the original line (JSONL, as text) or the row's values (Parquet).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import orjson

from distillguard.ingest.report import Issue


def _default(o: Any) -> Any:
    return str(o)


class QuarantineWriter:
    """Appends rejected rows for one table; the file is created on the first row."""

    def __init__(self, directory: Path, table: str) -> None:
        self.path = Path(directory) / f"{table}.quarantine.jsonl"
        self._fh: IO[bytes] | None = None
        self.n = 0
        # a quarantine file left by an earlier run would describe rows this run accepted
        self.path.unlink(missing_ok=True)

    def write(self, issues: list[Issue], records: list[Any]) -> None:
        if not issues:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        lines = []
        for issue, rec in zip(issues, records, strict=True):
            d = {
                "table": issue.table, "file": issue.file, "row": issue.row,
                "offset": issue.offset, "field": issue.field, "reason": issue.reason,
                "message": issue.message, "record": rec,
            }
            lines.append(orjson.dumps(d, default=_default,
                                      option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC))
        self._fh.write(b"\n".join(lines) + b"\n")
        self.n += len(issues)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
