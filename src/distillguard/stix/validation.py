"""Validate STIX 2.1 objects with the OASIS ``stix2-validator``.

Why a wrapper: the pinned ``stix2-validator`` 3.3.1 wheel on PyPI ships without its JSON
schema directory (``stix2validator/schemas-2.1`` is a git submodule that the wheel build
missed), so ``validate_instance`` raises ``SchemaInvalidError`` for every object. When the
schemas are present we call ``validate_instance`` unchanged. When they are missing we run
the validator's own MUST checks (timestamps, patterns, marking refs, uuid versions, ...)
through its check runner, and cover what the JSON schemas would have checked with a
compact transcription of them (``_schema.py``: required properties, JSON types,
identifier formats); ``deep=True`` adds a ``stix2.parse`` round trip. ``SCHEMA_MODE``
says which path is active.

Cost: the MUST checks took ~0.6 ms per indicator (ANTLR pattern parsing, dateutil,
strptime); behaviour-preserving memos below (pure functions of one string) and a check
runner without the validator's per-call ``TypeError`` probing bring that to ~21 us per
bench indicator including the schema transcription (was ~37 us before the cached
timestamp-memo eligibility, the plain-literal shape path and the reference memo in
``_schema.py``; both measured interleaved in one process at load ~5 on 2 cores).
SHOULD checks only produce warnings and are skipped unless asked for.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import GeneratorType
from typing import Any, Final

import stix2
import stix2validator
from stix2validator import ValidationOptions
from stix2validator import validator as _v
from stix2validator.util import has_cyber_observable_data as _has_observables
from stix2validator.v21 import enums as _enums21
from stix2validator.v21 import musts as _musts21

from distillguard.stix._schema import schema_errors

_SCHEMA_DIR = os.path.join(os.path.dirname(_v.__file__), "schemas-2.1", "schemas")
#: "json-schema" when the validator's bundled schemas exist, else "checks".
SCHEMA_MODE: Final = "json-schema" if os.path.isdir(_SCHEMA_DIR) else "checks"

_ID_RE: Final = re.compile(
    r"^([a-z][a-z0-9-]{0,248}[a-z0-9]|[a-z])--"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_TS_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_SCO_TYPES: Final = frozenset(
    "artifact autonomous-system directory domain-name email-addr email-message file "
    "ipv4-addr ipv6-addr mac-addr mutex network-traffic process software url user-account "
    "windows-registry-key x509-certificate".split()
)


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of validating one object: ``errors`` are the validator's reasons."""

    valid: bool
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


_VALID: Final = ValidationReport(True)


def _options(with_warnings: bool) -> ValidationOptions:
    opts = ValidationOptions(version="2.1", strict=False)
    opts.set_check_codes("2.1")
    if not with_warnings:
        opts.disabled = list(opts.disabled or [])
    return opts


class _MemoDateutil:
    """``dateutil.parser`` whose ``parse`` is memoised: identical results, each distinct
    timestamp string parsed once. The validator's ``timestamp`` MUST check spends ~100 us
    per object in dateutil, and published batches share their created/modified values."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.parse = functools.lru_cache(maxsize=65_536)(real.parse)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


if not isinstance(_musts21.parser, _MemoDateutil):
    _musts21.parser = _MemoDateutil(_musts21.parser)

# ``timestamp_compare`` (modified >= created, valid_until > valid_from, ...) turns both
# strings into datetimes with two ``strptime`` attempts each, ~25 us per object.
# ``datetime_from_str`` is a pure function of its string (it returns a datetime, or the
# string itself when neither format fits), and ``compare`` only calls it with strings,
# so memoising it returns identical values.
if not hasattr(_musts21.datetime_from_str, "cache_info"):
    _musts21.datetime_from_str = functools.lru_cache(maxsize=65_536)(_musts21.datetime_from_str)

_OPTS: Final = _options(False)


def _bind(check: Any) -> Any:
    """The check as a one-argument callable. ``_iter_errors_custom`` calls every check
    with the object alone and, when that raises ``TypeError``, again with the options:
    a raised and caught exception per two-argument check per object. Binding the options
    once up front calls exactly the same function with exactly the same arguments."""
    code = getattr(check, "__code__", None)
    if code is not None and code.co_argcount == 2 and not code.co_flags & 0x04:  # no *args
        return functools.partial(check, options=_OPTS)
    return check


def _observable_gate(check: Any) -> str | None:
    """Which ``has_cyber_observable_data`` version a ``@cyber_observable_check`` wrapper
    tests first (it returns without yielding when that is False), else None. Read from
    the wrapper's own closure, so it follows the installed validator."""
    code = getattr(check, "__code__", None)
    if code is None or code.co_name != "new_function" or check.__closure__ is None:
        return None
    cells = dict(zip(code.co_freevars, (c.cell_contents for c in check.__closure__), strict=True))
    if "version" not in cells or "requires_objects" not in cells:
        return None
    return "2.1" if cells["version"] == "2.1" and not cells["requires_objects"] else "2.0"


# Checks whose own first statement returns without yielding unless a condition on the
# object's type or keys holds, transcribed from stix2validator 3.3.1 ``v21/musts.py``
# (``if instance['type'] != 'process': return`` and the like). ``_applicable`` skips a
# check only where that first statement would have returned; wherever the condition
# holds the check runs unchanged. A check not named here always runs.
# (test_validation.py compares against the validator's own runner on every type.)
_TYPE_GUARDS: Final[dict[str, frozenset[str]]] = {
    "object_marking_circular_refs": frozenset({"marking-definition"}),
    "granular_markings_circular_refs": frozenset({"marking-definition"}),
    "language_contents": frozenset({"language-content"}),
    "uuid_version_check": frozenset(
        {"artifact", "email-message", "user-account", "windows-registry-key", "x509-certificate"}
    ),
    "process": frozenset({"process"}),
}
_KEY_GUARDS: Final[dict[str, str]] = {
    "marking_selector_syntax": "granular_markings",
    "language": "lang",
    "cpe_check": "cpe",
}
_GUARD_KEYS: Final = tuple(sorted(set(_KEY_GUARDS.values())))
# The same three keys as names, for the per-object memo key below (a generator over
# _GUARD_KEYS costs ~1.3 us more per object); unpacking fails at import if they change.
_GUARD_0, _GUARD_1, _GUARD_2 = _GUARD_KEYS
_APPLICABLE: dict[tuple[Any, ...], list[Any]] = {}


def _check_name(check: Any) -> str:
    return str(getattr(getattr(check, "func", check), "__name__", ""))


def _applicable(instance: Mapping[str, Any], checks: list[Any]) -> list[Any]:
    """The checks of ``checks`` that can yield anything for ``instance`` (see above),
    in their original order; cached per (check list, type, which guard keys exist)."""
    stix_type = instance.get("type")
    key = (id(checks), stix_type, *(k in instance for k in _GUARD_KEYS))
    found = _APPLICABLE.get(key)
    if found is None:
        present = {k for k in _GUARD_KEYS if k in instance}
        found = []
        for check in checks:
            name = _check_name(check)
            if name in _TYPE_GUARDS and stix_type not in _TYPE_GUARDS[name]:
                continue
            if name in _KEY_GUARDS and _KEY_GUARDS[name] not in present:
                continue
            found.append(check)
        if isinstance(stix_type, str) and len(_APPLICABLE) < 4096:
            _APPLICABLE[key] = found
    return found


def _iter_errors(instance: Mapping[str, Any], checks: list[Any]) -> Any:
    """``stix2validator.validator._iter_errors_custom`` with the checks pre-bound:
    same checks, same order, same recursion into embedded STIX objects. Checks whose
    first statement would return at once for this object (``_applicable``, and the
    observable-only gates) are not entered."""
    observable: dict[str, bool] = {}
    for check in _applicable(instance, checks):
        gate = _GATES.get(id(check))
        if gate is not None:
            if gate not in observable:
                observable[gate] = _has_observables(instance, version=gate)
            if not observable[gate]:
                continue
        result = check(instance)
        if type(result) is GeneratorType or isinstance(result, Iterable):  # (skip ABC check)
            yield from result
        elif result is not None:
            yield result
    for field in instance:
        if type(instance[field]) is list:
            for child in instance[field]:
                if _v._is_stix_obj(child):
                    yield from _iter_errors(child, checks)


_MUSTS: Final = _v._get_musts(_OPTS)
_SHOULDS: Final = _v._get_shoulds(_OPTS)
_PATTERN_MUSTS: Final = [_bind(f) for f in _MUSTS if f.__name__ == "patterns"]
_OTHER_MUSTS: Final = [_bind(f) for f in _MUSTS if f.__name__ != "patterns"]
_GATES: Final = {
    id(f): gate for f in _PATTERN_MUSTS + _OTHER_MUSTS if (gate := _observable_gate(f))
}

# Pattern verdict memo. Parsing a STIX pattern (ANTLR) is ~90% of validation time, and
# the validator's pattern check depends only on the pattern's token structure, object
# types and property paths -- never on the text inside plain '...' string literals. So a
# pattern whose plain literals are blanked out ("shape") that validated once validates
# again. Only valid shapes are remembered; patterns with backslashes (escapes) or
# MATCHES (regex literals) are always parsed in full; t'', b'' and h'' literals are kept
# in the shape verbatim because the grammar checks their contents.
_LITERAL: Final = re.compile(r"([tbh]?)'([^']*)'")
# Without any t'' b'' h'' literal (no "t'", "b'" or "h'" in the text) every _LITERAL
# match has an empty prefix and becomes '', so this plain substitution (no Python
# callback per literal) gives the same shape.
_PLAIN_LITERAL: Final = re.compile(r"'[^']*'")
_VALID_SHAPES: dict[tuple[str, str], None] = {}
_MAX_SHAPES: Final = 65_536


def _pattern_shape(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    pattern = obj.get("pattern")
    if (
        obj.get("type") != "indicator"
        or obj.get("pattern_type") != "stix"
        or not isinstance(pattern, str)
        or "\\" in pattern
        or "MATCHES" in pattern
    ):
        return None
    if "t'" in pattern or "b'" in pattern or "h'" in pattern:
        shape = _LITERAL.sub(lambda m: m.group(0) if m.group(1) else "''", pattern)
    else:
        shape = _PLAIN_LITERAL.sub("''", pattern)
    return shape, str(obj.get("pattern_version", obj.get("spec_version", "2.1")))


def _run(obj: Mapping[str, Any], checks: list[Any]) -> list[str]:
    return [_v.pretty_error(e, False) for e in _iter_errors(obj, checks)]


# Timestamp verdict memo, the same idea as the pattern memo above. For an object that
# is not (and carries no) cyber-observable data, embeds no STIX object and has none of
# the guard keys, the only applicable non-pattern MUST checks are ``timestamp`` and
# ``timestamp_compare`` (read off ``_applicable``, not assumed), and both read nothing
# but the type and the timestamp properties the validator's own tables name for it
# (``enums.TIMESTAMP_PROPERTIES`` / ``TIMESTAMP_COMPARE``); ``id`` is read only to word
# an error. So a (type, those values) key that passed once passes again. Only passing
# keys are remembered; anything else runs the checks.
_ONLY_TIMESTAMP_CHECKS: Final = frozenset({"timestamp", "timestamp_compare"})
_VALID_TIMESTAMPS: dict[tuple[Any, ...], None] = {}
_TS_PROPS: dict[str, tuple[str, ...]] = {}


def _timestamp_props(stix_type: str) -> tuple[str, ...]:
    props = _TS_PROPS.get(stix_type)
    if props is None:
        names = {"created", "modified", *_enums21.TIMESTAMP_PROPERTIES.get(stix_type, ())}
        for first, _op, second in _enums21.TIMESTAMP_COMPARE.get(stix_type, ()):
            names.update((first, second))
        props = _TS_PROPS[stix_type] = tuple(sorted(names))
    return props


# Whether an object's applicable checks (``_applicable``, keyed the same way) and its
# observable status leave only the timestamp checks. Both are functions of the type and
# of which guard keys exist, except ``has_cyber_observable_data`` for observed-data
# (it also reads ``objects``), which is never cached.
_TS_ELIGIBLE: dict[tuple[Any, ...], bool] = {}


def _timestamp_eligible(obj: Mapping[str, Any], stix_type: str) -> bool:
    key = (stix_type, _GUARD_0 in obj, _GUARD_1 in obj, _GUARD_2 in obj)  # (_GUARD_KEYS order)
    found = _TS_ELIGIBLE.get(key)
    if found is not None:
        return found
    found = all(
        id(check) in _GATES or _check_name(check) in _ONLY_TIMESTAMP_CHECKS
        for check in _applicable(obj, _OTHER_MUSTS)
    ) and not (_has_observables(obj, version="2.1") or _has_observables(obj, version="2.0"))
    if stix_type != "observed-data" and len(_TS_ELIGIBLE) < 4096:
        _TS_ELIGIBLE[key] = found
    return found


def _timestamp_key(obj: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The memo key of ``obj``'s timestamp checks, or None when it is not eligible."""
    stix_type = obj.get("type")
    if not isinstance(stix_type, str) or not _timestamp_eligible(obj, stix_type):
        return None
    for value in obj.values():
        if type(value) is list:
            for child in value:
                # _v._is_stix_obj, inlined: embedded objects are checked too, run in full
                if isinstance(child, dict) and "id" in child and "type" in child:
                    return None
    props = _TS_PROPS.get(stix_type) or _timestamp_props(stix_type)
    values = tuple([obj.get(p) for p in props])
    for v in values:
        if v is not None and type(v) is not str:
            return None
    return (stix_type, *values)


def _must_errors(obj: Mapping[str, Any]) -> list[str]:
    shape = _pattern_shape(obj)
    ts_key = _timestamp_key(obj)
    if ts_key is not None and ts_key in _VALID_TIMESTAMPS:
        errors: list[str] = []
    else:
        errors = _run(obj, _OTHER_MUSTS)
        if ts_key is not None and not errors and len(_VALID_TIMESTAMPS) < _MAX_SHAPES:
            _VALID_TIMESTAMPS[ts_key] = None
    if shape is not None and shape in _VALID_SHAPES:
        return errors
    pattern_errors = _run(obj, _PATTERN_MUSTS)
    if shape is not None and not pattern_errors and len(_VALID_SHAPES) < _MAX_SHAPES:
        _VALID_SHAPES[shape] = None
    return errors + pattern_errors


@functools.lru_cache(maxsize=65_536)
def _good_timestamp(value: str) -> bool:
    """RFC 3339 UTC form and a real calendar date (one memo for both: published objects
    share their timestamps, so the regex and strptime run once per distinct value)."""
    if not _TS_RE.fullmatch(value):
        return False
    try:
        datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def _common_errors(obj: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    stix_type = obj.get("type")
    stix_id = obj.get("id")
    if not isinstance(stix_type, str) or not stix_type:
        return ["'type' must be a non-empty string"]
    # STIX 2.1 (3.1): a property is present with a value or absent, never null. Checked
    # first so a null cannot slip past the optional-property checks below into the store
    # (PostgreSQL's NOT NULL columns turned a null spec_version into a 500).
    for value in obj.values():  # (identity tests only: no __eq__ of odd values runs)
        if value is None:
            nulls = sorted(k for k, v in obj.items() if v is None)
            errors.append(f"properties must not be null: {', '.join(map(repr, nulls))}")
            break
    if not isinstance(stix_id, str) or not _ID_RE.fullmatch(stix_id):
        errors.append("'id' must match <object-type>--<UUID> (lowercase ASCII)")
    elif stix_id.split("--", 1)[0] != stix_type:
        errors.append(f"'id' prefix must equal the object's type '{stix_type}'")
    if obj.get("spec_version") not in (None, "2.1") or (
        "spec_version" not in obj and stix_type not in _SCO_TYPES
    ):
        errors.append("'spec_version' must be '2.1'")
    for prop in ("created", "modified", "valid_from", "valid_until", "first_seen", "last_seen"):
        value = obj.get(prop)
        if value is not None and (
            not isinstance(value, str) or not _good_timestamp(value)
        ):
            errors.append(f"'{prop}' must be an RFC 3339 UTC timestamp like 2024-01-01T00:00:00Z")
    confidence = obj.get("confidence")
    if confidence is not None and (
        not isinstance(confidence, int) or isinstance(confidence, bool) or not 0 <= confidence <= 100
    ):
        errors.append("'confidence' must be an integer in [0, 100]")
    if stix_type not in _SCO_TYPES and stix_type != "marking-definition" and "created" not in obj:
        errors.append("'created' is required")
    return errors


def validate_stix(obj: Any, *, with_warnings: bool = False, deep: bool = False) -> ValidationReport:
    """Validate one STIX 2.1 object (a parsed JSON dict). Never raises for bad input.

    ``deep`` also builds the object with ``stix2.parse`` (~150 us more per object; the
    hub's ingest path leaves it off, tests and audits turn it on).
    """
    if not isinstance(obj, dict):
        return ValidationReport(False, ("a STIX object must be a JSON object",))
    common = _common_errors(obj)
    if common:
        return ValidationReport(False, tuple(common))
    try:
        if SCHEMA_MODE == "json-schema":  # pragma: no cover - depends on the installed wheel
            result = stix2validator.validate_instance(obj, _OPTS)
            errors = [str(e) for e in result.errors]
            warnings = [str(w) for w in result.warnings] if with_warnings else []
        else:
            errors = _must_errors(obj)
            warnings = (
                [_v.pretty_error(w, False) for w in _v._iter_errors_custom(obj, _SHOULDS, _OPTS)]
                if with_warnings
                else []
            )
            if not errors:
                errors = schema_errors(obj)
            if not errors and deep:
                # The pattern was checked above; stop stix2 from parsing it a third time.
                shadow = {**obj, "pattern_type": "sigma"} if "pattern" in obj else obj
                try:
                    stix2.parse(shadow, allow_custom=True, version="2.1")
                except Exception as exc:  # stix2 raises many types; all mean "invalid"
                    errors.append(str(exc))
    except Exception as exc:  # the validator itself crashed on hostile input
        errors, warnings = [f"validator could not process the object: {type(exc).__name__}"], []
    if not errors and not warnings:
        return _VALID  # (frozen, all-tuple fields: one shared instance is the same value)
    return ValidationReport(not errors, tuple(errors), tuple(warnings))
