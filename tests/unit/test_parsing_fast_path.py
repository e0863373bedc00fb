"""The per-record fast path must give exactly what the field-by-field path gives, or defer to it.

Why: staging speed comes from _plain_event_values skipping _typed for ordinary records; these
tests pin that it accepts only records _typed would pass through unchanged, so validation and
rejection reasons cannot drift (benchmark issue 7).
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
    RejectedLine,
    Rejection,
    _event_values,
    _plain_event_values,
    _strict_event_row,
    parse_events,
)

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


def slow(record: dict[str, Any]) -> tuple[Any, ...] | str:
    try:
        return _event_values("2018-11-01", "k", 1, record)
    except RejectedLine as exc:
        return f"rejected: {exc}"


@pytest.mark.parametrize(("field", "value"), VARIANTS + list(itertools.combinations(VARIANTS, 2)))
def test_fast_path_agrees_with_field_by_field_path(field: Any, value: Any) -> None:
    record = dict(BASE)
    pairs = [(field, value)] if isinstance(field, str) else [field, value]
    for name, val in pairs:
        record[name] = val
    raw = json.dumps(record).encode()  # stdlib: orjson cannot write integers past 64 bits
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return  # the fast path never sees what orjson refuses
    fast = _plain_event_values("2018-11-01", "k", 1, parsed, raw)
    if fast is not None:
        assert fast == slow(parsed)
        assert [type(v) for v in fast] == [type(v) for v in slow(parsed)]


def test_fast_path_takes_the_ordinary_record() -> None:
    raw = orjson.dumps(BASE)
    row = _plain_event_values("2018-11-01", "k", 1, orjson.loads(raw), raw)
    assert row is not None and row == slow(orjson.loads(raw))
    assert row[-2:] == ("Sigur Rós", "Hoppípolla")


def test_missing_optional_fields_take_the_fast_path() -> None:
    record = {"page": "Home", "ts": 1, "userId": ""}
    raw = orjson.dumps(record)
    assert _plain_event_values("2018-11-01", "k", 1, record, raw) == slow(record)


def test_nul_escape_defers_and_is_rejected_with_its_field() -> None:
    raw = orjson.dumps({**BASE, "song": "a\x00b"})
    assert b"\\u0000" in raw
    rejected: list[Rejection] = []
    assert list(parse_events("p", "k", [raw], rejected)) == []
    assert "song" in rejected[0].reason and "NUL" in rejected[0].reason


# --------------------------------------------------------------------------- msgspec strict path
# _strict_event_row decodes straight into a typed msgspec Struct. It must accept only lines the
# field-by-field path loads, and give the same row; a JSON integer in a DOUBLE PRECISION field
# comes back as float (the same stored value), nothing else may differ.


def assert_same_row(strict: tuple[Any, ...], expected: tuple[Any, ...] | str) -> None:
    assert not isinstance(expected, str), f"strict path loaded a line the slow path rejects: {expected}"
    for got, want in zip(strict, expected, strict=True):
        if type(got) is float and type(want) is int:
            assert got == float(want), (got, want)  # what DOUBLE PRECISION stores either way
        else:
            assert type(got) is type(want) and got == want, (got, want)


@pytest.mark.parametrize(("field", "value"), VARIANTS + list(itertools.combinations(VARIANTS, 2)))
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_strict_path_agrees_with_field_by_field_path(field: Any, value: Any, ensure_ascii: bool) -> None:
    record = dict(BASE)
    pairs = [(field, value)] if isinstance(field, str) else [field, value]
    for name, val in pairs:
        record[name] = val
    raw = json.dumps(record, ensure_ascii=ensure_ascii).encode()
    strict = _strict_event_row("2018-11-01", "k", 1, raw)
    if strict is not None:
        assert_same_row(strict, slow(json.loads(raw)))


def test_strict_path_takes_the_ordinary_record_and_repairs_mojibake() -> None:
    raw = orjson.dumps(BASE)  # orjson writes non-ASCII as UTF-8, not \u escapes
    row = _strict_event_row("2018-11-01", "k", 1, raw)
    assert row is not None
    assert_same_row(row, slow(orjson.loads(raw)))
    assert row[-2:] == ("Sigur Rós", "Hoppípolla")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"page": "Home", "ts": 1, "userId": "a", "userId": "b"}',  # duplicate key: the last one wins
        b'{"page": "Home", "ts": 1, "userId": "a", "extra": [1, {"x": null}]}',  # unknown fields ignored
        b'  {"page": "Home", "ts": 1, "userId": ""}  ',
        b'{"page": "Home", "ts": 1, "userId": "", "length": 3}',
        b'{"page": "Home", "ts": 1, "userId": "a\\u00e9", "song": "Caf\\u00c3\\u0083\\u00c2\\u00a9 \\ud83d\\ude00"}',
        b'{"page": "Home", "ts": 1, "userId": "", "registration": 1180591620717411303425}',  # 2**70 + 1
    ],
)
def test_strict_path_edge_cases_match(raw: bytes) -> None:
    strict = _strict_event_row("2018-11-01", "k", 1, raw)
    assert strict is not None
    assert_same_row(strict, slow(json.loads(raw)))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"page": "Home", "ts": 1}',  # missing required userId
        b'{"page": "Home", "ts": 1, "userId": 7}',  # int userId: the slow path converts it
        b'{"page": "Home", "ts": 1.0, "userId": "a"}',  # integral float ts: converted by the slow path
        b'{"page": "Home", "ts": 1, "userId": "a"} {"page": "Home"}',  # two objects on a line
        b'[1, 2]',
        b'{"page": "Home", "ts": 1, "userId": "a", "song": "a\\u0000b"}',  # NUL: rejected by the slow path
        b'{"page": "Home", "ts": 1, "userId": "a", "song": "\\ud800"}',  # lone surrogate
        b'{"page": "Home", "ts": 1, "userId": "a", "length": 1e400}',  # not finite
        b'{"page": "Home", "ts": 1, "userId": "Bj\xf6rk"}',  # invalid UTF-8
        b'{"page": "Home", "ts": 9223372036854775808, "userId": "a"}',  # past BIGINT
        b"",
    ],
)
def test_strict_path_declines_what_needs_conversion_or_a_reason(raw: bytes) -> None:
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
    raw = json.dumps(record, ensure_ascii=ensure_ascii).encode()
    strict = _strict_event_row("2018-11-01", "k", 1, raw)
    if strict is not None:
        assert_same_row(strict, slow(json.loads(raw)))
