"""Reading datasets that follow the traffic-log contract, with validation.

    ds = open_dataset("data/")                       # finds events/accounts/... files
    report = ValidationReport()
    for batch in iter_event_batches(ds, columns=["account_id", "ts"], report=report):
        ...                                          # canonical pa.RecordBatch, valid rows
    accounts = read_table(ds, "accounts", report=report)
    report = validate_dataset("data/", quarantine_dir="quarantine/")

See :mod:`distillguard.ingest.schema` for the contract itself.
"""

from distillguard.ingest._errors import ContractError, StrictModeError, UnreadableInputError
from distillguard.ingest.dataset import DataFile, Dataset, open_dataset
from distillguard.ingest.reader import (
    iter_event_batches,
    iter_table_batches,
    progress_total,
    read_table,
)
from distillguard.ingest.report import REASONS, Issue, TableCounts, ValidationReport
from distillguard.ingest.schema import ACCOUNTS, EVENTS, LABELS, RELEASES, SUFFIXES, TABLES
from distillguard.ingest.validate import validate_dataset

__all__ = [
    "ACCOUNTS",
    "EVENTS",
    "LABELS",
    "REASONS",
    "RELEASES",
    "SUFFIXES",
    "TABLES",
    "ContractError",
    "DataFile",
    "Dataset",
    "Issue",
    "StrictModeError",
    "TableCounts",
    "UnreadableInputError",
    "ValidationReport",
    "iter_event_batches",
    "iter_table_batches",
    "open_dataset",
    "progress_total",
    "read_table",
    "validate_dataset",
]
