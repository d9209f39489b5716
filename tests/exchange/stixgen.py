"""Small STIX objects for hub tests (built with stix2, serialised to dicts)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import stix2

from distillguard.stix import TLP_AMBER_STRICT, TLP_GREEN, TLP_RED, distillation_properties


def indicator(i: int = 0, *, marking: str | None = TLP_GREEN, **kw: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": f"proxy reseller block {i}",
        "description": "datacenter block fronting a distillation cluster",
        "pattern": f"[ipv4-addr:value ISSUBSET '10.{i // 256 % 256}.{i % 256}.0/24']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "indicator_types": ["malicious-activity"],
        "allow_custom": True,
    }
    if marking:
        props["object_marking_refs"] = [marking]
    props.update(kw)
    return json.loads(stix2.v21.Indicator(**props).serialize())


def red_indicator(recipients: list[str]) -> dict[str, Any]:
    return indicator(
        7,
        marking=TLP_RED,
        extensions=distillation_properties("network-infrastructure", recipients=recipients),
    )


def amber_strict_indicator() -> dict[str, Any]:
    return indicator(8, marking=TLP_AMBER_STRICT)


def envelope(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"objects": objs}


def new_version(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The next version of ``obj`` (same id, later ``modified``)."""
    from datetime import UTC, datetime, timedelta

    prev = datetime.strptime(obj["modified"].rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    later = max(datetime.now(UTC).replace(tzinfo=None), prev + timedelta(milliseconds=1))
    out = {**obj, **changes, "modified": later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
    return out


def random_id(stix_type: str = "indicator") -> str:
    return f"{stix_type}--{uuid.uuid4()}"
