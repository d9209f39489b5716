"""Objects resource: GET/POST /collections/{id}/objects/, GET/DELETE .../objects/{oid}/.

Envelopes are assembled from the stored JSON text of each object (no re-serialisation),
which is most of why serving is fast.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from distillguard.exchange import audit
from distillguard.exchange.context import Hub, now_ts
from distillguard.exchange.errors import TaxiiError, error_response, not_found, taxii_response
from distillguard.exchange.ingest import prepare
from distillguard.exchange.routes._params import (
    check_content_type,
    open_call,
    parse_filter,
    valid_id,
)
from distillguard.exchange.store.base import AddOutcome, Member, ObjectPage, PublishRecord

router = APIRouter()


def envelope(page: ObjectPage) -> Response:
    """TAXII envelope with the X-TAXII-Date-Added-First/Last headers."""
    if not page.rows:
        return taxii_response({"more": False})
    parts = [b'{"more":', b"true" if page.more else b"false"]
    if page.more:
        assert page.next_seq is not None  # a store sets next_seq whenever more is true
        parts.append(b',"next":"%d"' % page.next_seq)
    parts.append(b',"objects":[')
    parts.append(",".join(r.body for r in page.rows).encode())
    parts.append(b"]}")
    headers = {
        "X-TAXII-Date-Added-First": page.rows[0].date_added,
        "X-TAXII-Date-Added-Last": page.rows[-1].date_added,
    }
    return taxii_response(b"".join(parts), headers=headers)


@router.get("/{api_root}/collections/{collection_id}/objects/")
def get_objects(api_root: str, collection_id: str, request: Request) -> Response:
    hub, member = open_call(request, api_root, stix_ok=True)
    acc = hub.access(member, collection_id, read=True)
    flt = parse_filter(request, hub.settings)
    page = hub.store.query_objects(collection_id, acc.viewer, flt, now_ts())
    audit.record(hub.store, member, "objects.read", collection_id, count=len(page.rows))
    return envelope(page)


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/")
def get_object(api_root: str, collection_id: str, object_id: str, request: Request) -> Response:
    hub, member = open_call(request, api_root, stix_ok=True)
    acc = hub.access(member, collection_id, read=True)
    if not valid_id(object_id):
        raise TaxiiError(400, "object id must be a STIX identifier")
    flt = parse_filter(request, hub.settings, allow=frozenset({"version", "spec_version"}))
    flt = dataclasses.replace(flt, ids=(object_id,))
    page = hub.store.query_objects(collection_id, acc.viewer, flt, now_ts())
    if not page.rows and flt.after_seq is None:
        # Absent, hidden by TLP, expired or revoked: all look the same from outside.
        raise not_found("object")
    audit.record(hub.store, member, "objects.read", collection_id, id=object_id)
    return envelope(page)


@router.delete("/{api_root}/collections/{collection_id}/objects/{object_id}/")
def delete_object(api_root: str, collection_id: str, object_id: str, request: Request) -> Response:
    hub, member = open_call(request, api_root, stix_ok=True)
    acc = hub.access(member, collection_id, read=True, write=True)
    if not valid_id(object_id):
        raise TaxiiError(400, "object id must be a STIX identifier")
    if not hub.store.object_exists_for(collection_id, acc.viewer, object_id, now_ts()):
        raise not_found("object")
    flt = parse_filter(
        request, hub.settings, allow=frozenset({"version", "spec_version"}), default_versions=("all",)
    )
    gone = hub.store.delete_object(collection_id, object_id, member.id, flt)
    if gone is None:
        raise TaxiiError(403, "only the member who published an object may delete it")
    audit.record(hub.store, member, "objects.delete", collection_id, id=object_id, versions=gone)
    return taxii_response(b"")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise TaxiiError(413, f"request body exceeds max_content_length ({limit} bytes)")
        except ValueError:
            raise TaxiiError(400, "invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TaxiiError(413, f"request body exceeds max_content_length ({limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_envelope(raw: bytes) -> list[Any]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TaxiiError(400, f"body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), list):
        raise TaxiiError(400, "body must be a TAXII envelope: an object with an 'objects' list")
    objs: list[Any] = doc["objects"]
    if not objs:
        raise TaxiiError(400, "the envelope's 'objects' list is empty")
    return objs


def _publish(
    hub: Hub, member: Member, collection_id: str, objs: list[Any]
) -> tuple[dict[str, Any], bytes]:
    """Store the envelope; returns the status resource and its JSON (stored and sent)."""
    request_ts = now_ts()
    good, bad = prepare(objs, member.identity_id)
    status: dict[str, Any] = {}
    status_json: list[bytes] = []

    def record(outcomes: list[AddOutcome], added: int) -> PublishRecord:
        # Called inside the store's transaction, so the status resource and the audit
        # entry commit together with the objects (one commit per request).
        successes = [{"id": o.stix_id, "version": o.version} for o in outcomes if o.ok]
        failures = [
            {"id": o.stix_id, "version": o.version, "message": o.message}
            for o in outcomes
            if not o.ok
        ] + [{"id": r.stix_id, "version": r.version, "message": r.message} for r in bad]
        status.clear()
        status.update(
            {
                "id": str(uuid.uuid4()),
                "status": "complete",
                "request_timestamp": request_ts,
                "total_count": len(objs),
                "success_count": len(successes),
                "successes": successes,
                "failure_count": len(failures),
                "failures": failures,
                "pending_count": 0,
                "pendings": [],
            }
        )
        detail = {
            "status_id": status["id"],
            "stored": added,
            "failed": len(failures),
            "ids": [s["id"] for s in successes[:50]],
        }
        status_json[:] = [orjson.dumps(status)]
        return PublishRecord(status["id"], status_json[0].decode(), "objects.publish", detail)

    _outcomes, added = hub.store.publish(collection_id, member.id, good, record)
    if added:
        hub.published(collection_id)
    return status, status_json[0]


@router.post("/{api_root}/collections/{collection_id}/objects/")
async def post_objects(api_root: str, collection_id: str, request: Request) -> Response:
    def authorise() -> tuple[Hub, Member]:
        hub, member = open_call(request, api_root)
        hub.access(member, collection_id, write=True)
        return hub, member

    hub, member = await run_in_threadpool(authorise)
    check_content_type(request)
    raw = await _read_body(request, hub.settings.max_content_length)
    objs = _parse_envelope(raw)
    status, status_json = await run_in_threadpool(_publish, hub, member, collection_id, objs)
    if status["success_count"] == 0:
        # Nothing in the envelope could be stored: a client error, with the status
        # resource (and so the validator's reasons) in the error's details.
        resp = error_response(422, "no object in the envelope was accepted; see details")
        body = orjson.loads(resp.body)
        body["details"] = status
        return taxii_response(body, 422)
    return taxii_response(status_json, 202)
