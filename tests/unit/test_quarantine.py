"""Bad input is bounded and accounted for: streaming line cap, quarantine threshold, messages.

Pure tests (no database); the integration twin is tests/integration/test_bad_input.py.
"""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.parsing import (
    MAX_LINE_BYTES,
    RAW_TEXT_LIMIT,
    OversizedLine,
    ParseStats,
    Rejection,
    RejectionSpool,
    iter_lines,
    parse_events,
    parse_songs,
)
from sparkify.staging import (
    LineCount,
    build_partition_counts_sql,
    describe_rejections,
    quarantine_failure,
    verify_accounting,
)

KEY = "log_data/2018/11/2018-11-01-events.json"
GOOD = b'{"page": "NextSong", "ts": 1541106106796, "userId": "8", "sessionId": 1, "itemInSession": 0}'


def _chunks(data: bytes, size: int = 1 << 16):
    for pos in range(0, len(data), size):
        yield data[pos : pos + size]


class TestStreamingCap:
    def test_huge_file_without_newline_is_one_capped_line(self) -> None:
        size = 20 * 1024 * 1024

        def stream():  # 20 MB of one line, produced lazily so only the parser could hold it
            for _ in range(size // (1 << 16)):
                yield b"x" * (1 << 16)

        tracemalloc.start()
        try:
            lines = list(iter_lines(stream()))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(lines) == 1
        assert isinstance(lines[0], OversizedLine)
        assert lines[0].size == size
        assert len(lines[0]) == MAX_LINE_BYTES + 1
        assert peak < 4 * MAX_LINE_BYTES + 4 * (1 << 16), peak  # bounded by the cap, not by the input

    def test_oversized_line_between_good_lines_is_rejected_with_its_real_size(self) -> None:
        big = b'{"page": "' + b"y" * (3 * MAX_LINE_BYTES) + b'"}'
        data = GOOD + b"\n" + big + b"\r\n" + GOOD
        rejected: list[Rejection] = []
        rows = list(parse_events("2018-11-01", KEY, iter_lines(_chunks(data, 1000)), rejected))
        assert [r[2] for r in rows] == [1, 3]
        assert len(rejected) == 1
        assert rejected[0].line_number == 2
        assert rejected[0].reason == f"line longer than {MAX_LINE_BYTES} bytes ({len(big) + 1})"
        assert len(rejected[0].raw_line) == RAW_TEXT_LIMIT
        assert rejected[0].byte_length == len(big) + 1  # with its CR
        assert rejected[0].raw_sha256 == hashlib.sha256(big + b"\r").hexdigest()

    def test_line_at_the_cap_is_not_oversized(self) -> None:
        line = b"z" * MAX_LINE_BYTES
        assert list(iter_lines(_chunks(line + b"\n" + line, 777))) == [line, line]

    def test_songs_oversized_line_rejected(self) -> None:
        rejected: list[Rejection] = []
        data = b'{"song_id": "S1", "artist_id": "A1", "title": "t", "artist_name": "a"}\n' + b"[" * (2 * MAX_LINE_BYTES)
        rows = list(parse_songs("song_data/a.json", iter_lines(_chunks(data)), rejected))
        assert len(rows) == 1
        assert rejected[0].reason.startswith(f"line 2: line longer than {MAX_LINE_BYTES} bytes")


class TestAccounting:
    def test_line_count_counts_what_passes_through(self) -> None:
        count = LineCount()
        assert list(count.counted(iter([b"a", b"", b"c"]))) == [b"a", b"", b"c"]
        assert count.lines == 3

    def test_counts_sql_binds_the_key(self) -> None:
        sql = build_partition_counts_sql('"s"."staging_events"', '"s"."rejected_lines"')
        assert "%(partition_key)s" in sql and "'" not in sql

    # verify_accounting, with the committed counts a fake warehouse reports. Balanced: 10 raw
    # lines = 2 blank + 8 holding 9 records (two on one line) = 7 staged + 2 rejected.
    BALANCED = {"raw_lines": 10, "lines": 10, "blank": 2, "records": 9, "rejected": 2, "loaded": 7, "committed": (7, 2)}

    @staticmethod
    def _verify(raw_lines: int, lines: int, blank: int, records: int, rejected: int, loaded: int,
                committed: tuple[int, int]) -> None:
        class Warehouse:
            def table(self, name: str) -> str:
                return f'"s"."{name}"'

            def fetch_one(self, sql: str, params: dict) -> tuple[int, int]:
                assert params == {"partition_key": "2018-11-01"}
                return committed

        stats = ParseStats(lines=lines, blank_lines=blank, records=records, rejected=rejected)
        verify_accounting(Warehouse(), "staging_events", "2018-11-01", raw_lines, stats, loaded)

    def test_balanced_counts_pass(self) -> None:
        self._verify(**self.BALANCED)

    @pytest.mark.parametrize(
        "change",
        [
            {"lines": 9},  # the parser did not see a raw line
            {"blank": 0},  # a non-blank line produced no record (10 - 0 > 9 records)
            {"records": 10},  # records != staged + rejected by the parser's own counts
            {"committed": (6, 2)},  # the COPY wrote fewer rows than the parser yielded
            {"committed": (7, 1)},  # a rejection was not stored
            {"committed": (7, 4)},  # rejections of an earlier run were left behind
        ],
    )
    def test_any_loss_fails_the_partition(self, change: dict) -> None:
        with pytest.raises(AirflowFailException, match="accounting does not add up"):
            self._verify(**{**self.BALANCED, **change})


def _rejections(n: int) -> list[Rejection]:
    return [Rejection(KEY, i + 1, f"missing required field 'ts' #{i}", "{}") for i in range(n)]


class TestThreshold:
    @pytest.mark.parametrize(
        ("raw", "rejected", "share", "fails"),
        [
            (100, 0, 0.01, False),
            (100, 1, 0.01, False),  # exactly at the limit passes, like MAXERROR
            (100, 2, 0.01, True),
            (1000, 10, 0.01, False),
            (1000, 11, 0.01, True),
            (3, 3, 1.0, False),
            (10, 1, 0.0, True),
            (0, 0, 0.01, False),  # empty partition: nothing rejected
        ],
    )
    def test_share(self, raw: int, rejected: int, share: float, fails: bool) -> None:
        message = quarantine_failure("2018-11-01", raw, raw - rejected, _rejections(rejected), share)
        assert (message is not None) is fails

    def test_message_names_file_line_reason_and_counts(self) -> None:
        message = quarantine_failure("2018-11-01", 50, 43, _rejections(7), 0.01)
        assert message is not None
        assert "partition 2018-11-01: 7 of 50 records rejected (14.00%" in message
        assert "43 rows loaded" in message
        assert f"{KEY} line 1: missing required field 'ts' #0" in message
        assert "… 2 more" in message
        assert "rejected_lines" in message

    def test_describe_leaves_raw_text_out(self) -> None:
        text = describe_rejections([Rejection(KEY, 1, "malformed JSON", "password=hunter2")])
        assert "hunter2" not in text


class TestValuesTheTablesCannotHold:
    """A value that parses but does not fit its column would fail the whole COPY; it is one bad line.

    Both the orjson fast path and the precise slow path must agree, so each case is a whole line.
    """

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"level": "p" * 17}, "field 'level': longer than 16 characters (17)"),
            ({"userId": "9" * 65}, "field 'userId': longer than 64 characters (65)"),
            ({"gender": "é" * 9}, "field 'gender': longer than 8 characters (9)"),
            ({"song": "s" * 1025}, "field 'song': longer than 1024 characters (1025)"),
            ({"itemInSession": 2**31}, "field 'itemInSession': integer out of range"),
            ({"sessionId": 2**31}, "field 'sessionId': integer out of range"),
            ({"status": -(2**31) - 1}, "field 'status': integer out of range"),
            ({"ts": 2**63}, "field 'ts': integer out of range"),
        ],
    )
    def test_event_value_too_big_for_its_column(self, change: dict, reason: str) -> None:
        import json

        raw = json.dumps({**json.loads(GOOD), **change}).encode()
        rejected: list[Rejection] = []
        assert list(parse_events("2018-11-01", KEY, [raw], rejected)) == []
        assert [r.reason for r in rejected] == [reason]

    @pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
    def test_non_finite_numbers_rejected(self, literal: bytes) -> None:
        raw = GOOD[:-1] + b', "length": ' + literal + b"}"
        rejected: list[Rejection] = []
        assert list(parse_events("2018-11-01", KEY, [raw], rejected)) == []
        assert rejected[0].reason == "field 'length': not a finite number"

    @pytest.mark.parametrize("missing", ["title", "artist_name"])
    def test_song_without_a_name_rejected(self, missing: str) -> None:
        import json

        record = {"song_id": "S1", "artist_id": "A1", "title": "t", "artist_name": "a"}
        del record[missing]
        rejected: list[Rejection] = []
        assert list(parse_songs("song_data/a.json", [json.dumps(record).encode()], rejected)) == []
        assert rejected[0].reason == f"line 1: missing required field {missing!r}"


class TestBoundedMemory:
    """Rejections are streamed to a spool, not accumulated: memory does not grow with bad input."""

    def test_spool_memory_is_bounded_and_rows_come_back_in_order(self) -> None:
        spool = RejectionSpool("2018-11-01", keep=3, memory_bytes=64 * 1024)
        tracemalloc.start()
        try:
            for i in range(50_000):
                spool.append(Rejection(KEY, i + 1, "malformed JSON", "x" * 200, 1, 200, "0" * 64))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(spool) == 50_000 and [r.line_number for r in spool.first] == [1, 2, 3]
        assert peak < 2 * 1024 * 1024, peak  # ~15 MB of rows were spooled
        rows = list(spool.rows())
        assert len(rows) == 50_000 and rows[0][2] == 1 and rows[-1][2] == 50_000
        assert rows[0] == Rejection(KEY, 1, "malformed JSON", "x" * 200, 1, 200, "0" * 64).row("2018-11-01")

    def test_blank_and_garbage_lines_do_not_accumulate(self) -> None:
        spool = RejectionSpool("2018-11-01", keep=5)
        stats = ParseStats()
        lines = (b"" if i % 2 else b"garbage %d" % i for i in range(60_000))
        tracemalloc.start()
        try:
            rows = sum(1 for _ in parse_events("2018-11-01", KEY, lines, spool, stats))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert rows == 0 and (stats.blank_lines, stats.rejected) == (30_000, 30_000)
        assert peak < 8 * 1024 * 1024, peak
