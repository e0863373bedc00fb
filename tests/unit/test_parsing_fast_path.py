"""The msgspec strict path must give exactly what the field-by-field path gives, or defer to it.

Why: staging speed comes from _strict_event_row decoding ordinary lines straight into typed
values; these tests pin that it accepts only lines the reference path (_event_values on the
stdlib parse) loads unchanged, so validation and rejection reasons cannot drift (issue 7).

Every case asserts its expected outcome, decided by an oracle independent of the strict path:
- the reference rejects the record -> the strict path declines (the slow path names the reason);
- the reference loads it only after converting a value (an integer userId, an integral float in
  an integer field) -> the strict path declines (it converts nothing);
- the line holds a \\u0000 escape anywhere -> the strict path declines (which field holds the NUL
  decides between loading and rejecting, so the slow path looks);
- otherwise -> the strict path takes the line and gives the reference's row.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkify.parsing import (
    _DECODER,
    RejectedLine,
    Rejection,
    _event_values,
    _strict_event_row,
    parse_events,
)
from sparkify.source_schema import EVENT_FIELDS

BASE: dict[str, Any] = {
    "artist": "Sigur RÃ\x83Â³s",
    "auth": "Logged In",
    "firstName": "Walter",
    "gender": "M",
    "itemInSession": 0,
    "lastName": "Frye",
    "length": 215.5,
    "level": "free",
    "location": "San Francisco-Oakland-Hayward, CA",
    "method": "PUT",
    "page": "NextSong",
    "registration": 1540919166796.0,
    "sessionId": 38,
    "song": "Hoppípolla",
    "status": 200,
    "ts": 1541105830796,
    "userAgent": '"Mozilla/5.0 (Windows NT 6.1)"',
    "userId": "39",
}

VARIANTS: list[tuple[str, Any]] = [
    ("userId", 39),
    ("userId", ""),
    ("userId", None),
    ("userId", True),
    ("ts", 1541105830796.0),
    ("ts", 1.5),
    ("ts", "1541105830796"),
    ("ts", 2**63),
    ("ts", -(2**63)),
    ("ts", None),
    ("page", None),
    ("page", 3),
    ("itemInSession", True),
    ("itemInSession", 2.0),
    ("itemInSession", 2**64 - 1),
    ("sessionId", None),
    ("status", "200"),
    ("length", None),
    ("length", 3),
    ("length", False),
    ("length", "215.5"),
    ("registration", 2**70),
    ("artist", None),
    ("artist", 5),
    ("song", "a\x00b"),
    ("firstName", ["x"]),
    ("location", {"a": 1}),
    ("level", "paid"),
    ("itemInSession", 2**31),
    ("itemInSession", 2**31 - 1),
    ("sessionId", -(2**31) - 1),
    ("status", 2**40),
    ("gender", "M" * 9),
    ("gender", "M" * 8),
    ("auth", "x" * 33),
    ("page", "p" * 65),
    ("userId", "u" * 65),
    ("song", "s" * 1025),
    ("song", "s" * 1024),
    ("userAgent", "a" * 1025),
    ("length", 1e308),
]


_INTEGER_FIELDS = frozenset(rule.json for rule in EVENT_FIELDS if rule.kind in ("int", "int32"))


def slow(record: dict[str, Any]) -> tuple[Any, ...] | str:
    """The reference: the field-by-field path on a stdlib-parsed record."""
    try:
        return _event_values("2018-11-01", "k", 1, 1, record)
    except RejectedLine as exc:
        return f"rejected: {exc}"


def needs_conversion(record: dict[str, Any]) -> bool:
    """The reference loads this record only after changing a value's type."""
    user = record.get("userId")
    if isinstance(user, int) and not isinstance(user, bool):
        return True
    return any(isinstance(record.get(field), float) for field in _INTEGER_FIELDS)


def expected_outcome(record: dict[str, Any], raw: bytes = b"") -> str:
    """'decline: <why>' or 'take', as the module docstring defines."""
    reference = slow(record)
    if isinstance(reference, str):
        return f"decline: {reference}"
    if needs_conversion(record):
        return "decline: needs conversion"
    if b"\\u0000" in raw:
        return "decline: NUL escape"
    return "take"


def assert_same_row(strict: tuple[Any, ...], expected: tuple[Any, ...] | str) -> None:
    assert not isinstance(expected, str), f"strict path loaded a line the slow path rejects: {expected}"
    for got, want in zip(strict, expected, strict=True):
        assert type(got) is type(want) and got == want, (got, want)


def assert_agrees(raw: bytes) -> str:
    """Assert the strict path's outcome on raw is the expected one; return that outcome."""
    record = _DECODER.decode(raw.decode())
    outcome = expected_outcome(record, raw)
    strict = _strict_event_row("2018-11-01", "k", 1, raw)
    if outcome == "take":
        assert strict is not None, f"strict path declined a line it should take: {raw[:200]!r}"
        assert_same_row(strict, slow(record))
    else:
        assert strict is None, f"strict path took a line it should decline ({outcome}): {raw[:200]!r}"
    return outcome


def _record(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(BASE)
    for name, value in pairs:
        record[name] = value
    return record


# ensure_ascii only changes how non-ASCII text is written: both spellings for single variants, the
# pairs (820 combinations) once, with raw UTF-8 (the common case in real files).
@pytest.mark.parametrize(("field", "value"), VARIANTS)
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_strict_path_single_variant(field: str, value: Any, ensure_ascii: bool) -> None:
    assert_agrees(json.dumps(_record([(field, value)]), ensure_ascii=ensure_ascii).encode())


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(VARIANTS, 2)))
def test_strict_path_pair_of_variants(first: tuple[str, Any], second: tuple[str, Any]) -> None:
    assert_agrees(json.dumps(_record([first, second]), ensure_ascii=False).encode())


def test_variants_cover_every_outcome() -> None:
    """The variant list exercises taking, declining to convert and declining to reject."""
    outcomes = {assert_agrees(json.dumps(_record([v])).encode()).split(":")[0] for v in VARIANTS}
    conversions = [v for v in VARIANTS if expected_outcome(_record([v])) == "decline: needs conversion"]
    assert outcomes == {"take", "decline"} and conversions


def test_strict_path_takes_the_ordinary_record_and_repairs_mojibake() -> None:
    raw = orjson.dumps(BASE)  # orjson writes non-ASCII as UTF-8, not \u escapes
    row = _strict_event_row("2018-11-01", "k", 1, raw)
    assert row is not None
    assert_same_row(row, slow(orjson.loads(raw)))
    assert row[-2:] == ("Sigur Rós", "Hoppípolla")


def test_nul_escape_defers_and_is_rejected_with_its_field() -> None:
    raw = orjson.dumps({**BASE, "song": "a\x00b"})
    assert b"\\u0000" in raw
    assert _strict_event_row("2018-11-01", "k", 1, raw) is None
    rejected: list[Rejection] = []
    assert list(parse_events("p", "k", [raw], rejected)) == []
    assert "song" in rejected[0].reason and "NUL" in rejected[0].reason


@pytest.mark.parametrize(
    "raw",
    [
        b'{"page": "Home", "ts": 1, "userId": "a", "userId": "b"}',  # duplicate key: the last one wins
        b'{"page": "Home", "ts": 1, "userId": "a", "extra": [1, {"x": null}]}',  # unknown fields ignored
        b'  {"page": "Home", "ts": 1, "userId": ""}  ',
        b'{"page": "Home", "ts": 1, "userId": "", "length": 3}',
        b'{"page": "Home", "ts": 1, "userId": "a\\u00e9", "song": "Caf\\u00c3\\u0083\\u00c2\\u00a9 \\ud83d\\ude00"}',
        b'{"page": "Home", "ts": 1, "userId": "", "registration": 1180591620717411303425}',  # 2**70 + 1
        b'{"page": "NextSong", "ts": 1, "userId": ""}',  # logged out: no songplay identity needed
        b'{"page": "Home", "ts": 1, "userId": "", "x": 1' + b"0" * 5000 + b"}",  # past int's digit limit
    ],
)
def test_strict_path_edge_cases_match(raw: bytes) -> None:
    assert assert_agrees(raw) == "take"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"page": "Home", "ts": 1}', "rejected: missing required field 'userId'"),
        (b'{"page": "Home", "ts": 1, "userId": 7}', "needs conversion"),
        (b'{"page": "Home", "ts": 1.0, "userId": "a"}', "needs conversion"),
        (b'{"page": "Home", "ts": 1, "userId": "a", "song": "a\\u0000b"}', "rejected: field 'song': contains a NUL"),
        (b'{"page": "Home", "ts": 1, "userId": "a", "song": "\\ud800"}', "rejected: field 'song': contains an unpa"),
        (b'{"page": "Home", "ts": 1, "userId": "a", "length": 1e400}', "rejected: field 'length': not a finite"),
        (b'{"page": "Home", "ts": 9223372036854775808, "userId": "a"}', "rejected: field 'ts': integer out of range"),
        (b'{"page": "Home", "ts": -1, "userId": "a"}', "rejected: field 'ts': -1 outside the accepted range"),
        (b'{"page": "NextSong", "ts": 1, "userId": "a", "itemInSession": 1}', "rejected: missing required field"),
        (b'{"page": "Home", "ts": 1, "userId": "a", "length": -0.5}', "rejected: field 'length': -0.5 outside"),
    ],
)
def test_strict_path_declines_what_needs_conversion_or_a_reason(raw: bytes, why: str) -> None:
    assert _strict_event_row("2018-11-01", "k", 1, raw) is None
    assert expected_outcome(json.loads(raw)).startswith(f"decline: {why}")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"page": "Home", "ts": 1, "userId": "a"} {"page": "Home"}',  # two values: split by the slow path
        b"[1, 2]",
        b'{"page": "Home", "ts": 1, "userId": "Bj\xf6rk"}',  # invalid UTF-8 in a field
        b'{"page": "Home", "ts": 1, "userId": "a", "x": "\xff"}',  # ... and in a field msgspec skips
        b'{"page": "Home", "ts": 1, "userId": "a", "x": ' + b"[" * 1500 + b"]" * 1500 + b"}",  # RecursionError
        b"",
    ],
)
def test_strict_path_declines_what_is_not_one_json_object(raw: bytes) -> None:
    """Lines the stdlib cannot load as one object: the strict path must not take them."""
    assert _strict_event_row("2018-11-01", "k", 1, raw) is None


_JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.text(alphabet="ab\x00é\u0083", max_size=70),
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from([*BASE, "other"]), _JSON_VALUES, max_size=6),
    dropped=st.sets(st.sampled_from(list(BASE)), max_size=3),
    ensure_ascii=st.booleans(),
)
def test_strict_path_property(changes: dict[str, Any], dropped: set[str], ensure_ascii: bool) -> None:
    record = {k: v for k, v in {**BASE, **changes}.items() if k not in dropped}
    assert_agrees(json.dumps(record, ensure_ascii=ensure_ascii).encode())
