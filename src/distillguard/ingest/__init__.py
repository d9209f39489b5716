"""Reading datasets that follow the traffic-log contract.

See :mod:`distillguard.ingest.schema` for the contract itself.
"""

from distillguard.ingest.schema import ACCOUNTS, EVENTS, LABELS, RELEASES, SUFFIXES, TABLES

__all__ = ["ACCOUNTS", "EVENTS", "LABELS", "RELEASES", "SUFFIXES", "TABLES"]
