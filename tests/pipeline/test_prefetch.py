"""The scan reads the next event batch in a background thread (``ingest._sources.prefetch``,
the JSONL reader's too): same items in the same order, the reader's errors surface in the
caller, and a caller that stops early stops (and closes) the reader."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from distillguard.ingest._sources import prefetch as _prefetch


def test_prefetch_keeps_items_and_order() -> None:
    assert list(_prefetch(iter(range(1000)))) == list(range(1000))
    assert list(_prefetch(iter([]))) == []


def test_prefetch_reraises_reader_error_after_the_good_items() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3: bad timestamp")

    got: list[int] = []
    with pytest.raises(ValueError, match="row 3"):
        for x in _prefetch(items()):
            got.append(x)
    assert got == [1, 2]


def test_prefetch_stops_and_closes_the_reader_when_the_caller_stops() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def items() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    it = _prefetch(items(), depth=1)
    assert next(it) == 0
    it.close()  # the consumer gives up (e.g. enrichment raised)
    assert closed.wait(5)
    assert len(produced) < 10  # read ahead by at most a couple of batches


def test_prefetch_error_in_the_caller_stops_the_reader() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        for x in _prefetch(items()):
            if x == 3:
                raise RuntimeError("enrichment failed")
    assert closed.wait(5)
