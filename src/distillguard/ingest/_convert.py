"""Vectorised conversion of raw columns to the contract's canonical types.

Every conversion returns the converted column *and* a boolean mask of the rows whose value
could not be converted, so one bad value costs one row, not the file. Arrow's cast has no
"error to null" mode, so on failure we bisect: cast each half again until the failing values
are isolated. The cost is O(k log n) casts for k bad values, i.e. nothing on clean data.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_STRINGISH = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_LEAF = 64  # below this many values, find failures one value at a time


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


def _cast_bisect(arr: pa.Array, dst: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    try:
        return _cast_one(arr, dst), np.zeros(len(arr), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    n = len(arr)
    if n <= _LEAF:
        out: list[pa.Array] = []
        fail = np.zeros(n, dtype=bool)
        for i in range(n):
            one = arr.slice(i, 1)
            try:
                out.append(_cast_one(one, dst))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                out.append(pa.nulls(1, dst))
                fail[i] = True
        return pa.concat_arrays(out), fail
    mid = n // 2
    a, fa = _cast_bisect(arr.slice(0, mid), dst)
    b, fb = _cast_bisect(arr.slice(mid), dst)
    return pa.concat_arrays([a, b]), np.concatenate([fa, fb])


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
    out, fails = [], []
    for c in col.chunks:
        a, f = _cast_bisect(c, dst)
        out.append(a)
        fails.append(f)
    fail = np.concatenate(fails) if fails else np.zeros(0, dtype=bool)
    # a null input is not a conversion failure (nullability is checked separately)
    fail &= ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return pa.chunked_array(out, type=dst), (fail if fail.any() else None)


def is_null_np(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
