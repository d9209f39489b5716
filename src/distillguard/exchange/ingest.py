"""Turn a posted envelope into validated ``NewObject`` rows plus per-object failures.

Every object goes through ``validate_stix`` (the OASIS validator's checks); nothing is
stored unvalidated. A failure names the object's id (when it has a usable one) and the
validator's reasons; good objects in the same envelope are still stored.

Attribution: when the posting member's identity id is given, an object may only claim
that identity as its author (``attribution_error``). Without this any member could
publish indicators "created by" a rival lab, or sightings that seem to come from it.
An absent ``created_by_ref`` is accepted, as TAXII servers commonly do: the store keeps
the posting member as the object's publisher either way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from distillguard.exchange.routes._params import norm_ts
from distillguard.exchange.store.base import NewObject
from distillguard.exchange.tlp import marking_of
from distillguard.stix.extension import extension_body
from distillguard.stix.validation import validate_stix

_MAX_MESSAGE = 1000
_NO_EXTENSION: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Rejected:
    stix_id: str
    version: str
    message: str


def _id_of(obj: Any) -> str:
    raw = obj.get("id") if isinstance(obj, dict) else None
    return raw[:300] if isinstance(raw, str) else "unidentified-object"


def attribution_error(obj: dict[str, Any], identity_id: str) -> str | None:
    """Why a member whose identity is ``identity_id`` may not publish ``obj`` (None: it may).

    ``obj`` has passed validation. The message names only the poster's own identity, so
    it tells nothing about whether the claimed identity belongs to another member.
    """
    creator = obj.get("created_by_ref")
    if creator is not None and creator != identity_id:
        return (
            f"created_by_ref must be your own identity ({identity_id}) or absent; "
            "objects cannot be attributed to another identity"
        )
    if obj["type"] == "identity" and obj["id"] != identity_id:
        return f"a member may only publish its own identity object ({identity_id})"
    if obj["type"] == "sighting":
        where = obj.get("where_sighted_refs") or []
        if any(ref != identity_id for ref in where):
            return f"where_sighted_refs may only name your own identity ({identity_id})"
        if extension_body(obj).get("anonymous") is True and (creator is not None or where):
            return (
                "an anonymous sighting must carry neither created_by_ref nor "
                "where_sighted_refs: served verbatim, they would name you to every reader"
            )
    return None


def _version_of(obj: Any) -> str:
    version = obj.get("modified") or obj.get("created") if isinstance(obj, dict) else ""
    return version if isinstance(version, str) else ""


def prepare(
    objs: Sequence[Any], publisher_identity: str | None = None
) -> tuple[list[NewObject], list[Rejected]]:
    """Validate ``objs``; with ``publisher_identity`` also enforce ``attribution_error``.

    The hub's own definition objects (``admin.definition_objects``) are prepared without
    an identity: they are attributed to the forum, not to a member.
    """
    good: list[NewObject] = []
    bad: list[Rejected] = []
    for obj in objs:
        report = validate_stix(obj)
        if not report.valid:
            msg = "; ".join(report.errors)[:_MAX_MESSAGE]
            bad.append(Rejected(_id_of(obj), _version_of(obj), msg))
            continue
        if publisher_identity is not None:
            why = attribution_error(obj, publisher_identity)
            if why is not None:
                bad.append(Rejected(_id_of(obj), _version_of(obj), why))
                continue
        try:
            # One serialisation serves both: the stored text (keys sorted; JSON member
            # order carries no meaning in STIX) and the content digest it hashes.
            body = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
            digest = hashlib.sha256(body).hexdigest()
        except orjson.JSONEncodeError:  # nesting deeper than any STIX object needs
            bad.append(Rejected(obj["id"], "", "object is nested too deeply"))
            continue
        if b"\\u0000" in body:
            # PostgreSQL text cannot hold NUL, and no STIX property needs one.
            bad.append(Rejected(obj["id"], "", "NUL characters are not allowed in STIX strings"))
            continue
        stamp = obj.get("modified") or obj.get("created")
        version = norm_ts(stamp) if isinstance(stamp, str) else None
        valid_until = obj.get("valid_until")
        tlp, recipients = marking_of(obj)
        # (extension_body of an object without "extensions" is empty; skipping the call
        # skips its isinstance(None, Mapping) ABC check, ~0.5 us per object)
        ext = extension_body(obj) if "extensions" in obj else _NO_EXTENSION
        is_sighting = obj["type"] == "sighting" and isinstance(obj.get("sighting_of_ref"), str)
        count = obj.get("count", 1) if is_sighting else 0
        good.append(
            NewObject(
                stix_id=obj["id"],
                stix_type=obj["type"],
                spec_version=obj.get("spec_version", "2.1"),
                version=version or "",
                version_text=stamp if version and isinstance(stamp, str) else "",
                revoked=obj.get("revoked") is True,
                valid_until=norm_ts(valid_until) if isinstance(valid_until, str) else None,
                tlp=tlp,
                recipients=recipients,
                body=body.decode(),
                digest=digest,
                sighting_of=obj["sighting_of_ref"] if is_sighting else None,
                sighting_count=count if isinstance(count, int) else 1,
                false_positive=ext.get("false_positive") is True,
                anonymous=ext.get("anonymous") is True,
            )
        )
    return good, bad
