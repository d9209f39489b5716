"""Vectorised conversion of raw columns to the contract's canonical types.

Every conversion returns the converted column *and* a boolean mask of the rows whose value
could not be converted, so one bad value costs one row, not the file. Arrow's cast has no
"error to null" mode, so on failure: strings that cannot have the right shape are failed by
one regex pass, then the column is cast in slices and only failing slices are converted
value by value in Python. Clean data costs one cast; a column of garbage stays O(n).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_STRINGISH = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)


def is_stringish(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return is_stringish(t.value_type)
    return any(f(t) for f in _STRINGISH)


def cast_is_infallible(src: pa.DataType, dst: pa.DataType) -> bool:
    """True when every value of ``src`` converts to ``dst`` (so no row can fail).

    Readers use this to decide which columns must always be read to validate rows: a row
    is valid or not independently of the columns a caller projects.
    """
    if src == dst or pa.types.is_null(src):
        return True
    if is_stringish(dst):
        return is_stringish(src)
    if pa.types.is_timestamp(dst):
        return bool(pa.types.is_timestamp(src))
    if pa.types.is_integer(dst):
        if pa.types.is_signed_integer(src):
            return bool(src.bit_width <= dst.bit_width)
        if pa.types.is_unsigned_integer(src):
            return bool(src.bit_width < dst.bit_width)
        return False
    if pa.types.is_floating(dst):
        return bool(pa.types.is_integer(src) or pa.types.is_floating(src))
    return False


def _cast_ts_strings(arr: pa.Array, dst: pa.DataType) -> pa.Array:
    """RFC 3339 strings (``Z`` or ``+hh:mm``) to UTC; strings without an offset are
    read as UTC, like naive Parquet timestamps."""
    try:
        return pc.cast(arr, dst)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        naive = pc.cast(arr, pa.timestamp(dst.unit))
        return pc.cast(naive, dst)


def _cast_one(arr: pa.Array, dst: pa.DataType) -> pa.Array:
    src = arr.type
    if pa.types.is_timestamp(dst):
        if pa.types.is_timestamp(src):
            # Naive timestamps are UTC by contract; tz-aware ones are stored as UTC
            # instants already, so the cast only relabels. ns -> us truncates.
            return pc.cast(arr, dst, safe=False)
        if is_stringish(src):
            if pa.types.is_dictionary(src):
                arr = pc.cast(arr, pa.string())
            return _cast_ts_strings(arr, dst)
        if pa.types.is_date(src):
            return pc.cast(pc.cast(arr, pa.timestamp(dst.unit)), dst)
        raise pa.ArrowInvalid(f"{src} is not a timestamp")
    if is_stringish(dst) and not is_stringish(src) and not pa.types.is_null(src):
        raise pa.ArrowInvalid(f"{src} is not a string")
    if (pa.types.is_integer(dst) or pa.types.is_floating(dst)) and pa.types.is_boolean(src):
        raise pa.ArrowInvalid("boolean is not a number")
    return pc.cast(arr, dst)


_SLICE = 4096  # a failing cast is retried slice by slice, then value by value in Python
_INT_RANGE = {8: 1 << 7, 16: 1 << 15, 32: 1 << 31, 64: 1 << 63}


def _py_value(v: Any, dst: pa.DataType) -> Any:
    """Convert one Python value the way the vectorised cast would, or raise ValueError."""
    if pa.types.is_timestamp(dst):
        if isinstance(v, str):
            d = dt.datetime.fromisoformat(v.strip())
        elif isinstance(v, dt.datetime):
            d = v
        elif isinstance(v, dt.date):
            d = dt.datetime(v.year, v.month, v.day)
        else:
            raise ValueError(f"not a timestamp: {v!r}")
        return d.replace(tzinfo=dt.UTC) if d.tzinfo is None else d.astimezone(dt.UTC)
    if pa.types.is_integer(dst):
        if isinstance(v, bool):
            raise ValueError("boolean is not an integer")
        if isinstance(v, float):
            if not v.is_integer():
                raise ValueError(f"not an integer: {v!r}")
            v = int(v)
        i = int(v) if isinstance(v, str | int) else int(str(v))
        lim = _INT_RANGE[dst.bit_width]
        lo, hi = (-lim, lim - 1) if pa.types.is_signed_integer(dst) else (0, 2 * lim - 1)
        if not lo <= i <= hi:
            raise ValueError(f"out of range for {dst}: {i}")
        return i
    if pa.types.is_floating(dst):
        if isinstance(v, bool):
            raise ValueError("boolean is not a number")
        return float(v)
    if is_stringish(dst):
        if not isinstance(v, str):
            raise ValueError(f"not a string: {v!r}")
        return v
    raise ValueError(f"cannot convert to {dst}")


def _cast_slices(arr: pa.Array, dst: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast slice by slice; convert the values of failing slices one by one in Python
    (~1 µs each), so even a column of garbage costs O(n) with a small constant."""
    out: list[pa.Array] = []
    fail = np.zeros(len(arr), dtype=bool)
    for start in range(0, len(arr), _SLICE):
        part = arr.slice(start, _SLICE)
        try:
            out.append(_cast_one(part, dst))
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        values: list[Any] = []
        for i, v in enumerate(part.to_pylist()):
            if v is None:
                values.append(None)
                continue
            try:
                values.append(_py_value(v, dst))
            except (ValueError, TypeError, OverflowError):
                values.append(None)
                fail[start + i] = True
        out.append(pa.array(values, type=dst))
    return (pa.concat_arrays(out) if out else pa.array([], type=dst)), fail


def convert(
    col: pa.ChunkedArray | pa.Array, dst: pa.DataType
) -> tuple[pa.ChunkedArray, np.ndarray | None]:
    """Cast ``col`` to ``dst``; return the result (failures as null) and a mask of the
    failed rows, or ``None`` when no row failed."""
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], type=col.type)
    if col.type == dst:
        return col, None
    if pa.types.is_null(col.type):
        return pa.chunked_array([pa.nulls(len(col), dst)], type=dst), None
    try:
        chunks = [_cast_one(c, dst) for c in col.chunks]
        return pa.chunked_array(chunks, type=dst), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    nulls = is_null_np(col)
    if not _family_compatible(col.type, dst):
        # e.g. a list where a string belongs: every non-null value fails, no bisection
        return pa.chunked_array([pa.nulls(len(col), dst)], type=dst), ~nulls
    out, fails = [], []
    for c in col.chunks:
        c, pre = _prefilter(c, dst)
        a, f = _cast_slices(c, dst)
        out.append(a)
        fails.append(f | pre)
    fail = np.concatenate(fails) if fails else np.zeros(0, dtype=bool)
    # a null input is not a conversion failure (nullability is checked separately)
    fail &= ~nulls
    return pa.chunked_array(out, type=dst), (fail if fail.any() else None)


def _family_compatible(src: pa.DataType, dst: pa.DataType) -> bool:
    """Could *any* value of ``src`` convert to ``dst``? (Mirrors :func:`_cast_one`.)"""
    if pa.types.is_timestamp(dst):
        return bool(pa.types.is_timestamp(src) or pa.types.is_date(src) or is_stringish(src))
    if is_stringish(dst):
        return is_stringish(src)
    if pa.types.is_integer(dst) or pa.types.is_floating(dst):
        return bool(pa.types.is_integer(src) or pa.types.is_floating(src)
                    or pa.types.is_decimal(src) or is_stringish(src))
    return True


# Shapes a string must have to possibly convert. Strings that do not match are failed in
# one vectorised pass, so a column of garbage costs O(n), not O(n) single-value casts.
_INT_RE = r"^[+-]?\d+$"
_FLOAT_RE = r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan|infinity)$"
_TS_RE = (r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
          r"([Zz]|[+-]\d{2}(:?\d{2})?)?$")


def _prefilter(arr: pa.Array, dst: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    if not is_stringish(arr.type):
        return arr, np.zeros(len(arr), dtype=bool)
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, pa.string())
    if pa.types.is_timestamp(dst):
        pattern = _TS_RE
    elif pa.types.is_integer(dst):
        pattern = _INT_RE
    elif pa.types.is_floating(dst):
        pattern = _FLOAT_RE
    else:
        return arr, np.zeros(len(arr), dtype=bool)
    ok = pc.match_substring_regex(arr, pattern=pattern, ignore_case=True)
    bad = np.asarray(pc.invert(ok).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if not bad.any():
        return arr, bad
    return pc.if_else(ok, arr, pa.scalar(None, arr.type)), bad


def is_null_np(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
