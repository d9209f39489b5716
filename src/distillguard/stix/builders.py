"""Indicator builders for the signals the sharing side publishes (issue 7 uses these).

Patterns use STIX patterning over custom observable types, so ordinary TAXII/STIX tools
can store and display them, while the meaning (and the key context needed to match)
lives in the distillation extension:

    [x-distillguard-account:hmac_sha256 IN ('<hex>', ...)]      hashed account ids
    [x-distillguard-payment:hmac_sha256 IN (...)]               hashed payment fingerprints
    [x-distillguard-email:hmac_sha256 IN (...)]                 hashed e-mail domains/addresses
    [ipv4-addr:value ISSUBSET '203.0.113.0/24' OR ...]          raw proxy/datacenter blocks
    [x-distillguard-template:sketch_id = '<id>']                a keyed template sketch

All builders return plain dicts that pass ``validate_stix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distillguard.stix.extension import (
    distillation_properties,
    keyed_hashes,
    new_id,
    stix_now,
    template_sketch,
)
from distillguard.stix.markings import MARKING_ID_OF_LEVEL

_HASHED_TYPES = {
    "model-api-account": "x-distillguard-account",
    "payment-fingerprint": "x-distillguard-payment",
    "email-domain": "x-distillguard-email",
}


def _base(
    name: str,
    description: str,
    pattern: str,
    *,
    tlp: str,
    confidence: int | None,
    created_by: str | None,
    valid_until: str | None,
    extensions: dict[str, Any],
) -> dict[str, Any]:
    now = stix_now()
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": new_id("indicator"),
        "created": now,
        "modified": now,
        "name": name,
        "description": description,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": now,
        "object_marking_refs": [MARKING_ID_OF_LEVEL[tlp]],
        "extensions": extensions,
    }
    if confidence is not None:
        obj["confidence"] = confidence
    if created_by:
        obj["created_by_ref"] = created_by
    if valid_until:
        obj["valid_until"] = valid_until
    return obj


def hashed_identifier_indicator(
    signal_type: str,
    digests: Sequence[str],
    *,
    key_id: str,
    epoch: str,
    name: str,
    description: str = "keyed hashes of identifiers tied to a distillation campaign",
    tlp: str = "amber",
    confidence: int | None = None,
    created_by: str | None = None,
    valid_until: str | None = None,
    recipients: Sequence[str] | None = None,
    **extension_fields: Any,
) -> dict[str, Any]:
    """Indicator over HMAC-SHA256 digests (64 lowercase hex) of customer identifiers."""
    sco = _HASHED_TYPES.get(signal_type)
    if sco is None:
        raise ValueError(f"signal_type must be one of {sorted(_HASHED_TYPES)}")
    hashes = keyed_hashes(digests, key_id=key_id, epoch=epoch)
    values = ", ".join(f"'{d}'" for d in hashes["values"])
    ext = distillation_properties(
        signal_type, hashes=hashes, recipients=recipients, **extension_fields
    )
    return _base(
        name, description, f"[{sco}:hmac_sha256 IN ({values})]",
        tlp=tlp, confidence=confidence, created_by=created_by, valid_until=valid_until,
        extensions=ext,
    )


def template_sketch_indicator(
    sketch_id: str,
    hashvalues: Sequence[int],
    *,
    key_id: str,
    epoch: str,
    name: str,
    description: str = "keyed similarity sketch of a prompt-template family (no text)",
    tlp: str = "amber",
    confidence: int | None = None,
    created_by: str | None = None,
    valid_until: str | None = None,
    **extension_fields: Any,
) -> dict[str, Any]:
    """Indicator carrying a keyed MinHash sketch of a prompt-template family."""
    if not sketch_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError("sketch_id must be alphanumeric (with - or _)")
    ext = distillation_properties(
        "prompt-template",
        sketch=template_sketch(hashvalues, key_id=key_id, epoch=epoch),
        **extension_fields,
    )
    return _base(
        name, description, f"[x-distillguard-template:sketch_id = '{sketch_id}']",
        tlp=tlp, confidence=confidence, created_by=created_by, valid_until=valid_until,
        extensions=ext,
    )


def network_indicator(
    cidrs: Sequence[str],
    *,
    name: str,
    description: str = "proxy / datacenter infrastructure used by a distillation campaign",
    tlp: str = "green",
    confidence: int | None = None,
    created_by: str | None = None,
    valid_until: str | None = None,
) -> dict[str, Any]:
    """Indicator over raw infrastructure blocks (only when the sharing policy allows)."""
    if not cidrs:
        raise ValueError("at least one CIDR block is required")
    parts = " OR ".join(
        f"[{'ipv6-addr' if ':' in c else 'ipv4-addr'}:value ISSUBSET '{c}']" for c in cidrs
    )
    ext = distillation_properties("network-infrastructure")
    return _base(
        name, description, parts,
        tlp=tlp, confidence=confidence, created_by=created_by, valid_until=valid_until,
        extensions=ext,
    )
