"""GET /{api_root}/collections/{id}/sightings/{indicator_id}/ -- corroboration summary.

Counts sightings per reporting member (reporters that asked for anonymity are listed as
"anonymous"), separates false-positive reports, and gives the corroborated confidence
(``distillguard.exchange.corroboration``). Only readers who can see the indicator get it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.context import now_ts
from distillguard.exchange.corroboration import corroborated_confidence
from distillguard.exchange.errors import TaxiiError, not_found, taxii_response
from distillguard.exchange.routes._params import open_call, valid_id

router = APIRouter()


@router.get("/{api_root}/collections/{collection_id}/sightings/{indicator_id}/")
def sighting_summary(
    api_root: str, collection_id: str, indicator_id: str, request: Request
) -> Response:
    hub, member = open_call(request, api_root)
    acc = hub.access(member, collection_id, read=True)
    if not valid_id(indicator_id):
        raise TaxiiError(400, "indicator id must be a STIX identifier")
    if not hub.store.object_exists_for(collection_id, acc.viewer, indicator_id, now_ts()):
        raise not_found("object")
    base = hub.store.base_confidence(collection_id, indicator_id)
    base_conf, publisher = base if base else (50, -1)
    reports = hub.store.sighting_reports(collection_id, indicator_id)
    others = [r for r in reports if r.member_id != publisher]
    corroborators = sum(1 for r in others if not r.false_positive)
    fp_members = sum(1 for r in others if r.false_positive)
    body = {
        "indicator_id": indicator_id,
        "base_confidence": base_conf,
        "confidence": corroborated_confidence(base_conf, corroborators, fp_members),
        "corroborating_members": corroborators,
        "false_positive_members": fp_members,
        "total_count": sum(r.count for r in reports),
        "reporters": [
            {
                "member": "anonymous" if r.anonymous else r.member_name,
                "count": r.count,
                "false_positive": r.false_positive,
            }
            for r in reports
        ],
    }
    return taxii_response(body)
