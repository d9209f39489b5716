"""A compact stand-in for the STIX 2.1 JSON schemas the pinned validator wheel lacks.

Required properties per type and the JSON types of the common properties, transcribed
from the STIX 2.1 specification (sections 3-7). It is deliberately small: the OASIS
validator's own MUST checks still run on every object; this covers what its schemas
would have added (missing required properties, wrong JSON types, malformed references).
``validate_stix(..., deep=True)`` additionally round-trips through ``stix2.parse``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

_REF: Final = re.compile(
    r"[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)

REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "extension-definition": ("name", "schema", "version", "extension_types", "created_by_ref"),
    "language-content": ("object_ref", "contents"),
}
_SDO_SRO: Final = frozenset(REQUIRED) | {"location", "marking-definition"}

_STRINGS: Final = (
    "name", "description", "pattern", "pattern_type", "pattern_version", "context",
    "content", "opinion", "relationship_type", "schema", "version", "lang",
)
_STRING_LISTS: Final = (
    "labels", "indicator_types", "malware_types", "tool_types", "threat_actor_types",
    "infrastructure_types", "report_types", "aliases", "roles", "goals", "extension_types",
    "sectors", "authors",
)
_BOOLS: Final = ("revoked", "is_family", "summary")
_INTS: Final = {"confidence": (0, 100), "count": (0, 999_999_999), "number_observed": (1, 999_999_999)}


# Per-property rule for the one-pass pre-check below (same rules as schema_errors).
_KIND: Final[dict[str, str]] = {
    **{p: "str" for p in _STRINGS},
    **{p: "strlist" for p in _STRING_LISTS},
    **{p: "bool" for p in _BOOLS},
    **{p: "int" for p in _INTS},
    **{p: "dictlist" for p in ("external_references", "granular_markings", "kill_chain_phases")},
    "extensions": "ext",
    "object_marking_refs": "markings",
    # Properties schema_errors has no rule for (validate_stix checks them before this
    # runs): named here so the loop below skips its _ref/_refs suffix tests for them.
    **{p: "free" for p in ("type", "id", "spec_version", "created", "modified",
                            "valid_from", "valid_until", "first_seen", "last_seen")},
}


# Identifiers that passed ``_REF`` (a pure function of the string): marking refs and
# other references repeat across a publisher's objects, so each distinct one is matched
# once. Bounded; a string not remembered is simply matched again.
_GOOD_REFS: dict[str, None] = {}
_MAX_GOOD_REFS: Final = 65_536


def _is_ref(value: Any) -> bool:
    """``isinstance(value, str) and _REF.fullmatch(value)``, memoised for passing strings."""
    if not isinstance(value, str):
        return False
    exact = type(value) is str  # (a str subclass could hash or compare differently)
    if exact and value in _GOOD_REFS:
        return True
    if _REF.fullmatch(value) is None:
        return False
    if exact and len(_GOOD_REFS) < _MAX_GOOD_REFS:
        _GOOD_REFS[value] = None
    return True


def _nonempty_list_of(value: Any, ok: Callable[[Any], bool]) -> bool:
    """``value`` is a non-empty list and every item passes ``ok``."""
    return isinstance(value, list) and bool(value) and all(ok(v) for v in value)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _is_marking_ref(v: Any) -> bool:
    return _is_ref(v) and v.startswith("marking-definition--")


def _surely_fine(obj: Mapping[str, Any]) -> bool:
    """One pass over the object's own properties instead of ~40 lookups of properties
    it may not have. True only when ``schema_errors`` would find nothing; anything
    doubtful answers False and the full check below runs (and words the errors)."""
    stix_type = obj["type"]
    if stix_type == "marking-definition":
        return False
    if stix_type in _SDO_SRO and "modified" not in obj:
        return False
    for p in REQUIRED.get(stix_type, ()):
        if p not in obj:
            return False
    kinds = _KIND
    for prop, value in obj.items():
        kind = kinds.get(prop)
        if kind == "free":
            continue
        if kind == "str":
            if not isinstance(value, str):
                return False
        elif kind is None:
            if prop.endswith("_ref"):
                if not _is_ref(value):
                    return False
            elif prop.endswith("_refs") and not _nonempty_list_of(value, _is_ref):
                return False
        elif kind == "strlist":
            if value is not None and not _nonempty_list_of(value, _is_str):
                return False
        elif kind == "markings":  # object_marking_refs: a _refs list of marking-definition ids
            if not _nonempty_list_of(value, _is_marking_ref):
                return False
        elif kind == "bool":
            if not isinstance(value, bool):
                return False
        elif kind == "int":
            lo, hi = _INTS[prop]
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
            ):
                return False
        elif kind == "dictlist":
            if value is not None and not _nonempty_list_of(value, _is_dict):
                return False
        else:  # "ext"
            if value is not None and not (
                isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
            ):
                return False
    return True


def schema_errors(obj: Mapping[str, Any]) -> list[str]:
    """Problems the STIX 2.1 JSON schemas would report for ``obj`` (empty when fine)."""
    if _surely_fine(obj):
        return []
    errors: list[str] = []
    stix_type = obj["type"]
    if stix_type in _SDO_SRO and "modified" not in obj and stix_type != "marking-definition":
        errors.append("'modified' is required")
    missing = [p for p in REQUIRED.get(stix_type, ()) if p not in obj]
    if missing:
        errors.append(f"missing required properties: {', '.join(missing)}")
    for prop in _STRINGS:
        if prop in obj and not isinstance(obj[prop], str):
            errors.append(f"'{prop}' must be a string")
    for prop in _STRING_LISTS:
        value = obj.get(prop)
        if value is not None and (
            not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
        ):
            errors.append(f"'{prop}' must be a non-empty list of strings")
    for prop in _BOOLS:
        if prop in obj and not isinstance(obj[prop], bool):
            errors.append(f"'{prop}' must be a boolean")
    for prop, (lo, hi) in _INTS.items():
        value = obj.get(prop)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi
        ):
            errors.append(f"'{prop}' must be an integer in [{lo}, {hi}]")
    for prop, value in obj.items():
        if prop.endswith("_ref"):
            if not isinstance(value, str) or not _REF.fullmatch(value):
                errors.append(f"'{prop}' must be a STIX identifier")
        elif prop.endswith("_refs"):
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and _REF.fullmatch(v) for v in value)
            ):
                errors.append(f"'{prop}' must be a non-empty list of STIX identifiers")
    if "object_marking_refs" in obj and isinstance(obj["object_marking_refs"], list):
        if not all(
            isinstance(r, str) and r.startswith("marking-definition--")
            for r in obj["object_marking_refs"]
        ):
            errors.append("'object_marking_refs' may only reference marking-definitions")
    for prop in ("external_references", "granular_markings", "kill_chain_phases"):
        value = obj.get(prop)
        if value is not None and (
            not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value)
        ):
            errors.append(f"'{prop}' must be a non-empty list of objects")
    ext = obj.get("extensions")
    if ext is not None and (not isinstance(ext, dict) or not all(isinstance(v, dict) for v in ext.values())):
        errors.append("'extensions' must map extension ids to objects")
    if stix_type == "marking-definition" and "extensions" not in obj and not (
        isinstance(obj.get("definition_type"), str) and isinstance(obj.get("definition"), dict)
    ):
        errors.append("marking-definition needs definition_type and definition, or extensions")
    return errors
