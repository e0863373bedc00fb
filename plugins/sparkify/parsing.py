"""Turn raw JSON lines from the source into typed staging rows, or into rejections.

Parsing happens in Python, record by record, because every input record must end up either
loaded or rejected with a reason naming the field (nothing is dropped silently), and because the
double-Latin-1 mojibake in log strings has to be repaired before songs can be matched. The rows
are then streamed to the warehouse with COPY, so Python never builds INSERTs.

What counts as a record (the data contract in the README): every JSON value on a line, where
values may be separated by any JSON whitespace (space, tab, CR) as Redshift's COPY reads them;
a whitespace-only line and a UTF-8 byte order mark at the start of an object are not records
(counted as blank lines). Each record is identified by its source key, its 1-based line and its
1-based position on that line (``record_in_line``).

Why the parser must never raise on input: one unexpected exception would fail a whole partition
(or a batch of song files) for one bad record and be retried as if transient. Every error while
decoding or converting a record becomes a rejection, and every row it yields holds only values
the staging columns can store (valid UTF-8 without NUL, integers and finite floats in range).
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import math
import operator
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Annotated, Any, Optional

import msgspec
import orjson

from sparkify.source_schema import (
    EVENT_COLUMNS,
    EVENT_FIELDS,
    LINEAGE_COLUMNS,
    SONG_COLUMNS,
    SONG_FIELDS,
    SONGPLAY_IDENTITY,
    Field,
)

__all__ = [  # the column tuples are re-exported: the staging rows follow them
    "EVENT_COLUMNS",
    "LINEAGE_COLUMNS",
    "REJECT_COLUMNS",
    "SONG_COLUMNS",
    "OversizedLine",
    "ParseStats",
    "Rejection",
    "RejectionSpool",
    "iter_lines",
    "parse_events",
    "parse_songs",
    "repair_mojibake",
]

MAX_LINE_BYTES = 64 * 1024
#: Characters of a rejected record's raw text kept in rejected_lines.raw_line (VARCHAR(4096)):
#: the text is escaped first and cut afterwards, so the stored value never exceeds the column.
RAW_TEXT_LIMIT = 4000
#: rejected_lines.reason is VARCHAR(1024).
REASON_LIMIT = 1000
#: The bytes that JSON treats as whitespace (RFC 8259); str.isspace() would accept more.
JSON_WHITESPACE = b" \t\r\n"
UTF8_BOM = b"\xef\xbb\xbf"


REJECT_COLUMNS: tuple[str, ...] = (
    "partition_key",
    "source_key",
    "line_number",
    "record_in_line",
    "reason",
    "byte_length",
    "raw_sha256",
    "raw_line",
)


class RejectedLine(ValueError):
    """A record that cannot be staged; the message is the reason stored with it."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected input record, kept in rejected_lines with its (bounded) raw text.

    byte_length and raw_sha256 describe the whole raw record even when raw_line is cut, so a
    rejected record can be found again in its source object and told apart from others.
    """

    source_key: str
    line_number: int
    reason: str
    raw_line: str
    record_in_line: int = 1
    byte_length: int = 0
    raw_sha256: str = ""

    def row(self, partition_key: str | None) -> tuple[Any, ...]:
        """The rejected_lines row for this rejection (REJECT_COLUMNS order)."""
        return (
            partition_key,
            self.source_key,
            self.line_number,
            self.record_in_line,
            self.reason[:REASON_LIMIT],
            self.byte_length,
            self.raw_sha256,
            self.raw_line,
        )


@dataclass
class ParseStats:
    """What the parser saw in one or more objects: every line is blank or holds >= 1 record,
    and every record is staged or rejected (records = staged + rejected)."""

    lines: int = 0
    blank_lines: int = 0
    records: int = 0
    rejected: int = 0

    @property
    def staged(self) -> int:
        """Records that became rows."""
        return self.records - self.rejected


class RejectionSpool:
    """Rejections of one load, kept on disk beyond a small buffer so memory stays bounded.

    Why: a file of garbage can hold millions of bad records; a Python list of them grew without
    limit (bench/RESULTS-hostile.md). Rows are marshalled into a SpooledTemporaryFile
    (memory up to ``memory_bytes``, then a temporary file) and read back once, after the staged
    rows, by the COPY into rejected_lines. The first ``keep`` rejections stay in memory for logs.
    """

    def __init__(self, partition_key: str | None, keep: int = 5, memory_bytes: int = 4 << 20) -> None:
        self.partition_key = partition_key
        self.keep = keep
        self.first: list[Rejection] = []
        self.count = 0
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=memory_bytes)

    def append(self, rejection: Rejection) -> None:
        """Spool one rejection (the parsers call this like list.append)."""
        if len(self.first) < self.keep:
            self.first.append(rejection)
        marshal.dump(rejection.row(self.partition_key), self._file)
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every spooled rejected_lines row, in order; reading them closes the spool."""
        self._file.seek(0)
        try:
            for _ in range(self.count):
                yield marshal.load(self._file)  # noqa: S302 (our own rows, written above by this process)
        finally:
            self._file.close()

    __iter__ = rows


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


def _typed(record: dict[str, Any], rule: Field) -> Any:
    """The column value of one field, or RejectedLine naming the field and the problem."""
    field, kind = rule.json, rule.kind
    value = record.get(field)
    if value is None:
        if rule.required:
            raise RejectedLine(f"missing required field {field!r}")
        return None
    if kind == "str":
        if field == "userId" and isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= 10**rule.max_length:
                raise RejectedLine(f"field {field!r}: longer than {rule.max_length} characters")
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
        limit = rule.max_length
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
    else:
        try:
            value = float(value)
        except OverflowError:
            raise RejectedLine(f"field {field!r}: number out of range") from None
        if not math.isfinite(value):
            raise RejectedLine(f"field {field!r}: not a finite number")
    if (rule.low is not None and value < rule.low) or (rule.high is not None and value > rule.high):
        raise RejectedLine(f"field {field!r}: {value!r} outside the accepted range [{rule.low}, {rule.high}]")
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


def _parse_int(text: str) -> int | float:
    """A JSON integer; one past Python's digit limit becomes float (infinity) instead of raising.

    Why: int() refuses more than sys.get_int_max_str_digits() digits (ValueError), which would
    reject a record for a number in a field nobody reads, while msgspec skips such a field. As a
    float the number loads where it is ignored and is rejected as "not a finite number" in a
    numeric field, on both paths alike.
    """
    limit = sys.get_int_max_str_digits()
    return int(text) if not limit or len(text) <= limit else float(text)


_DECODER = json.JSONDecoder(parse_int=_parse_int)
_JSON_WS = " \t\r\n"


def _json_values(text: str) -> Iterator[tuple[Any, str]]:
    """(value, its source text) for every JSON value on a line, separated by JSON whitespace.

    A value that cannot be parsed ends the line: it and everything after it come back as one
    RejectedLine (there is no reliable place to resume). Never raises: deep nesting
    (RecursionError) and integers beyond Python's digit limit (ValueError) are rejections too.
    """
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _JSON_WS:
            pos += 1
        if pos >= end:
            return
        try:
            value, after = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield RejectedLine(f"malformed JSON at column {exc.colno}: {exc.msg}"), text[pos:]
            return
        except RecursionError:
            yield RejectedLine(f"malformed JSON at column {pos + 1}: nested too deeply"), text[pos:]
            return
        except ValueError as exc:  # nothing known raises it any more (see _parse_int); never crash on it
            yield RejectedLine(f"malformed JSON at column {pos + 1}: {exc}"), text[pos:]
            return
        if not isinstance(value, dict):
            value = RejectedLine(f"expected a JSON object, got {type(value).__name__}")
        yield value, text[pos:after]
        pos = after


def _raw_text(raw: bytes) -> str:
    """Printable, storable head of a raw record: invalid UTF-8 and NUL escaped, then cut.

    Escaping first and cutting after keeps the stored text within RAW_TEXT_LIMIT characters
    whatever the bytes (escaping can make a byte four characters long).
    """
    head = bytes(raw[: RAW_TEXT_LIMIT * 4])
    text = head.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    return text[:RAW_TEXT_LIMIT]


def _rejection(source_key: str, line_number: int, record: int, reason: str, raw: bytes) -> Rejection:
    """A Rejection with the raw record's size and hash (of all of it, also for an oversized line)."""
    digest = raw.sha256 if isinstance(raw, OversizedLine) else hashlib.sha256(raw).hexdigest()
    text = reason.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return Rejection(source_key, line_number, text[:REASON_LIMIT], _raw_text(raw), record, _line_size(raw), digest)


def _identity_problem(record: dict[str, Any], user_id: Any) -> str | None:
    """Why a NextSong event of a logged-in user cannot become a songplay, or None."""
    if record.get("page") != "NextSong" or user_id in (None, ""):
        return None
    missing = [field for field in SONGPLAY_IDENTITY if record.get(field) is None]
    if missing:
        return f"missing required field {missing[0]!r} (part of a NextSong event's songplay identity)"
    return None


def _event_values(
    partition_key: str, source_key: str, line_number: int, record_in_line: int, record: dict[str, Any]
) -> tuple[Any, ...]:
    """The staging row of one parsed event, or RejectedLine naming the first bad field."""
    values = [_typed(record, rule) for rule in EVENT_FIELDS]
    problem = _identity_problem(record, values[_USER_ID])
    if problem:
        raise RejectedLine(problem)
    artist, song = values[_ARTIST], values[_SONG]
    return (
        partition_key, source_key, line_number, record_in_line, *values,
        repair_mojibake(artist), repair_mojibake(song),
    )  # fmt: skip


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_EVENT_KEYS: tuple[str, ...] = tuple(rule.json for rule in EVENT_FIELDS)
_ARTIST, _SONG, _PAGE, _USER_ID = (_EVENT_KEYS.index(f) for f in ("artist", "song", "page", "userId"))
_IDENTITY_INDEXES = tuple(_EVENT_KEYS.index(f) for f in SONGPLAY_IDENTITY)


def _strict_field_type(rule: Field) -> Any:
    """The msgspec type that accepts exactly the values _typed passes through unchanged."""
    if rule.kind == "str":
        return Annotated[str, msgspec.Meta(max_length=rule.max_length)]
    if rule.kind in ("int", "int32"):
        low, high = (_INT64_MIN, _INT64_MAX) if rule.kind == "int" else (_INT32_MIN, _INT32_MAX)
        low = max(low, int(rule.low)) if rule.low is not None else low
        high = min(high, int(rule.high)) if rule.high is not None else high
        return Annotated[int, msgspec.Meta(ge=low, le=high)]
    low_f = rule.low if rule.low is not None else -sys.float_info.max
    high_f = rule.high if rule.high is not None else sys.float_info.max
    return Annotated[float, msgspec.Meta(ge=low_f, le=high_f)]  # finite, within the rule's range


#: A log record as a typed msgspec Struct: decoding validates types, integer ranges, finite
#: numbers, required fields and column lengths in C, with no intermediate dict. Why: the Python
#: side of staging is its bottleneck (bench/bench.py). Anything it refuses goes the orjson/_typed
#: way, which converts what can be converted and names the reason for what cannot.
_StrictEvent = msgspec.defstruct(
    "StrictEvent",
    [
        (rule.json, _strict_field_type(rule))
        if rule.required
        else (rule.json, Optional[_strict_field_type(rule)], None)  # noqa: UP045 (a runtime type, not a hint)
        for rule in EVENT_FIELDS
    ],
    kw_only=True,
    gc=False,  # scalar fields only: no reference cycles, so not tracked by the cyclic GC
)
_decode_strict_event = msgspec.json.Decoder(_StrictEvent).decode
_strict_event_values = operator.attrgetter(*_EVENT_KEYS)


def _strict_event_row(partition_key: str, source_key: str, line_number: int, raw: bytes) -> tuple[Any, ...] | None:
    """The staging row of a line that msgspec decodes as one valid event, or None (take the slow way).

    Declined here, decided on the slow path: a ``\\u0000`` escape (a NUL, which PostgreSQL text
    cannot store); invalid UTF-8 anywhere in the line (msgspec does not validate the bytes of
    fields it skips, the reference parser rejects the line); a NextSong event missing part of its
    songplay identity; anything msgspec raises on (deep nesting raises RecursionError).
    """
    if b"\\u0000" in raw:
        return None
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        values = _strict_event_values(_decode_strict_event(raw))
    except Exception:  # ValidationError, DecodeError, RecursionError: the slow path names the reason
        return None
    if values[_PAGE] == "NextSong" and values[_USER_ID] != "" and None in (values[i] for i in _IDENTITY_INDEXES):
        return None
    return (
        partition_key, source_key, line_number, 1, *values,
        repair_mojibake(values[_ARTIST]), repair_mojibake(values[_SONG]),
    )  # fmt: skip


def _fast_object(raw: bytes) -> dict[str, Any] | None:
    """orjson parse of a line holding one JSON object (faster than the stdlib's); None otherwise."""
    if _line_size(raw) > MAX_LINE_BYTES:
        return None
    try:
        record = orjson.loads(raw)
    except Exception:  # JSONDecodeError (also for invalid UTF-8, depth > 1024, huge numbers)
        return None
    return record if isinstance(record, dict) else None


def _line_outcomes(
    source_key: str, line_number: int, raw: bytes, convert: Any
) -> Iterator[tuple[Any, ...] | Rejection]:
    """Rows and Rejections of every record on one non-blank line, in order; never raises.

    convert(record_in_line, record) returns the row or raises RejectedLine. A line orjson reads
    as one object skips the stdlib decoder; anything else is split into its JSON values, each
    judged on its own, and the first unparseable rest of the line is one rejection.
    """
    record = _fast_object(raw)
    if record is not None:
        yield _converted(source_key, line_number, 1, record, raw, convert)
        return
    try:
        text = _decode(raw)
    except RejectedLine as exc:
        yield _rejection(source_key, line_number, 1, str(exc), raw)
        return
    for index, (value, piece) in enumerate(_json_values(text), start=1):
        piece_raw = piece.encode("utf-8", "surrogatepass")
        if isinstance(value, RejectedLine):
            yield _rejection(source_key, line_number, index, str(value), piece_raw)
        else:
            yield _converted(source_key, line_number, index, value, piece_raw, convert)


def _converted(
    source_key: str, line_number: int, index: int, record: dict[str, Any], raw: bytes, convert: Any
) -> tuple[Any, ...] | Rejection:
    """convert's row, or the Rejection for whatever it raised (RejectedLine or anything unforeseen)."""
    try:
        return convert(index, record)
    except RejectedLine as exc:
        return _rejection(source_key, line_number, index, str(exc), raw)
    except Exception as exc:  # never let one record stop a partition: unforeseen errors are rejections too
        return _rejection(source_key, line_number, index, f"cannot convert record: {type(exc).__name__}: {exc}", raw)


def _is_blank(raw: bytes) -> bool:
    return not raw.strip(JSON_WHITESPACE) and not isinstance(raw, OversizedLine)


def parse_events(
    partition_key: str,
    source_key: str,
    lines: Iterable[bytes],
    rejected: Any,
    stats: ParseStats | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Yield staging rows for every good record of one log object; append the bad ones to rejected.

    rejected: anything with append(Rejection) (a list, a RejectionSpool). stats, when given, is
    updated with the lines, blank lines, records and rejections seen.
    Good lines take the msgspec strict path (_strict_event_row); a line it declines is parsed
    with orjson or split into its JSON values (_line_outcomes), whose fields are converted or
    rejected one by one (_event_values), with the precise reason stored with the rejection.
    """
    stats = stats if stats is not None else ParseStats()

    def convert(record_in_line: int, record: dict[str, Any]) -> tuple[Any, ...]:
        return _event_values(partition_key, source_key, line_number, record_in_line, record)

    line_number = 0
    for line_number, raw in enumerate(lines, start=1):
        if line_number == 1 and raw[:3] == UTF8_BOM and type(raw) is bytes:
            raw = raw[3:]
        if type(raw) is bytes and 0 < len(raw) <= MAX_LINE_BYTES:  # not an OversizedLine
            row = _strict_event_row(partition_key, source_key, line_number, raw)
            if row is not None:
                stats.records += 1
                yield row
                continue
        if _is_blank(raw):
            stats.blank_lines += 1
            continue
        for outcome in _line_outcomes(source_key, line_number, raw, convert):
            stats.records += 1
            if isinstance(outcome, Rejection):
                stats.rejected += 1
                rejected.append(outcome)
            else:
                yield outcome
    stats.lines += line_number


def parse_songs(
    source_key: str, lines: Iterable[bytes], rejected: Any, stats: ParseStats | None = None
) -> Iterator[tuple[Any, ...]]:
    """Yield staging_songs rows for every record of one song object.

    Song files may hold several records back to back; records (staged and rejected alike) are
    numbered from 1 across the object and that number is their line_number, the physical line is
    named in a rejection's reason. One bad record never takes its neighbours with it.
    """
    stats = stats if stats is not None else ParseStats()

    def convert(_: int, record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(_typed(record, rule) for rule in SONG_FIELDS)

    record_number = 0
    line_number = 0
    for line_number, raw in enumerate(lines, start=1):
        if line_number == 1 and raw[:3] == UTF8_BOM and type(raw) is bytes:
            raw = raw[3:]
        if _is_blank(raw):
            stats.blank_lines += 1
            continue
        for outcome in _line_outcomes(source_key, line_number, raw, convert):
            record_number += 1
            stats.records += 1
            if isinstance(outcome, Rejection):
                stats.rejected += 1
                rejected.append(
                    Rejection(
                        source_key,
                        record_number,
                        f"line {line_number}: {outcome.reason}"[:REASON_LIMIT],
                        outcome.raw_line,
                        1,
                        outcome.byte_length,
                        outcome.raw_sha256,
                    )
                )
            else:
                yield (source_key, record_number, *outcome)
    stats.lines += line_number


class OversizedLine(bytes):
    """The kept head of a line longer than the cap, with the real length and hash of the whole line.

    iter_lines yields it instead of the whole line so a file without newlines (or one giant
    line) never has to fit in memory; the parsers reject it with the real size in the reason and
    the SHA-256 of all its bytes, computed while they streamed past.
    """

    size: int
    sha256: str

    def __new__(cls, head: bytes, size: int, sha256: str = "") -> OversizedLine:
        line = super().__new__(cls, head)
        line.size = size
        line.sha256 = sha256
        return line


class _LineAssembler:
    """Collects one line from pieces, keeping at most ``keep`` bytes and hashing the rest as it goes."""

    __slots__ = ("hasher", "head", "keep", "size")

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.head = bytearray()
        self.size = 0
        self.hasher: Any = None

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        room = self.keep - len(self.head)
        if self.hasher is None:
            if len(piece) <= room:
                self.head += piece
                return
            self.hasher = hashlib.sha256(self.head)
        self.hasher.update(piece)
        if room > 0:
            self.head += piece[:room]

    def pending(self) -> bool:
        """Something other than JSON whitespace is waiting (or an oversized line)."""
        return self.hasher is not None or bool(bytes(self.head).strip(JSON_WHITESPACE))

    def finish(self) -> bytes:
        """The completed line (without its CR), or an OversizedLine; the assembler starts afresh."""
        if self.hasher is None:
            line = bytes(self.head)
            line = line[:-1] if line.endswith(b"\r") else line
        else:
            line = OversizedLine(bytes(self.head), self.size, self.hasher.hexdigest())
        self.head, self.size, self.hasher = bytearray(), 0, None
        return line


def _whole_line(line: bytes, keep: int) -> bytes:
    """A line found whole inside one chunk: without its CR, or an OversizedLine past the cap."""
    if len(line) > keep:
        return OversizedLine(line[:keep], len(line), hashlib.sha256(line).hexdigest())
    return line[:-1] if line.endswith(b"\r") else line


def iter_lines(stream: Iterable[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Split a binary stream into lines without their terminators, holding at most one capped line.

    Objects end without a trailing newline, so the last line is whatever follows the final
    newline; a blank last line (file ending in a newline) is not a line. A line longer than
    ``max_line_bytes`` is not buffered: its first ``max_line_bytes + 1`` bytes are kept, the rest
    is hashed and dropped until the next newline, and it comes out as an :class:`OversizedLine`
    (memory stays bounded by the cap plus one chunk, whatever the input).
    """
    keep = max_line_bytes + 1
    line = _LineAssembler(keep)
    for chunk in stream:
        first = chunk.find(b"\n")
        if first < 0:
            line.add(chunk)
            continue
        line.add(chunk[:first])
        yield line.finish()
        last = chunk.rfind(b"\n")
        if last > first:
            # The lines wholly inside this chunk, split in C (cheaper than the per-line loop
            # above); only a chunk holding a CR or an oversized line takes the per-line route.
            inner = chunk[first + 1 : last]
            lines = inner.split(b"\n")
            if b"\r" in inner or max(map(len, lines)) > keep:
                for whole in lines:
                    yield _whole_line(whole, keep)
            else:
                yield from lines
        line.add(chunk[last + 1 :])
    if line.pending():
        yield line.finish()
