"""Append-only audit trail of who published, read and changed what.

The table refuses UPDATE and DELETE at the database level (triggers created by
``SqlStore.create_schema``), so even a buggy hub cannot rewrite history.
"""

from __future__ import annotations

from typing import Any

from distillguard.exchange.store.base import HubStore, Member


def record(
    store: HubStore,
    actor: Member | None,
    action: str,
    collection_id: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit entry. ``action`` is a stable verb such as ``objects.publish``."""
    store.audit(actor.id if actor else None, action, collection_id, detail)
