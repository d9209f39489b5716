"""GET /taxii2/ -- server discovery (TAXII 2.1 section 4.1)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from distillguard.exchange.context import hub_of
from distillguard.exchange.errors import taxii_response
from distillguard.exchange.routes._params import check_accept
from distillguard.exchange.routes.models import Discovery

router = APIRouter()


@router.get("/taxii2/")
async def discovery(request: Request) -> Response:
    hub = hub_of(request)
    check_accept(request)
    await run_in_threadpool(hub.caller, request)
    root = f"{str(request.base_url).rstrip('/')}/{hub.settings.api_root}/"
    body = Discovery(
        title=hub.settings.title,
        description=hub.settings.description,
        contact=hub.settings.contact or None,
        default=root,
        api_roots=[root],
    )
    return taxii_response(body.model_dump(exclude_none=True))
