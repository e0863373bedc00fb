"""Turn raw JSON lines from the source into typed staging rows, or into rejections.

Parsing happens in Python, row by row, because every line must end up either loaded or
rejected with a reason naming the field (nothing is dropped silently), and because the
double-Latin-1 mojibake in log strings has to be repaired before songs can be matched.
The rows are then streamed to the warehouse with COPY, so Python never builds INSERTs.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import msgspec
import orjson

MAX_LINE_BYTES = 64 * 1024
RAW_TEXT_LIMIT = 2000

EVENT_COLUMNS: tuple[str, ...] = (
    "partition_key",
    "source_key",
    "line_number",
    "artist",
    "auth",
    "first_name",
    "gender",
    "item_in_session",
    "last_name",
    "length",
    "level",
    "location",
    "method",
    "page",
    "registration",
    "session_id",
    "song",
    "status",
    "ts",
    "user_agent",
    "user_id",
    "artist_clean",
    "song_clean",
)
#: Where a staged row came from: object key and 1-based line number within it.
LINEAGE_COLUMNS: tuple[str, ...] = ("source_key", "line_number")
SONG_COLUMNS: tuple[str, ...] = (
    *LINEAGE_COLUMNS,
    "num_songs",
    "artist_id",
    "artist_latitude",
    "artist_longitude",
    "artist_location",
    "artist_name",
    "song_id",
    "title",
    "duration",
    "year",
)
REJECT_COLUMNS: tuple[str, ...] = ("partition_key", "source_key", "line_number", "reason", "raw_line")

# JSON field -> (expected kind, required). Kinds: str, int, num.
_EVENT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("artist", "str", False),
    ("auth", "str", False),
    ("firstName", "str", False),
    ("gender", "str", False),
    ("itemInSession", "int32", False),
    ("lastName", "str", False),
    ("length", "num", False),
    ("level", "str", False),
    ("location", "str", False),
    ("method", "str", False),
    ("page", "str", True),
    ("registration", "num", False),
    ("sessionId", "int32", False),
    ("song", "str", False),
    ("status", "int32", False),
    ("ts", "int", True),
    ("userAgent", "str", False),
    ("userId", "str", True),
)
_SONG_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("num_songs", "int32", False),
    ("artist_id", "str", True),
    ("artist_latitude", "num", False),
    ("artist_longitude", "num", False),
    ("artist_location", "str", False),
    ("artist_name", "str", True),
    ("song_id", "str", True),
    ("title", "str", True),
    ("duration", "num", False),
    ("year", "int32", False),
)


#: Longest string (in characters, as PostgreSQL sizes VARCHAR) each JSON field may hold: the
#: staging column's VARCHAR length. A longer value would fail the whole partition's COPY, so it
#: is rejected here as one bad line instead. Fields not listed are VARCHAR(1024).
#: tests/unit/test_quarantine.py checks these against sql/ddl.
STRING_LIMITS: dict[str, int] = {
    "auth": 32,
    "firstName": 256,
    "gender": 8,
    "lastName": 256,
    "level": 16,
    "method": 16,
    "page": 64,
    "userId": 64,
    "artist_id": 32,
    "song_id": 32,
}
DEFAULT_STRING_LIMIT = 1024


class RejectedLine(ValueError):
    """A line that cannot be staged; the message is the reason stored with it."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected input line, kept in rejected_lines with its raw text."""

    source_key: str
    line_number: int
    reason: str
    raw_line: str

    def row(self, partition_key: str | None) -> tuple[Any, ...]:
        """The rejected_lines row for this rejection."""
        return (partition_key, self.source_key, self.line_number, self.reason[:1000], self.raw_line)


def repair_mojibake(text: str | None) -> str | None:
    """Undo UTF-8 text that was decoded as Latin-1 (once or twice), e.g. 'Sigur RÃ\\x83Â³s'.

    Pure ASCII and genuine Latin-1 text ('Beyoncé' has no valid UTF-8 reading) come back
    unchanged, so applying it to clean strings is safe.
    """
    if text is None or text.isascii():
        return text
    return _repair_non_ascii(text)


@functools.lru_cache(maxsize=16384)
def _repair_non_ascii(text: str) -> str:
    """repair_mojibake's work, cached: artist and song names repeat across a day's events."""
    for _ in range(3):
        try:
            repaired = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
        if repaired == text:
            break
        text = repaired
    return text


def _typed(record: dict[str, Any], field: str, kind: str, required: bool) -> Any:
    value = record.get(field)
    if value is None:
        if required:
            raise RejectedLine(f"missing required field {field!r}")
        return None
    if kind == "str":
        if field == "userId" and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise RejectedLine(f"field {field!r}: expected string, got {type(value).__name__}")
        if "\x00" in value:
            raise RejectedLine(f"field {field!r}: contains a NUL character")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise RejectedLine(f"field {field!r}: contains an unpaired surrogate escape") from None
        limit = STRING_LIMITS.get(field, DEFAULT_STRING_LIMIT)
        if len(value) > limit:
            raise RejectedLine(f"field {field!r}: longer than {limit} characters ({len(value)})")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RejectedLine(f"field {field!r}: expected number, got {type(value).__name__}")
    if kind in ("int", "int32"):
        if isinstance(value, float):
            if not value.is_integer():
                raise RejectedLine(f"field {field!r}: expected integer, got {value!r}")
            value = int(value)
        bits = 31 if kind == "int32" else 63  # INTEGER / BIGINT columns
        if not -(2**bits) <= value < 2**bits:
            raise RejectedLine(f"field {field!r}: integer out of range")
    elif isinstance(value, float) and not math.isfinite(value):
        raise RejectedLine(f"field {field!r}: not a finite number")
    return value


def _line_size(raw: bytes) -> int:
    """Real length of a line, also for the capped head iter_lines yields for an oversized one."""
    return raw.size if isinstance(raw, OversizedLine) else len(raw)


def _decode(raw: bytes) -> str:
    size = _line_size(raw)
    if size > MAX_LINE_BYTES:
        raise RejectedLine(f"line longer than {MAX_LINE_BYTES} bytes ({size})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedLine(f"invalid UTF-8 at byte {exc.start}") from None


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """Yield every JSON object on a line; song files may hold several back to back."""
    decoder = json.JSONDecoder()
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos == end:
            return
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise RejectedLine(f"malformed JSON at column {exc.colno}: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise RejectedLine(f"expected a JSON object, got {type(obj).__name__}")
        yield obj


def _raw_text(raw: bytes) -> str:
    return raw[:RAW_TEXT_LIMIT].decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


def _event_values(partition_key: str, source_key: str, line_number: int, record: dict[str, Any]) -> tuple[Any, ...]:
    values = [_typed(record, field, kind, required) for field, kind, required in _EVENT_FIELDS]
    artist, song = values[0], values[13]
    return (partition_key, source_key, line_number, *values, repair_mojibake(artist), repair_mojibake(song))


_OPTIONAL_STR = frozenset({str, type(None)})
_OPTIONAL_INT = frozenset({int, type(None)})
_OPTIONAL_NUM = frozenset({int, float, type(None)})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_EVENT_KEYS: tuple[str, ...] = tuple(field for field, _, _ in _EVENT_FIELDS)


def _long_strings_fit(record: dict[str, Any]) -> bool:
    """Every string value within its column's length (only asked for lines longer than the default limit)."""
    return all(
        len(value) <= STRING_LIMITS.get(key, DEFAULT_STRING_LIMIT)
        for key, value in record.items()
        if type(value) is str
    )


def _plain_event_values(
    partition_key: str, source_key: str, line_number: int, record: dict[str, Any], raw: bytes
) -> tuple[Any, ...] | None:
    """The row of an orjson-parsed record whose fields need no conversion, or None.

    Why: _typed costs ~18 Python calls per line and dominated staging (cProfile, 1M lines).
    This accepts exactly the records _typed would return unchanged, with one type test per
    field; anything else (None) goes through _event_values, which converts or names the reason.
    No field check is skipped: orjson never yields unpaired surrogates or invalid UTF-8
    (it rejects them), and a NUL inside a string can only come from a ``\\u0000`` escape.
    """
    if b"\\u0000" in raw:
        return None
    get = record.get
    artist, auth, first, gender = get("artist"), get("auth"), get("firstName"), get("gender")
    item, last, length, level = get("itemInSession"), get("lastName"), get("length"), get("level")
    location, method, page, registration = get("location"), get("method"), get("page"), get("registration")
    session, song, status, ts = get("sessionId"), get("song"), get("status"), get("ts")
    agent, user = get("userAgent"), get("userId")
    text, whole, number = _OPTIONAL_STR, _OPTIONAL_INT, _OPTIONAL_NUM
    if not (
        type(page) is str
        and type(ts) is int
        and type(user) is str
        and type(artist) in text
        and type(auth) in text
        and type(first) in text
        and type(gender) in text
        and type(last) in text
        and type(level) in text
        and type(location) in text
        and type(method) in text
        and type(song) in text
        and type(agent) in text
        and type(item) in whole
        and type(session) in whole
        and type(status) in whole
        and type(length) in number
        and type(registration) in number
        and _INT64_MIN <= ts <= _INT64_MAX
        and _INT32_MIN <= (item or 0) <= _INT32_MAX
        and _INT32_MIN <= (session or 0) <= _INT32_MAX
        and _INT32_MIN <= (status or 0) <= _INT32_MAX
        # Column lengths (STRING_LIMITS): a decoded string is never longer than the raw line, so
        # short lines only need the narrow columns checked; long ones go through every string.
        and len(auth or "") <= 32
        and len(gender or "") <= 8
        and len(level or "") <= 16
        and len(method or "") <= 16
        and len(page) <= 64
        and len(user) <= 64
        and len(first or "") <= 256
        and len(last or "") <= 256
        and (len(raw) <= DEFAULT_STRING_LIMIT or _long_strings_fit(record))
    ):
        return None
    return (
        partition_key, source_key, line_number, artist, auth, first, gender, item, last, length, level,
        location, method, page, registration, session, song, status, ts, agent, user,
        repair_mojibake(artist), repair_mojibake(song),
    )  # fmt: skip


def _strict_field_type(field: str, kind: str) -> Any:
    """The msgspec type that accepts exactly the values _typed passes through unchanged."""
    if kind == "str":
        return Annotated[str, msgspec.Meta(max_length=STRING_LIMITS.get(field, DEFAULT_STRING_LIMIT))]
    if kind == "int":
        return Annotated[int, msgspec.Meta(ge=_INT64_MIN, le=_INT64_MAX)]
    if kind == "int32":
        return Annotated[int, msgspec.Meta(ge=_INT32_MIN, le=_INT32_MAX)]
    return Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]  # finite


#: A log record as a typed msgspec Struct: decoding validates types, integer ranges, finite
#: numbers, required fields and column lengths in C, with no intermediate dict. Why: the Python
#: side of staging is its bottleneck (bench/bench.py); this is ~3x cheaper per line than orjson +
#: _plain_event_values. Anything it refuses goes the orjson/_typed way, which converts what can
#: be converted and names the reason for what cannot.
_StrictEvent = msgspec.defstruct(
    "StrictEvent",
    [
        (field, _strict_field_type(field, kind))
        if required
        else (field, Optional[_strict_field_type(field, kind)], None)  # noqa: UP045 (a runtime type, not a hint)
        for field, kind, required in _EVENT_FIELDS
    ],
    kw_only=True,
    gc=False,  # scalar fields only: no reference cycles, so not tracked by the cyclic GC
)
_decode_strict_event = msgspec.json.Decoder(_StrictEvent).decode
_strict_event_values = operator.attrgetter(*_EVENT_KEYS)


def _strict_event_row(partition_key: str, source_key: str, line_number: int, raw: bytes) -> tuple[Any, ...] | None:
    """The staging row of a line that msgspec decodes as a valid event, or None (take the orjson way).

    msgspec refuses unpaired surrogates and invalid UTF-8 itself; a ``\\u0000`` escape would
    decode to a NUL, which PostgreSQL text cannot store, so such lines go the slow way (rejected
    there with the field's name).
    """
    if b"\\u0000" in raw:
        return None
    try:
        values = _strict_event_values(_decode_strict_event(raw))
    except (msgspec.DecodeError, ValueError):  # ValidationError; UnicodeDecodeError on invalid UTF-8
        return None
    return (partition_key, source_key, line_number, *values, repair_mojibake(values[0]), repair_mojibake(values[13]))


def event_row(partition_key: str, source_key: str, line_number: int, text: str) -> tuple[Any, ...]:
    """Parse one log line into a staging_events row; raises RejectedLine."""
    objects = list(_objects(text))
    if len(objects) != 1:
        raise RejectedLine(f"expected one JSON object per line, found {len(objects)}")
    return _event_values(partition_key, source_key, line_number, objects[0])


def _fast_object(raw: bytes) -> dict[str, Any] | None:
    """orjson parse of a well-formed line (about 4x faster than json); None sends it the slow way."""
    if _line_size(raw) > MAX_LINE_BYTES:
        return None
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def parse_events(
    partition_key: str, source_key: str, lines: Iterable[bytes], rejected: list[Rejection]
) -> Iterator[tuple[Any, ...]]:
    """Yield staging rows for every good line of one log object; append the bad ones to rejected.

    Good lines take the msgspec strict path (_strict_event_row); a line it declines is parsed
    with orjson and its fields converted or rejected one by one (_plain_event_values, then
    _event_values); anything orjson refuses is re-parsed with the stdlib decoder, which finds the
    precise reason (column, field) stored with the rejection.
    """
    for line_number, raw in enumerate(lines, start=1):
        try:
            if type(raw) is bytes and len(raw) <= MAX_LINE_BYTES:  # not an OversizedLine
                row = _strict_event_row(partition_key, source_key, line_number, raw)
                if row is not None:
                    yield row
                    continue
            record = _fast_object(raw)
            if record is not None:
                row = _plain_event_values(partition_key, source_key, line_number, record, raw)
                yield row if row is not None else _event_values(partition_key, source_key, line_number, record)
            else:
                yield event_row(partition_key, source_key, line_number, _decode(raw))
        except RejectedLine as exc:
            rejected.append(Rejection(source_key, line_number, str(exc), _raw_text(raw)))


def parse_songs(source_key: str, lines: Iterable[bytes], rejected: list[Rejection]) -> Iterator[tuple[Any, ...]]:
    """Yield staging_songs rows for every record of one song object (records numbered from 1)."""
    record_number = 0
    for line_number, raw in enumerate(lines, start=1):
        try:
            objects = list(_objects(_decode(raw)))
            if not objects:
                raise RejectedLine("empty line")
            rows = [
                tuple(_typed(obj, field, kind, required) for field, kind, required in _SONG_FIELDS) for obj in objects
            ]
        except RejectedLine as exc:
            record_number += 1
            rejected.append(Rejection(source_key, record_number, f"line {line_number}: {exc}", _raw_text(raw)))
            continue
        for row in rows:
            record_number += 1
            yield (source_key, record_number, *row)


class OversizedLine(bytes):
    """The kept head of a line longer than the cap; ``size`` is the line's real length in bytes.

    iter_lines yields it instead of the whole line so a file without newlines (or one giant
    line) never has to fit in memory; the parsers reject it with the real size in the reason.
    """

    size: int

    def __new__(cls, head: bytes, size: int) -> OversizedLine:
        line = super().__new__(cls, head)
        line.size = size
        return line


def iter_lines(stream: Iterable[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Split a binary stream into lines without their terminators, holding at most one capped line.

    Objects end without a trailing newline, so the last line is whatever follows the final
    newline; a blank last line (file ending in a newline) is not a record. A line longer than
    ``max_line_bytes`` is not buffered: its first ``max_line_bytes + 1`` bytes are kept, the rest
    is counted and dropped until the next newline, and it comes out as an :class:`OversizedLine`
    (memory stays bounded by the cap plus one chunk, whatever the input).
    """
    keep = max_line_bytes + 1
    buffer = bytearray()
    overflow = 0  # bytes of the current line dropped beyond the kept head
    for chunk in stream:
        first = chunk.find(b"\n")
        if first < 0:
            overflow = _extend_capped(buffer, chunk, keep, overflow)
            continue
        overflow = _extend_capped(buffer, chunk[:first], keep, overflow)
        yield _finish_line(buffer, overflow)
        last = chunk.rfind(b"\n")
        if last > first:
            # The lines wholly inside this chunk, split in C (the per-line loop above cost ~1 us
            # a line); only a chunk holding a CR or an oversized line takes the per-line route.
            inner = chunk[first + 1 : last]
            lines = inner.split(b"\n")
            if b"\r" in inner or max(map(len, lines)) > keep:
                for line in lines:
                    yield _finish_line(bytearray(line[:keep]), max(0, len(line) - keep))
            else:
                yield from lines
        buffer = bytearray()
        overflow = _extend_capped(buffer, chunk[last + 1 :], keep, 0)
    if bytes(buffer).strip() or overflow:
        yield _finish_line(buffer, overflow)


def _extend_capped(buffer: bytearray, piece: bytes, keep: int, overflow: int) -> int:
    """Append piece to the line being assembled, keeping at most keep bytes; returns the new overflow."""
    room = keep - len(buffer)
    if len(piece) <= room:
        buffer += piece
        return overflow
    buffer += piece[: max(room, 0)]
    return overflow + len(piece) - max(room, 0)


def _finish_line(buffer: bytearray, overflow: int) -> bytes:
    """The completed line without its CR; an OversizedLine when it passed the cap."""
    if overflow:
        return OversizedLine(bytes(buffer), len(buffer) + overflow)
    line = bytes(buffer)
    return line[:-1] if line.endswith(b"\r") else line
