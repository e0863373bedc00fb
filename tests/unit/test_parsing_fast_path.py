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

from sparkify.parsing import RejectedLine, Rejection, _event_values, _plain_event_values, parse_events

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
