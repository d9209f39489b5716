"""Locating the tables of a dataset directory (``shared/contract/traffic-logs.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from distillguard.ingest._errors import UnreadableInputError
from distillguard.ingest.schema import SUFFIXES, TABLES

Format = Literal["parquet", "jsonl", "jsonl.gz"]


def parquet_parts(path: Path) -> list[Path]:
    """The data files of a Parquet table: the file itself, or for a directory (what Spark,
    Hive and pyarrow write: ``events.parquet/part-*.parquet``, possibly in ``key=value/``
    sub-directories) every ``*.parquet`` below it in name order, skipping the writers'
    bookkeeping (``_SUCCESS``, ``_metadata``, ``.crc`` and other hidden files)."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*.parquet") if p.is_file()
                  and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts))


@dataclass(frozen=True)
class DataFile:
    """One table: where it is and how it is encoded. A Parquet table may be a directory
    of part files (``parts``)."""

    table: str
    path: Path
    format: Format

    @cached_property
    def parts(self) -> list[Path]:
        """The files holding the rows, in read order (one for a plain file); a directory
        is listed once per ``DataFile`` (schema, row count and reading share it)."""
        return parquet_parts(self.path) if self.format == "parquet" else [self.path]

    @property
    def size(self) -> int:
        """Size on disk in bytes (compressed size for ``.jsonl.gz``; all parts together)."""
        return sum(p.stat().st_size for p in self.parts)


@dataclass(frozen=True)
class Dataset:
    """A dataset directory with one file per table; optional tables may be ``None``."""

    root: Path
    events: DataFile
    accounts: DataFile
    releases: DataFile | None = None
    labels: DataFile | None = None

    def file(self, table: str) -> DataFile | None:
        """The file of ``table`` (``events``, ``accounts``, ``releases``, ``labels``)."""
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; expected one of {sorted(TABLES)}")
        f: DataFile | None = getattr(self, table)
        return f


def _exists(path: Path) -> bool:
    # a Parquet table may be a directory of part files (Spark's output layout)
    return path.is_file() or (path.name.endswith(".parquet") and path.is_dir())


def _find(root: Path, table: str) -> DataFile | None:
    found = [root / f"{table}{s}" for s in SUFFIXES if _exists(root / f"{table}{s}")]
    if len(found) > 1:
        # Picking one silently would hide the other from the user; make them choose.
        names = ", ".join(p.name for p in found)
        raise UnreadableInputError(
            f"table '{table}' exists in several formats ({names}); keep exactly one", path=root
        )
    if not found:
        return None
    path = found[0]
    fmt: Format = "parquet" if path.name.endswith(".parquet") else (
        "jsonl.gz" if path.name.endswith(".jsonl.gz") else "jsonl"
    )
    if path.is_dir() and not parquet_parts(path):
        raise UnreadableInputError(f"table '{table}' is a directory without .parquet part files",
                                   path=path)
    return DataFile(table=table, path=path, format=fmt)


def open_dataset(path: str | Path) -> Dataset:
    """Find the table files of a dataset directory.

    Only checks that the directory and the required tables exist; contents are checked
    while reading. Raises :class:`UnreadableInputError` naming the directory and the
    missing table.
    """
    root = Path(path)
    if not root.exists():
        raise UnreadableInputError("dataset directory does not exist", path=root)
    if not root.is_dir():
        raise UnreadableInputError("not a directory (a dataset is a directory)", path=root)
    files = {name: _find(root, name) for name in TABLES}
    for name, spec in TABLES.items():
        if spec.required and files[name] is None:
            wanted = " or ".join(f"{name}{s}" for s in SUFFIXES)
            raise UnreadableInputError(f"required table '{name}' is missing: expected {wanted}",
                                       path=root)
    events, accounts = files["events"], files["accounts"]
    assert events is not None and accounts is not None
    return Dataset(root=root, events=events, accounts=accounts,
                   releases=files["releases"], labels=files["labels"])
