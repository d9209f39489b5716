"""TAXII error responses, built in one place.

Routes raise ``TaxiiError`` (or let FastAPI/Starlette raise their own); the handlers
registered by ``install_error_handlers`` turn everything into a TAXII 2.1 error message
(section 3.6.1) with the TAXII media type. Domain exceptions never carry HTTP statuses;
the mapping lives here and in the routes. Error bodies never echo stored content.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class TaxiiError(Exception):
    """An HTTP-level failure to report as a TAXII error message."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.title = title or _TITLES.get(status, "Error")
        self.description = description
        self.headers = headers or {}


def taxii_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A response with the TAXII media type; ``body`` bytes are sent as-is."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def error_response(
    status: int, description: str, title: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = {
        "title": title or _TITLES.get(status, "Error"),
        "description": description,
        "http_status": str(status),
    }
    return taxii_response(body, status, headers)


def unauthorized(description: str = "valid credentials are required") -> TaxiiError:
    return TaxiiError(
        401, description, headers={"WWW-Authenticate": 'Basic realm="distillguard", charset="UTF-8"'}
    )


def not_found(what: str = "resource") -> TaxiiError:
    # Same text whether the thing is missing or merely hidden from the caller.
    return TaxiiError(404, f"the requested {what} does not exist or is not visible to you")


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through ``error_response`` so clients always get TAXII JSON."""

    async def taxii_error(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, TaxiiError)
        return error_response(exc.status, exc.description, exc.title, exc.headers)

    async def http_error(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        desc = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return error_response(exc.status_code, desc, headers=dict(exc.headers or {}))

    async def validation_error(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        return error_response(400, "invalid request parameters: " + ", ".join(fields))

    async def unexpected(_req: Request, exc: Exception) -> Response:
        log.exception("unhandled error in the hub", exc_info=exc)
        return error_response(500, "the hub failed to process the request")

    app.add_exception_handler(TaxiiError, taxii_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
