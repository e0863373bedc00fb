"""sources.prefetched: order kept, errors raised in the caller, bounded read-ahead, early close stops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sparkify.sources import prefetched


def test_yields_every_chunk_in_order() -> None:
    chunks = [bytes([i]) * 10 for i in range(50)]
    assert list(prefetched(iter(chunks), depth=3)) == chunks


def test_error_in_the_fetch_is_raised_in_the_caller_after_the_good_chunks() -> None:
    def source() -> Iterator[bytes]:
        yield b"a"
        yield b"b"
        raise ConnectionResetError("peer went away")

    got = []
    with pytest.raises(ConnectionResetError, match="peer went away"):
        for chunk in prefetched(source(), depth=2):
            got.append(chunk)
    assert got == [b"a", b"b"]


def test_read_ahead_is_bounded_and_early_close_stops_and_closes_the_source() -> None:
    produced = []
    closed = threading.Event()

    def source() -> Iterator[bytes]:
        try:
            for i in range(1000):
                produced.append(i)
                yield b"x"
        finally:
            closed.set()

    reader = prefetched(source(), depth=4)
    assert next(reader) == b"x"
    time.sleep(0.3)  # let the thread run ahead as far as it may
    assert len(produced) <= 1 + 4 + 1  # consumed + queued + the one waiting to be queued
    reader.close()
    assert closed.wait(5), "the source was not closed after the consumer stopped"
    assert len(produced) < 1000
