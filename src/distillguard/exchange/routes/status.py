"""GET /{api_root}/status/{status_id}/ -- only the member who posted sees a status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.context import SAFE_KEY, hub_of
from distillguard.exchange.errors import not_found, taxii_response
from distillguard.exchange.routes._params import check_accept

router = APIRouter()


@router.get("/{api_root}/status/{status_id}/")
def get_status(api_root: str, status_id: str, request: Request) -> Response:
    hub = hub_of(request)
    check_accept(request)
    member = hub.caller(request)
    if api_root != hub.settings.api_root or not SAFE_KEY.fullmatch(status_id):
        raise not_found("status")
    body = hub.store.get_status(status_id, member.id)
    if body is None:
        raise not_found("status")
    return taxii_response(body.encode())
