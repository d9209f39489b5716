"""Subscribe: poll hub collections into the local store, or follow the push channel.

The checkpoint per collection is the hub's ``X-TAXII-Date-Added-Last`` (standard TAXII
``added_after``) plus the last SSE event id; both live in the store, so a restarted lab
resumes where it stopped and never re-downloads the collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from distillguard.share.client import HubLink, iter_events, iter_pages
from distillguard.share.store import IndicatorStore


@dataclass(frozen=True)
class PullResult:
    collection: str
    received: int
    stored: int
    added_after: str | None


def pull(link: HubLink, collections: Sequence[str], store: IndicatorStore,
         page_size: int = 500) -> list[PullResult]:
    """Fetch everything new in each collection since its checkpoint."""
    out = []
    with link.client() as client:
        for col in collections:
            after, _ = store.checkpoint(col)
            received = stored = 0
            last = after
            for objs, last_added in iter_pages(client, link, col, after, page_size):
                received += len(objs)
                stored += store.add(objs, col)
                if last_added:
                    last = last_added
                    store.set_checkpoint(col, added_after=last_added)
            out.append(PullResult(col, received, stored, last))
    return out


def follow(link: HubLink, collection: str, store: IndicatorStore,
           max_objects: int | None = None) -> int:
    """Store objects as the hub pushes them; returns after ``max_objects`` (or never).

    Resumes from the stored event id; without one it first polls (so nothing published
    before the subscription is missed) and then replays the channel from the beginning,
    which the store deduplicates by object version.
    """
    _, last_id = store.checkpoint(collection)
    if last_id is None:
        pull(link, [collection], store)
        last_id = 0
    n = 0
    with link.client() as client:
        for eid, obj in iter_events(client, link, collection, last_id):
            store.add([obj], collection)
            store.set_checkpoint(collection, last_event_id=eid)
            n += 1
            if max_objects is not None and n >= max_objects:
                break
    return n
