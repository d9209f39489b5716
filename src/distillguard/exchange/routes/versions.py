"""GET /collections/{id}/objects/{oid}/versions/ -- every visible version of one object."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.context import now_ts
from distillguard.exchange.errors import TaxiiError, not_found, taxii_response
from distillguard.exchange.routes._params import open_call, parse_filter, valid_id

router = APIRouter()


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/")
def get_versions(api_root: str, collection_id: str, object_id: str, request: Request) -> Response:
    hub, member = open_call(request, api_root)
    acc = hub.access(member, collection_id, read=True)
    if not valid_id(object_id):
        raise TaxiiError(400, "object id must be a STIX identifier")
    flt = parse_filter(request, hub.settings, allow=frozenset({"spec_version"}))
    flt = dataclasses.replace(flt, ids=(object_id,), versions=("all",))
    page = hub.store.query_objects(collection_id, acc.viewer, flt, now_ts())
    if not page.rows and flt.after_seq is None:
        raise not_found("object")
    body: dict[str, object] = {"more": page.more, "versions": [r.version for r in page.rows]}
    if page.more:
        body["next"] = str(page.next_seq)
    headers = {}
    if page.rows:
        headers = {
            "X-TAXII-Date-Added-First": page.rows[0].date_added,
            "X-TAXII-Date-Added-Last": page.rows[-1].date_added,
        }
    return taxii_response(body, headers=headers)
