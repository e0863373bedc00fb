"""Unit tests for ``sparkify.parsing``: mojibake repair, line splitting, event and song parsing."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkify.parsing import (
    EVENT_COLUMNS,
    MAX_LINE_BYTES,
    RAW_TEXT_LIMIT,
    REJECT_COLUMNS,
    SONG_COLUMNS,
    ParseStats,
    Rejection,
    iter_lines,
    parse_events,
    parse_songs,
    repair_mojibake,
)

PK = "2018-11-01"
KEY = "log_data/2018/11/2018-11-01-events.json"
SONG_KEY = "song_data/A/A/A/TRAAAAW128F429D538.json"

USER_AGENT = (
    '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36"'
)
EVENT = {
    "artist": "Des'ree",
    "auth": "Logged In",
    "firstName": "Kaylee",
    "gender": "F",
    "itemInSession": 1,
    "lastName": "Summers",
    "length": 246.30812,
    "level": "free",
    "location": "Phoenix-Mesa-Scottsdale, AZ",
    "method": "PUT",
    "page": "NextSong",
    "registration": 1540344794796.0,
    "sessionId": 139,
    "song": "You Gotta Be",
    "status": 200,
    "ts": 1541106106796,
    "userAgent": USER_AGENT,
    "userId": "8",
}
EVENT_ROW = (
    PK,
    KEY,
    1,
    1,
    "Des'ree",
    "Logged In",
    "Kaylee",
    "F",
    1,
    "Summers",
    246.30812,
    "free",
    "Phoenix-Mesa-Scottsdale, AZ",
    "PUT",
    "NextSong",
    1540344794796.0,
    139,
    "You Gotta Be",
    200,
    1541106106796,
    USER_AGENT,
    "8",
    "Des'ree",
    "You Gotta Be",
)

SONG = {
    "num_songs": 1,
    "artist_id": "ARJIE2Y1187B994AB7",
    "artist_latitude": None,
    "artist_longitude": None,
    "artist_location": "",
    "artist_name": "Line Renaud",
    "song_id": "SOUPIRU12A6D4FA1E1",
    "title": "Der Kleine Dompfaff",
    "duration": 152.92036,
    "year": 0,
}
SONG_ROW_TAIL = (
    1,
    "ARJIE2Y1187B994AB7",
    None,
    None,
    "",
    "Line Renaud",
    "SOUPIRU12A6D4FA1E1",
    "Der Kleine Dompfaff",
    152.92036,
    0,
)


def line(**overrides: object) -> bytes:
    """One event line: EVENT with overrides applied (a value of ... removes the key)."""
    record = {**EVENT, **overrides}
    record = {k: v for k, v in record.items() if v is not ...}
    return json.dumps(record).encode("utf-8")


def events(*lines: bytes) -> tuple[list[tuple], list[Rejection]]:
    rejected: list[Rejection] = []
    rows = list(parse_events(PK, KEY, lines, rejected))
    return rows, rejected


def songs(*lines: bytes) -> tuple[list[tuple], list[Rejection]]:
    rejected: list[Rejection] = []
    rows = list(parse_songs(SONG_KEY, lines, rejected))
    return rows, rejected


# --------------------------------------------------------------------------- repair_mojibake


class TestRepairMojibake:
    def test_double_mojibake(self) -> None:
        assert repair_mojibake("Sigur RÃ\x83Â³s") == "Sigur Rós"

    def test_single_mojibake(self) -> None:
        assert repair_mojibake("Sigur RÃ³s") == "Sigur Rós"

    def test_single_mojibake_three_byte_characters(self) -> None:
        broken = "ビートルズ".encode().decode("latin-1")
        assert repair_mojibake(broken) == "ビートルズ"

    def test_triple_mojibake(self) -> None:
        text = "Motörhead"
        for _ in range(3):
            text = text.encode("utf-8").decode("latin-1")
        assert repair_mojibake(text) == "Motörhead"

    def test_ascii_unchanged(self) -> None:
        assert repair_mojibake("Des'ree - You Gotta Be") == "Des'ree - You Gotta Be"
        assert repair_mojibake("") == ""

    def test_genuine_latin1_unchanged(self) -> None:
        assert repair_mojibake("Beyoncé") == "Beyoncé"
        assert repair_mojibake("Sigur Rós") == "Sigur Rós"
        assert repair_mojibake("Björk & Mötley Crüe") == "Björk & Mötley Crüe"

    def test_text_outside_latin1_unchanged(self) -> None:
        assert repair_mojibake("ビートルズ") == "ビートルズ"
        assert repair_mojibake("Ã³ and ☃") == "Ã³ and ☃"

    def test_none(self) -> None:
        assert repair_mojibake(None) is None


# --------------------------------------------------------------------------- iter_lines


def chunked(data: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    """Split data into chunks cycling through sizes."""
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        chunks.append(data[pos : pos + size])
        pos += size
        i += 1
    return chunks


class TestIterLines:
    def test_no_trailing_newline(self) -> None:
        assert list(iter_lines([b'{"a":1}\n{"b":2}'])) == [b'{"a":1}', b'{"b":2}']

    def test_trailing_newline_is_not_a_record(self) -> None:
        assert list(iter_lines([b'{"a":1}\n{"b":2}\n'])) == [b'{"a":1}', b'{"b":2}']

    def test_crlf(self) -> None:
        assert list(iter_lines([b"one\r\ntwo\r\n"])) == [b"one", b"two"]
        assert list(iter_lines([b"one\r\ntwo"])) == [b"one", b"two"]

    def test_blank_line_in_the_middle_is_kept(self) -> None:
        # A blank line inside an object is an input line (it is rejected later, not dropped).
        assert list(iter_lines([b"one\n\ntwo"])) == [b"one", b"", b"two"]

    def test_empty_stream(self) -> None:
        assert list(iter_lines([])) == []
        assert list(iter_lines([b""])) == []
        assert list(iter_lines([b"\n"])) == [b""]

    def test_single_line_without_newline(self) -> None:
        assert list(iter_lines([b"only"])) == [b"only"]

    @pytest.mark.parametrize("sizes", [(1,), (2,), (3,), (1, 2, 3), (3, 1, 2), (2, 3, 1, 1)])
    def test_chunk_boundaries(self, sizes: tuple[int, ...]) -> None:
        data = 'first "Sigur Rós"\r\nsecond ビートルズ\n\nthird\r\nlast'.encode()
        expected = [b'first "Sigur R\xc3\xb3s"', "second ビートルズ".encode(), b"", b"third", b"last"]
        assert list(iter_lines(chunked(data, sizes))) == expected
        assert list(iter_lines(chunked(data + b"\r\n", sizes))) == expected

    def test_crlf_split_across_chunks(self) -> None:
        assert list(iter_lines([b"one\r", b"\ntwo\r", b"\n"])) == [b"one", b"two"]

    def test_lazy(self) -> None:
        def stream():
            yield b"a\nb"
            raise AssertionError("read past the first complete line")

        lines = iter_lines(stream())
        assert next(lines) == b"a"


# --------------------------------------------------------------------------- parse_events


class TestParseEvents:
    def test_real_line_to_exact_row(self) -> None:
        rows, rejected = events(line())
        assert rejected == []
        assert rows == [EVENT_ROW]
        assert len(rows[0]) == len(EVENT_COLUMNS)
        assert dict(zip(EVENT_COLUMNS, rows[0], strict=True))["user_id"] == "8"

    def test_row_matches_event_columns_by_name(self) -> None:
        (row,), _ = events(line())
        named = dict(zip(EVENT_COLUMNS, row, strict=True))
        assert named["partition_key"] == PK
        assert named["source_key"] == KEY
        assert named["line_number"] == 1
        assert named["first_name"] == "Kaylee"
        assert named["item_in_session"] == 1
        assert named["session_id"] == 139
        assert named["ts"] == 1541106106796
        assert named["user_agent"] == USER_AGENT
        assert named["page"] == "NextSong"

    def test_user_id_int_becomes_string(self) -> None:
        (row,), rejected = events(line(userId=42))
        assert rejected == []
        assert row[EVENT_COLUMNS.index("user_id")] == "42"

    def test_logged_out_empty_user_id_kept(self) -> None:
        (row,), rejected = events(line(userId="", page="Home", artist=None, song=None, length=None))
        assert rejected == []
        named = dict(zip(EVENT_COLUMNS, row, strict=True))
        assert named["user_id"] == ""
        assert named["artist"] is None and named["artist_clean"] is None
        assert named["length"] is None

    def test_float_ts_with_zero_fraction_accepted(self) -> None:
        (row,), rejected = events(line(ts=1541106106796.0))
        assert rejected == []
        ts = row[EVENT_COLUMNS.index("ts")]
        assert ts == 1541106106796
        assert type(ts) is int

    def test_float_ts_with_fraction_rejected(self) -> None:
        rows, rejected = events(line(ts=1541106106796.5))
        assert rows == []
        assert rejected[0].reason == "field 'ts': expected integer, got 1541106106796.5"

    def test_integer_out_of_range_rejected(self) -> None:
        _, rejected = events(line(ts=2**63))
        assert rejected[0].reason == "field 'ts': integer out of range"
        _, rejected = events(line(status=2**31))
        assert rejected[0].reason == "field 'status': integer out of range"

    @pytest.mark.parametrize(
        ("overrides", "reason"),
        [
            ({"ts": 2**63 - 1}, "field 'ts': 9223372036854775807 outside the accepted range [0, 253402300799999]"),
            ({"ts": -1}, "field 'ts': -1 outside the accepted range"),
            ({"length": 1e13}, "field 'length': 10000000000000.0 outside the accepted range [0.0, 1000000.0]"),
            ({"length": -1}, "field 'length': -1.0 outside the accepted range"),
            ({"length": int("1" + "0" * 400)}, "field 'length': number out of range"),
            ({"sessionId": None}, "missing required field 'sessionId' (part of a NextSong event's songplay identity)"),
            ({"itemInSession": ...}, "missing required field 'itemInSession' (part of a NextSong"),
        ],
    )
    def test_values_the_transform_cannot_load_rejected(self, overrides: dict, reason: str) -> None:
        """Staging guarantees what the transform needs: timestamps it can convert, durations its
        NUMERIC match can hold, a complete songplay identity on a logged-in NextSong event."""
        rows, rejected = events(line(**overrides))
        assert rows == [] and len(rejected) == 1
        assert rejected[0].reason.startswith(reason)

    def test_ts_range_bounds_are_inclusive(self) -> None:
        rows, rejected = events(line(ts=0), line(ts=253402300799999), line(length=0), line(length=1e6))
        assert rejected == [] and len(rows) == 4

    def test_logged_out_next_song_needs_no_identity(self) -> None:
        (row,), rejected = events(line(userId="", sessionId=None, itemInSession=None))
        assert rejected == [] and row[EVENT_COLUMNS.index("user_id")] == ""

    def test_mojibake_repaired_into_clean_columns_only(self) -> None:
        (row,), _ = events(line(artist="Sigur RÃ\x83Â³s", song="HoppÃ\x83Â­polla"))
        named = dict(zip(EVENT_COLUMNS, row, strict=True))
        assert named["artist"] == "Sigur RÃ\x83Â³s"
        assert named["song"] == "HoppÃ\x83Â­polla"
        assert named["artist_clean"] == "Sigur Rós"
        assert named["song_clean"] == "Hoppípolla"

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            (b'{"page": "NextSong", "ts": ', "malformed JSON at column 28: Expecting value"),
            (b"[1, 2]", "expected a JSON object, got list"),
            (b'"NextSong"', "expected a JSON object, got str"),
            (line(ts=...), "missing required field 'ts'"),
            (line(ts=None), "missing required field 'ts'"),
            (line(page=...), "missing required field 'page'"),
            (line(userId=...), "missing required field 'userId'"),
            (line(ts="1541106106796"), "field 'ts': expected number, got str"),
            (line(length="246.30812"), "field 'length': expected number, got str"),
            (line(itemInSession=True), "field 'itemInSession': expected number, got bool"),
            (line(length=False), "field 'length': expected number, got bool"),
            (line(userId=True), "field 'userId': expected string, got bool"),
            (line(artist=7), "field 'artist': expected string, got int"),
            (line(status=[200]), "field 'status': expected number, got list"),
        ],
    )
    def test_rejections_name_the_problem(self, raw: bytes, reason: str) -> None:
        rows, rejected = events(raw)
        assert rows == []
        assert rejected == [
            Rejection(KEY, 1, reason, raw.decode(), 1, len(raw), hashlib.sha256(raw).hexdigest())
        ]

    def test_invalid_utf8_rejected(self) -> None:
        raw = b'{"page": "NextSong", "ts": 1, "userId": "1", "artist": "Bj\xf6rk"}'
        rows, rejected = events(raw)
        assert rows == []
        assert raw.index(0xF6) == 58
        assert [(r.line_number, r.reason, r.raw_line) for r in rejected] == [
            (1, "invalid UTF-8 at byte 58", raw.decode("utf-8", "backslashreplace"))
        ]
        assert "\\xf6" in rejected[0].raw_line

    def test_oversized_line_rejected_and_raw_text_truncated(self) -> None:
        raw = line(location="x" * MAX_LINE_BYTES)
        rows, rejected = events(raw)
        assert rows == []
        assert rejected[0].reason == f"line longer than {MAX_LINE_BYTES} bytes ({len(raw)})"
        assert rejected[0].raw_line == raw[:RAW_TEXT_LIMIT].decode()
        assert len(rejected[0].raw_line) == RAW_TEXT_LIMIT
        assert rejected[0].byte_length == len(raw)
        assert rejected[0].raw_sha256 == hashlib.sha256(raw).hexdigest()

    def test_line_of_exactly_max_bytes_accepted(self) -> None:
        # Padded with JSON whitespace: no single value may pass its column's length.
        base = line()
        raw = base[:-1] + b" " * (MAX_LINE_BYTES - len(base)) + b"}"
        assert len(raw) == MAX_LINE_BYTES
        rows, rejected = events(raw)
        assert rejected == []
        assert len(rows) == 1

    def test_good_lines_come_through_with_one_based_line_numbers(self) -> None:
        lines = [
            line(ts=1),
            b"not json",
            line(ts=3),
            b"",
            line(ts="4"),
            line(ts=6),
        ]
        rows, rejected = events(*lines)
        ts = EVENT_COLUMNS.index("ts")
        assert [(r[2], r[ts]) for r in rows] == [(1, 1), (3, 3), (6, 6)]
        assert [(r.line_number, r.reason) for r in rejected] == [
            (2, "malformed JSON at column 1: Expecting value"),
            (5, "field 'ts': expected number, got str"),
        ]
        assert all(r.source_key == KEY for r in rejected)

    def test_line_numbers_restart_for_each_object(self) -> None:
        first, _ = events(line(), line())
        rejected: list[Rejection] = []
        second = list(parse_events(PK, "log_data/2018/11/2018-11-01-part2.json", [b"{", line()], rejected))
        assert [r[2] for r in first] == [1, 2]
        assert [r[2] for r in second] == [2]
        assert [(r.source_key, r.line_number) for r in rejected] == [("log_data/2018/11/2018-11-01-part2.json", 1)]

    def test_rejected_list_filled_while_consuming(self) -> None:
        rejected: list[Rejection] = []
        rows = parse_events(PK, KEY, [b"{", line()], rejected)
        assert rejected == []  # generator: nothing parsed yet
        next(rows)
        assert len(rejected) == 1

    def test_parses_iter_lines_output(self) -> None:
        data = line(ts=1) + b"\r\n" + line(ts=2) + b"\n"
        rejected: list[Rejection] = []
        rows = list(parse_events(PK, KEY, iter_lines(chunked(data, (3,))), rejected))
        assert rejected == []
        assert [r[EVENT_COLUMNS.index("ts")] for r in rows] == [1, 2]


class TestRejectionRow:
    def test_row_matches_reject_columns(self) -> None:
        row = Rejection(KEY, 3, "why", "raw", 2, 3, "ab" * 32).row(PK)
        assert dict(zip(REJECT_COLUMNS, row, strict=True)) == {
            "partition_key": PK,
            "source_key": KEY,
            "line_number": 3,
            "record_in_line": 2,
            "reason": "why",
            "byte_length": 3,
            "raw_sha256": "ab" * 32,
            "raw_line": "raw",
        }

    def test_reason_truncated_to_1000(self) -> None:
        row = Rejection(KEY, 1, "r" * 1500, "raw").row(None)
        assert row[0] is None
        assert row[REJECT_COLUMNS.index("reason")] == "r" * 1000


# --------------------------------------------------------------------------- parse_songs


class TestParseSongs:
    def test_one_record(self) -> None:
        rows, rejected = songs(json.dumps(SONG).encode())
        assert rejected == []
        assert rows == [(SONG_KEY, 1, *SONG_ROW_TAIL)]
        assert len(rows[0]) == len(SONG_COLUMNS)

    def test_several_records_on_one_line(self) -> None:
        raw = b"".join(json.dumps({**SONG, "song_id": f"SO{i}"}).encode() for i in range(1, 4))
        rows, rejected = songs(raw)
        assert rejected == []
        song_id = SONG_COLUMNS.index("song_id")
        assert [(r[1], r[song_id]) for r in rows] == [(1, "SO1"), (2, "SO2"), (3, "SO3")]

    def test_several_records_separated_by_whitespace_on_one_line(self) -> None:
        raw = b"  " + json.dumps({**SONG, "song_id": "SO1"}).encode() + b" \t " + json.dumps(SONG).encode() + b"  "
        rows, rejected = songs(raw)
        assert rejected == []
        assert [r[1] for r in rows] == [1, 2]

    def test_records_on_several_lines_numbered_across_lines(self) -> None:
        lines = [
            json.dumps({**SONG, "song_id": "SO1"}).encode() + json.dumps({**SONG, "song_id": "SO2"}).encode(),
            json.dumps({**SONG, "song_id": "SO3"}).encode(),
            json.dumps({**SONG, "song_id": "SO4"}).encode(),
        ]
        rows, rejected = songs(*lines)
        assert rejected == []
        song_id = SONG_COLUMNS.index("song_id")
        assert [(r[1], r[song_id]) for r in rows] == [(1, "SO1"), (2, "SO2"), (3, "SO3"), (4, "SO4")]

    def test_missing_song_id_rejected(self) -> None:
        bad = json.dumps({k: v for k, v in SONG.items() if k != "song_id"}).encode()
        rows, rejected = songs(bad)
        assert rows == []
        assert [(r.line_number, r.reason, r.raw_line, r.byte_length) for r in rejected] == [
            (1, "line 1: missing required field 'song_id'", bad.decode(), len(bad))
        ]

    def test_rejected_line_takes_a_record_number_and_others_continue(self) -> None:
        good = json.dumps(SONG).encode()
        bad = json.dumps({**SONG, "year": "1999"}).encode()
        rows, rejected = songs(good, bad, good)
        assert [r[1] for r in rows] == [1, 3]
        assert [(r.line_number, r.reason) for r in rejected] == [(2, "line 2: field 'year': expected number, got str")]

    def test_blank_lines_are_not_records_and_malformed_lines_rejected(self) -> None:
        stats = ParseStats()
        rejected: list[Rejection] = []
        rows = list(parse_songs(SONG_KEY, [b"", b"{nope", b" \t\r"], rejected, stats))
        assert rows == []
        assert [(r.line_number, r.reason) for r in rejected] == [
            (1, "line 2: malformed JSON at column 2: Expecting property name enclosed in double quotes"),
        ]
        assert (stats.lines, stats.blank_lines, stats.records, stats.rejected) == (3, 2, 1, 1)

    def test_one_bad_record_does_not_take_its_line_neighbours(self) -> None:
        good = json.dumps(SONG).encode()
        bad = json.dumps({**SONG, "duration": 1e15}).encode()
        rows, rejected = songs(good + b" " + bad + good)
        assert [r[1] for r in rows] == [1, 3]
        assert [r.line_number for r in rejected] == [2]
        assert rejected[0].reason.startswith("line 1: field 'duration': 1000000000000000.0 outside")
        assert rejected[0].raw_line == bad.decode()

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("duration", int("1" + "0" * 400)),
            ("duration", 1e15),
            ("duration", -3.0),
            ("artist_latitude", 91.0),
            ("artist_longitude", -180.5),
            ("year", 10000),
        ],
    )
    def test_numeric_outliers_rejected_per_record(self, field: str, value: object) -> None:
        rows, rejected = songs(json.dumps({**SONG, field: value}).encode())
        assert rows == [] and len(rejected) == 1 and repr(field) in rejected[0].reason

    def test_record_numbers_unique_for_rejected_lines_primary_key(self) -> None:
        # staging_songs and rejected_lines are keyed by (source_key, line_number): numbers never repeat.
        good = json.dumps(SONG).encode()
        rows, rejected = songs(good + good, b"[]", good)
        numbers = [r[1] for r in rows] + [r.line_number for r in rejected]
        assert sorted(numbers) == [1, 2, 3, 4]


# --------------------------------------------------------------------------- values PostgreSQL cannot store
# Rows go to the warehouse through COPY into VARCHAR columns. PostgreSQL text cannot hold NUL
# (0x00) and psycopg cannot encode a lone UTF-16 surrogate to UTF-8, so either value would make
# the whole partition's COPY fail instead of rejecting the one bad line.


class TestValuesTheWarehouseCannotStore:
    @pytest.mark.parametrize(
        ("field", "escaped"),
        [("artist", r"Sigur \u0000Ros"), ("song", r"Hopp\ud83dpolla"), ("userAgent", r"Mozilla\u0000")],
    )
    def test_event_string_rejected_naming_the_field(self, field: str, escaped: str) -> None:
        raw = line(**{field: "PLACEHOLDER"}).replace(b"PLACEHOLDER", escaped.encode())
        rows, rejected = events(raw)
        assert rows == []
        assert len(rejected) == 1
        assert repr(field) in rejected[0].reason

    def test_song_string_rejected_naming_the_field(self) -> None:
        raw = json.dumps({**SONG, "title": "PLACEHOLDER"}).encode().replace(b"PLACEHOLDER", rb"Der \u0000Kleine")
        rows, rejected = songs(raw)
        assert rows == []
        assert len(rejected) == 1
        assert "'title'" in rejected[0].reason

    def test_raw_line_with_nul_byte_is_storable(self) -> None:
        _, rejected = events(b'{"page": "NextSong"\x00}')
        assert len(rejected) == 1
        assert "\x00" not in rejected[0].raw_line


# Property: iter_lines (C-level split inside a chunk, per-line route across chunk boundaries, CR
# and oversized lines) equals a one-shot reference on the whole input, for any chunking.
def _reference_lines(data: bytes, max_line_bytes: int) -> list[tuple[bytes, int | None]]:
    keep = max_line_bytes + 1

    def finish(line: bytes) -> tuple[bytes, int | None]:
        if len(line) > keep:
            return line[:keep], len(line)
        return (line[:-1] if line.endswith(b"\r") else line), None

    *complete, tail = data.split(b"\n")
    out = [finish(line) for line in complete]
    if tail.strip(b" \t\r\n") or len(tail) > keep:
        out.append(finish(tail))
    return out


@settings(max_examples=400, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r", b" ", b"\r\n", b"xxxxxxx"]), max_size=40).map(b"".join),
    sizes=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=5),
    max_line_bytes=st.integers(min_value=1, max_value=8),
)
def test_iter_lines_matches_reference(data: bytes, sizes: list[int], max_line_bytes: int) -> None:
    lines = list(iter_lines(chunked(data, tuple(sizes)), max_line_bytes=max_line_bytes))
    got = [(bytes(line), getattr(line, "size", None)) for line in lines]
    assert got == _reference_lines(data, max_line_bytes)
    # An oversized line carries the hash of all its bytes (streamed past, never held whole).
    whole = [w for w in data.split(b"\n") if len(w) > max_line_bytes + 1]
    assert [line.sha256 for line in lines if getattr(line, "size", None)] == [
        hashlib.sha256(w).hexdigest() for w in whole
    ]
