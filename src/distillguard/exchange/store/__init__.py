"""Hub storage: the ``HubStore`` protocol and its SQLAlchemy implementation."""

from distillguard.exchange.store.base import (
    AddOutcome,
    Collection,
    Credential,
    Grant,
    HubStore,
    Member,
    NewObject,
    ObjectFilter,
    ObjectPage,
    SightingReport,
    StoredObject,
    Viewer,
    Webhook,
)
from distillguard.exchange.store.sql import SqlStore

__all__ = [
    "AddOutcome",
    "Collection",
    "Credential",
    "Grant",
    "HubStore",
    "Member",
    "NewObject",
    "ObjectFilter",
    "ObjectPage",
    "SightingReport",
    "SqlStore",
    "StoredObject",
    "Viewer",
    "Webhook",
]
