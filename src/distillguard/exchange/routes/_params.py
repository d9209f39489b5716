"""Parsing of TAXII query parameters and media-type negotiation (400/406/415 here)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import Request

from distillguard.exchange.errors import TaxiiError, not_found
from distillguard.exchange.settings import HubSettings
from distillguard.exchange.store.base import ObjectFilter

if TYPE_CHECKING:
    from distillguard.exchange.context import Hub
    from distillguard.exchange.store.base import Member

_TS = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,249}--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,249}$")


@functools.lru_cache(maxsize=65_536)
def norm_ts(value: str) -> str | None:
    """A STIX/TAXII timestamp in the stored fixed-width form, or None if malformed."""
    m = _TS.fullmatch(value)
    if not m:
        return None
    try:
        datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    frac = (m.group(2) or "").ljust(6, "0")[:6]
    return f"{m.group(1)}.{frac}Z"


def valid_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


MAX_MATCH_VALUES = 1000


def _list(request: Request, name: str) -> tuple[str, ...]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    if len(values) > MAX_MATCH_VALUES:
        raise TaxiiError(400, f"{name} takes at most {MAX_MATCH_VALUES} values")
    return tuple(values)


def parse_filter(
    request: Request,
    settings: HubSettings,
    *,
    allow: frozenset[str] = frozenset({"id", "type", "version", "spec_version"}),
    default_versions: tuple[str, ...] = ("last",),
) -> ObjectFilter:
    q = request.query_params
    limit = settings.default_page_size
    if "limit" in q:
        try:
            limit = int(q["limit"])
        except ValueError:
            raise TaxiiError(400, "limit must be a positive integer") from None
        if limit < 1:
            raise TaxiiError(400, "limit must be a positive integer")
    limit = min(limit, settings.max_page_size)
    added_after = None
    if "added_after" in q:
        added_after = norm_ts(q["added_after"])
        if added_after is None:
            raise TaxiiError(400, "added_after must be a timestamp like 2024-01-01T00:00:00.000Z")
    after_seq = None
    if "next" in q:
        try:
            after_seq = int(q["next"])
        except ValueError:
            raise TaxiiError(400, "next must be a value returned by a previous page") from None
        if not 0 <= after_seq < 2**62:
            raise TaxiiError(400, "next must be a value returned by a previous page")
    ids = _list(request, "match[id]") if "id" in allow else ()
    if any(not valid_id(i) for i in ids):
        raise TaxiiError(400, "match[id] must hold STIX identifiers")
    types = _list(request, "match[type]") if "type" in allow else ()
    if any(not _TYPE.fullmatch(t) for t in types):
        raise TaxiiError(400, "match[type] must hold STIX type names")
    versions = default_versions
    if "version" in allow and "match[version]" in q:
        versions = ()
        for v in _list(request, "match[version]"):
            if v in ("last", "first", "all"):
                versions += (v,)
            else:
                ts = norm_ts(v)
                if ts is None:
                    raise TaxiiError(400, "match[version] takes last, first, all or timestamps")
                versions += (ts,)
        versions = versions or default_versions
    spec_versions = _list(request, "match[spec_version]") if "spec_version" in allow else ()
    if any(s not in ("2.0", "2.1") for s in spec_versions):
        raise TaxiiError(400, "match[spec_version] must be 2.0 or 2.1")
    return ObjectFilter(added_after, ids, types, versions, spec_versions, limit, after_seq)


def check_accept(request: Request, *, stix_ok: bool = False) -> None:
    """406 unless the client accepts the TAXII media type (or STIX where the spec allows)."""
    accept = request.headers.get("accept", "").lower().replace(" ", "")
    if not accept:
        return
    ok: tuple[str, ...] = ("application/taxii+json", "*/*", "application/*", "application/json")
    if stix_ok:
        ok = ok + ("application/stix+json",)
    for part in accept.split(","):
        media = part.split(";q=")[0]
        if media.startswith(ok) and ("version=" not in media or "version=2.1" in media):
            return
    raise TaxiiError(406, "the hub serves application/taxii+json;version=2.1")


def check_content_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "").lower().replace(" ", "")
    if not ctype.startswith("application/taxii+json") or (
        "version=" in ctype and "version=2.1" not in ctype
    ):
        raise TaxiiError(415, "POST bodies must be application/taxii+json;version=2.1")


def open_call(request: Request, api_root: str, *, stix_ok: bool = False) -> tuple[Hub, Member]:
    """Every API-root route's prologue, in the order the tests pin: 406 for an
    unacceptable media type, then 401/429 from authentication, and only then 404 for an
    unknown API root (so a caller without credentials cannot probe root names)."""
    from distillguard.exchange.context import hub_of

    hub = hub_of(request)
    check_accept(request, stix_ok=stix_ok)
    member = hub.caller(request)
    if api_root != hub.settings.api_root:
        raise not_found("API root")
    return hub, member
