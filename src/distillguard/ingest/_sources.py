"""Raw readers: stream a table file as Arrow tables in the file's own types.

Parquet is read a few row groups at a time with column projection. JSONL (plain or gzip,
inflated by ISA-L in a prefetch thread) is cut into newline-aligned chunks of 16 MiB and
parsed by ``pyarrow.json`` (C++, multi-threaded): first strictly with the contract's raw
types, then leniently (numbers inferred, e.g. "12"). When a chunk still fails, it is split
into ~64 parts that are retried; only failing parts are decoded line by line in Python
(orjson), so a malformed line is pinned to its line number and byte offset and the good
lines around it survive. Nothing here ever holds a whole file as Python objects."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq

from distillguard.ingest._errors import ContractError, UnreadableInputError
from distillguard.ingest.dataset import DataFile
from distillguard.ingest.schema import Table

CHUNK_BYTES = 16 << 20
_PARSE_BLOCK = 1 << 20
_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 13, 32]] = True
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_INT_STR = re.compile(r"[+-]?[0-9]+\Z")

Locator = Callable[[np.ndarray], tuple[list[int], list[int | None], list[Any]]]
#: Called with the absolute progress: rows for Parquet, on-disk bytes for JSONL.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Rejected:
    """A row rejected before it became part of an Arrow table (JSON-level problems)."""

    row: int
    offset: int | None
    field: str | None
    reason: str
    message: str
    record: Any


@dataclass
class RawChunk:
    """A piece of a file as one or more Arrow tables in the file's own types (parts may
    differ in types: each is converted on its own), each with a way to find a row's
    origin, plus the rows rejected before they could become Arrow rows."""

    parts: list[tuple[pa.Table, Locator]]  # locator: row indices -> (rows, offsets, records)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return sum(t.num_rows for t, _ in self.parts)


# ---------------------------------------------------------------------------- parquet
def _wrap(exc: Exception, path: Path, what: str) -> UnreadableInputError:
    return UnreadableInputError(f"{what}: {exc}", path=path)


def parquet_schema(f: DataFile) -> pa.Schema:
    """The table's schema; for a directory every part must have the same columns."""
    schema: pa.Schema | None = None
    for part in f.parts:
        try:
            got = pq.read_schema(part)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for corrupt files
            raise _wrap(exc, part, "cannot read Parquet file (corrupt or not Parquet)") from exc
        if schema is None:
            schema = got
        elif not got.equals(schema):
            raise UnreadableInputError(
                f"part file's columns differ from {f.parts[0].name}'s ({got.names} vs "
                f"{schema.names}); every part of a table needs the same schema", path=part)
    assert schema is not None  # a DataFile has at least one part (dataset._find)
    return schema


def _parquet_tables(pf: pq.ParquetFile, columns: list[str], batch_rows: int) -> Iterator[pa.Table]:
    """Read whole row groups, several at a time up to ~batch_rows rows: ``read_row_groups``
    decodes columns in parallel and is ~2x faster than ``iter_batches``. A row group much
    larger than ``batch_rows`` is streamed with ``iter_batches`` to bound memory."""
    md = pf.metadata
    group: list[int] = []
    rows = 0
    for i in range(md.num_row_groups):
        n = md.row_group(i).num_rows
        if n > 2 * batch_rows:
            if group:
                yield pf.read_row_groups(group, columns=columns, use_threads=True)
                group, rows = [], 0
            for b in pf.iter_batches(batch_size=batch_rows, row_groups=[i], columns=columns,
                                     use_threads=True):
                yield pa.Table.from_batches([b])
            continue
        if group and rows + n > batch_rows:
            yield pf.read_row_groups(group, columns=columns, use_threads=True)
            group, rows = [], 0
        group.append(i)
        rows += n
    if group:
        yield pf.read_row_groups(group, columns=columns, use_threads=True)


def iter_parquet(f: DataFile, columns: list[str], batch_rows: int,
                 progress: Progress | None = None) -> Iterator[RawChunk]:
    """Yield raw chunks of the projected ``columns`` (all must exist in the file); the
    parts of a directory one after the other, row numbers counted across them."""
    base = 0
    for part in f.parts:
        for table in _part_tables(part, columns, batch_rows, base):
            yield RawChunk(parts=[(table, _locator(table, base))])
            base += table.num_rows
            if progress is not None:
                progress(base)


def _part_tables(part: Path, columns: list[str], batch_rows: int, base: int
                 ) -> Iterator[pa.Table]:
    try:
        pf = pq.ParquetFile(part)
        tables = _parquet_tables(pf, columns, batch_rows)
    except Exception as exc:
        raise _wrap(exc, part, "cannot open Parquet file (corrupt or not Parquet)") from exc
    while True:
        try:
            table = next(tables)
        except StopIteration:
            return
        except Exception as exc:
            raise UnreadableInputError(f"cannot read Parquet data (corrupt or truncated): {exc}",
                                       path=part, row=base + 1) from exc
        yield table
        base += table.num_rows


def _locator(table: pa.Table, base: int) -> Locator:
    """Row numbers (1-based, counted across a directory's parts) and records of ``idx``."""

    def locate(idx: np.ndarray) -> tuple[list[int], list[int | None], list[Any]]:
        rows = [int(i) + base + 1 for i in idx]
        recs = table.take(pa.array(idx, type=pa.int64())).to_pylist() if len(idx) else []
        return rows, [None] * len(rows), recs

    return locate


# ---------------------------------------------------------------------------- jsonl
def jsonl_raw_schema(spec: Table) -> pa.Schema:
    """Types pyarrow.json can parse without guessing: timestamps stay strings (parsed
    later, vectorised, with offsets), every int is int64 (narrowed later, with checks)."""
    fields = []
    for c in spec.columns:
        t = c.type
        if pa.types.is_timestamp(t):
            t = pa.string()
        elif pa.types.is_integer(t):
            t = pa.int64()
        fields.append(pa.field(c.name, t))
    return pa.schema(fields)


class _PieceLocator:
    """Maps row i of a successfully parsed piece to its line, offset and text, lazily:
    line positions are only computed when some row of the piece is rejected later."""

    def __init__(self, piece: bytes, line0: int, off0: int) -> None:
        self.piece, self.line0, self.off0 = piece, line0, off0
        self._idx: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _lines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._idx is None:
            b = np.frombuffer(self.piece, dtype=np.uint8)
            nl = np.flatnonzero(b == 10)
            starts = np.concatenate([[0], nl + 1])
            ends = np.concatenate([nl, [len(b)]])
            cs = np.concatenate([[0], np.cumsum(~_WS[b], dtype=np.int64)])
            nonblank = (cs[ends] - cs[starts]) > 0
            line_no = np.flatnonzero(nonblank)
            self._idx = (line_no, starts[nonblank], ends[nonblank])
        return self._idx

    def __call__(self, idx: np.ndarray) -> tuple[list[int], list[int | None], list[Any]]:
        line_no, starts, ends = self._lines()
        rows = [int(self.line0 + line_no[i]) for i in idx]
        offs: list[int | None] = [int(self.off0 + starts[i]) for i in idx]
        recs = [self.piece[starts[i]:ends[i]].decode("utf-8", "replace") for i in idx]
        return rows, offs, recs


class _ListLocator:
    def __init__(self, rows: list[int], offs: list[int], recs: list[Any]) -> None:
        self.rows, self.offs, self.recs = rows, offs, recs

    def __call__(self, idx: np.ndarray) -> tuple[list[int], list[int | None], list[Any]]:
        return ([self.rows[i] for i in idx], [self.offs[i] for i in idx],
                [self.recs[i] for i in idx])


def _coerce(v: Any, kind: str) -> Any:
    """``v`` as raw JSON kind ``s``/``i``/``f``; raises ValueError with the reason.

    Numeric strings ("12", as BigQuery exports INT64) are accepted for numbers, like the
    vectorised string->number cast accepts them in Parquet."""
    if v is None:
        return None
    if kind == "s":
        if isinstance(v, str):
            return v
        raise ValueError(f"expected a string, got {v!r}")
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {v!r}")
    if kind == "i":
        if isinstance(v, str) and _INT_STR.match(v) or isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, int):
            if _INT64_MIN <= v <= _INT64_MAX:
                return v
            raise ValueError(f"integer out of range: {v!r}")
        raise ValueError(f"expected an integer, got {v!r}")
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            pass
    raise ValueError(f"expected a number, got {v!r}")


def _line_path(piece: bytes, line0: int, off0: int, schema: pa.Schema,
               ts_fields: frozenset[str]) -> tuple[pa.Table, Locator, list[Rejected]]:
    """Decode a handful of lines one by one: find exactly which line and field is bad."""
    rows: list[dict[str, Any]] = []
    kept_rows: list[int] = []
    kept_offs: list[int] = []
    kept_recs: list[Any] = []
    rejected: list[Rejected] = []
    kinds = [(f.name, "s" if pa.types.is_string(f.type) else
              "i" if pa.types.is_integer(f.type) else "f") for f in schema]
    pos = 0
    for i, line in enumerate(piece.split(b"\n")):
        off = off0 + pos
        pos += len(line) + 1
        if not line.strip():
            continue
        text = line.decode("utf-8", "replace")
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            rejected.append(Rejected(line0 + i, off, None, "malformed_json", str(exc), text))
            continue
        if not isinstance(obj, dict):
            rejected.append(Rejected(line0 + i, off, None, "not_an_object",
                                     f"expected a JSON object, got {type(obj).__name__}", text))
            continue
        bad = False
        row: dict[str, Any] = {}
        for name, kind in kinds:
            v = obj.get(name)
            try:
                row[name] = _coerce(v, kind)
            except ValueError as exc:
                if name in ts_fields:
                    reason, msg = "bad_timestamp", f"expected an RFC 3339 string, got {v!r}"
                else:
                    reason, msg = "wrong_type", str(exc)
                rejected.append(Rejected(line0 + i, off, name, reason, msg, text))
                bad = True
                break
        if not bad:
            rows.append(row)
            kept_rows.append(line0 + i)
            kept_offs.append(off)
            kept_recs.append(text)
    table = pa.Table.from_pylist(rows, schema=schema)
    return table, _ListLocator(kept_rows, kept_offs, kept_recs), rejected


_SUBPIECES = 64


class _ArrowParser:
    """Strict parse with the contract's raw types, else a lenient one: string columns
    still explicit, numbers inferred (so "12" or 1.0 survive as string/double and are
    converted, value by value, like Parquet columns). Once a file needed the lenient parse
    (e.g. a BigQuery export, INT64 as strings), it is tried first for the next chunks."""

    def __init__(self, schema: pa.Schema) -> None:
        self.strict = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        strings = pa.schema([f for f in schema if pa.types.is_string(f.type)])
        self.lenient = pj.ParseOptions(explicit_schema=strings, unexpected_field_behavior="infer")
        self.names = schema.names
        self.lenient_first = False
        self.read = pj.ReadOptions(use_threads=True, block_size=_PARSE_BLOCK)

    def _parse(self, piece: bytes, lenient: bool) -> pa.Table | None:
        try:
            t = pj.read_json(pa.BufferReader(piece), read_options=self.read,
                             parse_options=self.lenient if lenient else self.strict)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
        return t.select([n for n in self.names if n in t.column_names]) if lenient else t

    def __call__(self, piece: bytes) -> pa.Table | None:
        first = self.lenient_first
        t = self._parse(piece, first)
        if t is None:
            t = self._parse(piece, not first)
            if t is not None:
                self.lenient_first = not first
        return t


def _split(piece: bytes, n: int) -> list[tuple[bytes, int, int]]:
    """Cut ``piece`` into about ``n`` newline-aligned parts: (part, lines before, bytes before)."""
    step = max(1, len(piece) // n)
    parts: list[tuple[bytes, int, int]] = []
    pos, lines = 0, 0
    while pos < len(piece):
        cut = piece.find(b"\n", pos + step)
        end = len(piece) if cut < 0 else cut + 1
        part = piece[pos:end]
        parts.append((part, lines, pos))
        lines += part.count(b"\n")
        pos = end
    return parts


def _parse_piece(piece: bytes, line0: int, off0: int, parser: _ArrowParser, schema: pa.Schema,
                 ts_fields: frozenset[str],
                 out: list[tuple[pa.Table, Locator]], rejected: list[Rejected]) -> None:
    """Parse a piece with pyarrow; if it fails, retry ~64 sub-pieces with pyarrow and decode
    only the failing sub-pieces line by line. One bad line costs a Python pass over ~1/64 of
    a chunk; a file where every line is bad degrades to ~10 µs a line, never worse."""
    t = parser(piece)
    if t is not None:
        out.append((t, _PieceLocator(piece, line0, off0)))
        return
    for part, dl, db in _split(piece, _SUBPIECES):
        sub = parser(part)
        if sub is not None:
            out.append((sub, _PieceLocator(part, line0 + dl, off0 + db)))
            continue
        sub, loc, rej = _line_path(part, line0 + dl, off0 + db, schema, ts_fields)
        out.append((sub, loc))
        rejected.extend(rej)


class _Gzip:
    """gzip stream via ISA-L (``isal.igzip``, ~3x zlib's speed); ``raw`` reports the
    compressed bytes consumed, for progress."""

    def __init__(self, path: str) -> None:
        from isal import igzip

        self.raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.stream = igzip.IGzipFile(fileobj=self.raw, mode="rb")  # type: ignore[no-untyped-call]

    def read(self, n: int) -> bytes:
        return self.stream.read(n)

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


def _open_stream(f: DataFile) -> tuple[Any, Any]:
    try:
        if f.format == "jsonl.gz":
            g = _Gzip(str(f.path))
            return g, g
        raw = pa.OSFile(str(f.path), "rb")
        return raw, raw
    except Exception as exc:
        raise _wrap(exc, f.path, "cannot open file") from exc


def _check_required_keys(piece: bytes, f: DataFile, spec: Table) -> None:
    """A required column absent from every one of the first lines is a contract error
    about the file, not thousands of bad rows."""
    keys: set[str] = set()
    n_obj = 0
    for line in piece.split(b"\n", 200)[:200]:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            keys.update(obj)
            n_obj += 1
    if n_obj == 0:
        return
    missing = [c for c in spec.required_columns if c not in keys]
    if missing:
        raise ContractError(
            f"required column(s) {', '.join(missing)} missing (absent from the first "
            f"{n_obj} records)", path=f.path, field=missing[0])


def _pieces(f: DataFile, chunk_bytes: int) -> Iterator[tuple[bytes, int, int, int]]:
    """Newline-aligned pieces of the (decompressed) file: (piece, first line number,
    byte offset, on-disk bytes consumed so far)."""
    stream, raw = _open_stream(f)
    buf = b""
    line0, off0 = 1, 0
    try:
        while True:
            try:
                data = stream.read(chunk_bytes)
            except Exception as exc:
                raise UnreadableInputError(
                    f"cannot read file (corrupt or truncated): {exc}", path=f.path,
                    offset=off0 + len(buf)) from exc
            if data:
                cut = data.rfind(b"\n")
                if cut < 0:
                    buf += data
                    continue
                # one copy per piece: the carried-over tail plus this read up to its last newline
                piece = buf + data[: cut + 1] if buf else data[: cut + 1]
                buf = data[cut + 1:]
            else:
                piece, buf = buf, b""
                if not piece.strip():
                    return
            if off0 == 0 and piece.startswith(b"\xef\xbb\xbf"):
                # a UTF-8 byte-order mark (Windows exports): blank it, keeping offsets exact
                piece = b"   " + piece[3:]
            yield piece, line0, off0, raw.tell()
            line0 += piece.count(b"\n")
            off0 += len(piece)
            if not data:
                return
    finally:
        stream.close()


_T = TypeVar("_T")
_DONE = object()


def prefetch(it: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """Yield ``it`` while a background thread already produces the next ``depth`` items.

    Decompression, file reads and Parquet decoding release the GIL, so they overlap with
    the consumer's work (JSON parsing, enrichment) on the other core. Order, content and
    errors are those of ``it``: an exception in the producer is re-raised here, after the
    items before it; if the consumer stops early the thread stops and closes ``it`` (its
    ``finally:`` runs in that thread). The consumer's last item is released before waiting
    for the next one, so at most ``depth`` + 1 items are alive at once.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def work() -> None:
        try:
            for item in it:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # forwarded to the consumer
            q.put(exc)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # runs the source's finally: (closes the file) in this thread

    t = threading.Thread(target=work, name="distillguard-prefetch", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            del item
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def iter_jsonl(f: DataFile, spec: Table, progress: Progress | None = None,
               chunk_bytes: int | None = None) -> Iterator[RawChunk]:
    """Yield raw chunks of a JSONL / JSONL.gz file with the full raw schema."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    schema = jsonl_raw_schema(spec)
    ts_fields = frozenset(c.name for c in spec.columns if pa.types.is_timestamp(c.type))
    parser = _ArrowParser(schema)
    first = True
    for piece, line0, off0, pos in prefetch(_pieces(f, chunk_bytes)):
        if first:
            _check_required_keys(piece, f, spec)
            first = False
        parts: list[tuple[pa.Table, Locator]] = []
        rejected: list[Rejected] = []
        _parse_piece(piece, line0, off0, parser, schema, ts_fields, parts, rejected)
        yield RawChunk(parts=parts, rejected=rejected)
        if progress is not None:
            progress(pos)
