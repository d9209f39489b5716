"""Ingest-specific refinements of :class:`distillguard.errors.IngestError`.

The CLI maps them to different exit codes: a file that cannot be read at all is an input
problem (exit 3); a readable file that breaks the contract (a required column missing) is a
fatal validation finding (exit 1). Both remain ``IngestError`` so callers can catch one type.
"""

from __future__ import annotations

from distillguard.errors import IngestError


class UnreadableInputError(IngestError):
    """The directory or a file is missing, unreadable, corrupt or truncated."""


class ContractError(IngestError):
    """A readable file violates the contract as a whole (e.g. a required column is missing)."""


class StrictModeError(IngestError):
    """A bad row was found while reading with ``strict=True``."""
