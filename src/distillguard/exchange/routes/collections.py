"""GET /{api_root}/collections/ and /{api_root}/collections/{id}/.

Only collections the caller holds a grant on are listed; others answer 404 whether or
not they exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.errors import STIX_MEDIA_TYPE, taxii_response
from distillguard.exchange.routes._params import open_call
from distillguard.exchange.routes.models import CollectionResource
from distillguard.exchange.store.base import Collection, Grant, HubStore

router = APIRouter()


def _resource(col: Collection, grant: Grant) -> dict[str, object]:
    return CollectionResource(
        id=col.id,
        title=col.title,
        description=col.description or None,
        can_read=grant.can_read,
        can_write=grant.can_write,
        media_types=[STIX_MEDIA_TYPE],
    ).model_dump(exclude_none=True)


def visible_collections(store: HubStore, member_id: int) -> list[tuple[Collection, Grant]]:
    """The collections a member may read or write, with its grant on each.

    Collections without a right are left out entirely, so their existence is not revealed.
    """
    grants = {g.collection_id: g for g in store.member_grants(member_id)}
    return [(c, grants[c.id]) for c in store.list_collections()
            if c.id in grants and (grants[c.id].can_read or grants[c.id].can_write)]


@router.get("/{api_root}/collections/")
def list_collections(api_root: str, request: Request) -> Response:
    hub, member = open_call(request, api_root)
    cols = [_resource(c, g) for c, g in visible_collections(hub.store, member.id)]
    return taxii_response({"collections": cols} if cols else {})


@router.get("/{api_root}/collections/{collection_id}/")
def get_collection(api_root: str, collection_id: str, request: Request) -> Response:
    hub, member = open_call(request, api_root)
    acc = hub.access(member, collection_id)
    return taxii_response(_resource(acc.collection, acc.grant))
