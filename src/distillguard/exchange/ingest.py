"""Turn a posted envelope into validated ``NewObject`` rows plus per-object failures.

Every object goes through ``validate_stix`` (the OASIS validator's checks); nothing is
stored unvalidated. A failure names the object's id (when it has a usable one) and the
validator's reasons; good objects in the same envelope are still stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from distillguard.exchange.routes._params import norm_ts
from distillguard.exchange.store.base import NewObject
from distillguard.exchange.tlp import marking_of
from distillguard.stix.extension import extension_body
from distillguard.stix.validation import validate_stix

_MAX_MESSAGE = 1000


@dataclass(frozen=True)
class Rejected:
    stix_id: str
    version: str
    message: str


def _id_of(obj: Any) -> str:
    raw = obj.get("id") if isinstance(obj, dict) else None
    return raw[:300] if isinstance(raw, str) else "unidentified-object"


def prepare(objs: Sequence[Any]) -> tuple[list[NewObject], list[Rejected]]:
    good: list[NewObject] = []
    bad: list[Rejected] = []
    for obj in objs:
        report = validate_stix(obj)
        if not report.valid:
            msg = "; ".join(report.errors)[:_MAX_MESSAGE]
            version = obj.get("modified") or obj.get("created") if isinstance(obj, dict) else ""
            bad.append(Rejected(_id_of(obj), version if isinstance(version, str) else "", msg))
            continue
        try:
            body = orjson.dumps(obj)
            digest = hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()
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
        ext = extension_body(obj)
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
