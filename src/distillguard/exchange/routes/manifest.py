"""GET /collections/{id}/manifest/ -- ids, versions and date_added of visible objects."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.context import now_ts
from distillguard.exchange.errors import STIX_MEDIA_TYPE, taxii_response
from distillguard.exchange.routes._params import open_call, parse_filter

router = APIRouter()


@router.get("/{api_root}/collections/{collection_id}/manifest/")
def get_manifest(api_root: str, collection_id: str, request: Request) -> Response:
    hub, member = open_call(request, api_root)
    acc = hub.access(member, collection_id, read=True)
    page = hub.store.query_objects(
        collection_id, acc.viewer, parse_filter(request, hub.settings), now_ts()
    )
    if not page.rows:
        return taxii_response({"more": False})
    body: dict[str, object] = {
        "more": page.more,
        "objects": [
            {
                "id": r.stix_id,
                "date_added": r.date_added,
                "version": r.version,
                "media_type": STIX_MEDIA_TYPE,
            }
            for r in page.rows
        ],
    }
    if page.more:
        body["next"] = str(page.next_seq)
    headers = {
        "X-TAXII-Date-Added-First": page.rows[0].date_added,
        "X-TAXII-Date-Added-Last": page.rows[-1].date_added,
    }
    return taxii_response(orjson.dumps(body), headers=headers)
