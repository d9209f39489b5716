"""GET /{api_root}/collections/{id}/events/ -- Server-Sent Events push channel.

Not part of TAXII 2.1 (which only polls); a hub extension so subscribers learn of a new
object within milliseconds. Each event is one stored object version:

    id: <sequence number>      (resume with the Last-Event-ID header, or ?last_event_id=)
    event: object
    data: <the STIX object JSON>

Without a resume point the stream starts with objects added after the connection
(``?last_event_id=0`` replays the whole collection). The same TLP, expiry and revocation
rules as polling apply, and the caller's rights are re-checked on every wake-up so a
revoked credential stops the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from distillguard.exchange import audit
from distillguard.exchange.context import Access, Hub, hub_of, now_ts
from distillguard.exchange.errors import TaxiiError, not_found
from distillguard.exchange.store.base import ObjectFilter, ObjectPage

router = APIRouter()
_BATCH = 500


def _start_seq(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None:
        return None
    try:
        seq = int(raw)
    except ValueError:
        raise TaxiiError(400, "Last-Event-ID must be an event id sent by this hub") from None
    if not 0 <= seq < 2**62:
        raise TaxiiError(400, "Last-Event-ID must be an event id sent by this hub")
    return seq


def _latest_seq(hub: Hub, acc: Access) -> int:
    last = 0
    while True:
        page = hub.store.query_objects(
            acc.collection.id,
            acc.viewer,
            ObjectFilter(versions=("all",), limit=_BATCH, after_seq=last),
            now_ts(),
        )
        if page.rows:
            last = page.rows[-1].seq
        if not page.more:
            return last


def _poll(hub: Hub, request: Request, acc: Access, after: int) -> ObjectPage:
    # Still allowed? (credentials revoked or grant withdrawn end the stream.) No rate
    # limiting here: a busy collection must not cut its own subscribers off.
    member = hub.auth.authenticate(request.headers.get("authorization"))
    hub.access(member, acc.collection.id, read=True)
    return hub.store.query_objects(
        acc.collection.id,
        acc.viewer,
        ObjectFilter(versions=("all",), limit=_BATCH, after_seq=after),
        now_ts(),
    )


@router.get("/{api_root}/collections/{collection_id}/events/")
async def events(api_root: str, collection_id: str, request: Request) -> EventSourceResponse:
    hub = hub_of(request)
    member = await run_in_threadpool(hub.caller, request)
    if api_root != hub.settings.api_root:
        raise not_found("API root")
    acc = await run_in_threadpool(hub.access, member, collection_id, read=True)
    start = _start_seq(request)
    await run_in_threadpool(
        audit.record, hub.store, member, "events.subscribe", collection_id, resume_from=start
    )
    if start is None:
        start = await run_in_threadpool(_latest_seq, hub, acc)
    sub = hub.events.subscribe(collection_id)

    async def stream() -> AsyncIterator[dict[str, Any]]:
        last = start
        _, wake = sub
        try:
            while True:
                wake.clear()
                try:
                    page = await run_in_threadpool(_poll, hub, request, acc, last)
                except TaxiiError:
                    return
                for row in page.rows:
                    yield {"id": str(row.seq), "event": "object", "data": row.body}
                    last = row.seq
                if page.more:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=hub.settings.sse_ping_s)
        finally:
            hub.events.unsubscribe(collection_id, sub)

    return EventSourceResponse(stream(), ping=int(max(1, hub.settings.sse_ping_s)))
