"""GET /{api_root}/ -- API root information, advertising ``max_content_length``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from distillguard.exchange.errors import TAXII_MEDIA_TYPE, taxii_response
from distillguard.exchange.routes._params import open_call
from distillguard.exchange.routes.models import ApiRoot

router = APIRouter()


@router.get("/{api_root}/")
def api_root(api_root: str, request: Request) -> Response:
    hub, _ = open_call(request, api_root)
    body = ApiRoot(
        title=hub.settings.title,
        description=hub.settings.description,
        versions=[TAXII_MEDIA_TYPE],
        max_content_length=hub.settings.max_content_length,
    )
    return taxii_response(body.model_dump())
