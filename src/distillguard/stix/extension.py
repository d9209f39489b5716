"""The distillation ``extension-definition`` and pure helpers to build objects that use it.

No standard STIX type describes model-API abuse signals, so distillguard defines one
property-extension (spec: docs/exchange/stix-extension.md). It rides on ordinary STIX
objects (indicator, sighting, grouping...) under ``extensions[DISTILLATION_EXTENSION_ID]``.

Privacy rule baked into the shape: customer identifiers only ever appear as keyed hashes
(``hashes``: HMAC-SHA256 under a consortium key, with ``key_id`` and ``epoch`` so a leaked
epoch key exposes one epoch) and prompt templates only as keyed similarity sketches
(``sketch``); the extension has no field that could carry raw text.

The id and its definition are persisted contracts: never change them, publish a new
version with a new id instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

DISTILLATION_EXTENSION_ID: Final = "extension-definition--5e605fbc-6283-4c7c-a078-168eabbd10da"
#: The identity the forum's hub publishes the extension-definition under.
FORUM_IDENTITY_ID: Final = "identity--7f87662f-c251-4b68-b100-a4b985c83392"
EXTENSION_VERSION: Final = "1.0.0"
EXTENSION_SCHEMA_URL: Final = (
    "https://github.com/distillguard/distillguard/blob/main/docs/exchange/stix-extension.md"
)

#: Signal types the extension can describe (open vocabulary; new ones are additions).
SIGNAL_TYPES: Final = (
    "model-api-account",  # hashed account identifiers
    "payment-fingerprint",  # hashed payment instrument fingerprints
    "email-domain",  # hashed e-mail domains / addresses
    "network-infrastructure",  # proxy / datacenter IPs or blocks (raw, policy permitting)
    "prompt-template",  # keyed similarity sketch of a prompt-template family
    "targeted-capability",  # which model and capability a campaign extracts
    "cluster-summary",  # size and time span of a linked account cluster
)

_CREATED: Final = "2026-11-26T00:00:00.000Z"


def forum_identity() -> dict[str, Any]:
    """The identity object that ``created_by_ref`` of the extension-definition points at."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": FORUM_IDENTITY_ID,
        "created": _CREATED,
        "modified": _CREATED,
        "name": "distillguard exchange forum",
        "identity_class": "organization",
    }


def extension_definition() -> dict[str, Any]:
    """The STIX ``extension-definition`` object describing the distillation extension."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": DISTILLATION_EXTENSION_ID,
        "created_by_ref": FORUM_IDENTITY_ID,
        "created": _CREATED,
        "modified": _CREATED,
        "name": "distillguard model-API distillation signals",
        "description": (
            "Signals about adversarial distillation of model APIs: hashed account, payment "
            "and e-mail identifiers (HMAC-SHA256, key_id + epoch), keyed prompt-template "
            "similarity sketches (never text), targeted model/capability, cluster summaries, "
            "TLP:RED recipients and false-positive sighting reports."
        ),
        "schema": EXTENSION_SCHEMA_URL,
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    }


def keyed_hashes(values: Sequence[str], *, key_id: str, epoch: str) -> dict[str, Any]:
    """The ``hashes`` member: already-computed HMAC-SHA256 hex digests plus their key context.

    Hashing itself belongs to the sharing side (it holds the consortium key); this only
    shapes the result, and refuses anything that is not a 64-hex digest so a raw value can
    never slip through this helper.
    """
    clean = []
    for value in values:
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("keyed hash values must be lowercase 64-hex HMAC-SHA256 digests")
        clean.append(value)
    return {"alg": "HMAC-SHA256", "key_id": key_id, "epoch": epoch, "values": clean}


def template_sketch(
    hashvalues: Sequence[int], *, key_id: str, epoch: str, alg: str = "keyed-minhash"
) -> dict[str, Any]:
    """The ``sketch`` member: a keyed MinHash signature (unsigned 64-bit ints)."""
    if not hashvalues:
        raise ValueError("a template sketch needs at least one hash value")
    return {
        "alg": alg,
        "key_id": key_id,
        "epoch": epoch,
        "num_perm": len(hashvalues),
        "hashvalues": [int(v) for v in hashvalues],
    }


def distillation_properties(
    signal_type: str,
    *,
    hashes: Mapping[str, Any] | None = None,
    sketch: Mapping[str, Any] | None = None,
    targeted_model: str | None = None,
    capability: str | None = None,
    cluster_size: int | None = None,
    recipients: Sequence[str] | None = None,
    false_positive: bool | None = None,
    anonymous: bool | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``extensions`` dict for an object carrying distillation properties.

    ``recipients`` lists identity ids allowed to receive a TLP:RED object (the hub serves
    it to nobody else but its publisher). ``false_positive`` and ``anonymous`` are for
    sightings: a false-positive report lowers an indicator's corroborated confidence, and
    an anonymous reporter is counted but not named in sighting summaries.
    """
    if signal_type not in SIGNAL_TYPES:
        raise ValueError(f"unknown signal_type {signal_type!r}; expected one of {SIGNAL_TYPES}")
    body: dict[str, Any] = {"extension_type": "property-extension", "signal_type": signal_type}
    optional: dict[str, Any] = {
        "hashes": dict(hashes) if hashes is not None else None,
        "sketch": dict(sketch) if sketch is not None else None,
        "targeted_model": targeted_model,
        "capability": capability,
        "cluster_size": cluster_size,
        "recipients": list(recipients) if recipients is not None else None,
        "false_positive": false_positive,
        "anonymous": anonymous,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if extra:
        body.update(extra)
    return {DISTILLATION_EXTENSION_ID: body}


def extension_body(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The distillation extension member of ``obj`` (empty mapping when absent or malformed)."""
    exts = obj.get("extensions")
    if isinstance(exts, Mapping):
        body = exts.get(DISTILLATION_EXTENSION_ID)
        if isinstance(body, Mapping):
            return body
    return {}


def stix_now() -> str:
    """Current time as a STIX timestamp with millisecond precision."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_id(stix_type: str) -> str:
    """A fresh STIX identifier of ``stix_type``."""
    return f"{stix_type}--{uuid.uuid4()}"


def sighting(
    indicator_id: str,
    *,
    reporter_identity: str | None,
    count: int = 1,
    first_seen: str | None = None,
    last_seen: str | None = None,
    false_positive: bool = False,
    anonymous: bool = False,
    marking_refs: Sequence[str] = (),
) -> dict[str, Any]:
    """A STIX sighting of ``indicator_id`` (counts and time range only, never raw data)."""
    now = stix_now()
    obj: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": new_id("sighting"),
        "created": now,
        "modified": now,
        "sighting_of_ref": indicator_id,
        "count": count,
        "extensions": distillation_properties(
            "cluster-summary", false_positive=false_positive, anonymous=anonymous
        ),
    }
    if reporter_identity and not anonymous:
        obj["created_by_ref"] = reporter_identity
    if first_seen:
        obj["first_seen"] = first_seen
    if last_seen:
        obj["last_seen"] = last_seen
    if marking_refs:
        obj["object_marking_refs"] = list(marking_refs)
    return obj
