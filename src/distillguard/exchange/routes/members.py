"""GET /{api_root}/members/me/ -- who the caller is to the hub (hub extension).

A member signs what it publishes with ``created_by_ref`` set to its identity id, and the
hub refuses any other identity (``exchange.ingest.attribution_error``). Without this
endpoint that id only reached a lab through the admin who created it; now any working
credential (Basic or bearer) can ask. It answers only about the caller, so it leaks
nothing about other members; collections the caller holds no right on are not listed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.errors import taxii_response
from distillguard.exchange.routes._params import open_call
from distillguard.exchange.routes.collections import visible_collections

router = APIRouter()


@router.get("/{api_root}/members/me/")
def whoami(api_root: str, request: Request) -> Response:
    hub, member = open_call(request, api_root)
    cols = [{"id": c.id, "title": c.title, "can_read": g.can_read, "can_write": g.can_write}
            for c, g in visible_collections(hub.store, member.id)]
    body = {
        "name": member.name,
        "identity_id": member.identity_id,
        "org": member.org,
        "collections": cols,
    }
    return taxii_response(body)
