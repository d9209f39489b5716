"""Exception hierarchy.

    DistillGuardError
    ├── IngestError      a dataset file cannot be read or violates the contract
    ├── ConfigError      a detection / sharing / scenario config is invalid (stops the run)
    ├── SignalError      a detection signal failed on an account
    └── ExchangeError    a TAXII/STIX exchange operation failed

Third-party errors are wrapped at the boundary (``raise IngestError(...) from exc``) so
callers only ever need to catch ``DistillGuardError``. Errors carry the context a user
needs to fix the problem: the file and row, the signal and account, the collection.
"""

from __future__ import annotations

from pathlib import Path


class DistillGuardError(Exception):
    """Base class of every error distillguard raises on purpose."""


class ConfigError(DistillGuardError):
    """A configuration file is missing, unparsable or invalid. Never silently defaulted."""


class IngestError(DistillGuardError):
    """A dataset file cannot be read, or a row/column violates the traffic-log contract."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.field = field
        self.offset = offset
        where = []
        if self.path:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if offset is not None:
            where.append(f"byte {offset}")
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SignalError(DistillGuardError):
    """A detection signal failed."""

    def __init__(self, message: str, *, signal: str, account_id: str | None = None) -> None:
        self.signal = signal
        self.account_id = account_id
        who = f" (account {account_id})" if account_id else ""
        super().__init__(f"signal '{signal}'{who}: {message}")


class ExchangeError(DistillGuardError):
    """A TAXII/STIX exchange operation failed."""

    def __init__(self, message: str, *, collection_id: str | None = None) -> None:
        self.collection_id = collection_id
        where = f"collection {collection_id}: " if collection_id else ""
        super().__init__(f"{where}{message}")
