"""The source schemas (sparkify.source_schema) and the staging DDL cannot drift apart.

Every column of staging_events / staging_songs is declared once, as a Field; this test parses
sql/ddl with sqlglot and compares names, order, types, VARCHAR lengths and NOT NULL with what
the fields derive, and checks that every consumer takes its list from the same declaration.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from sparkify.config import SQL_DIR
from sparkify.parsing import _EVENT_KEYS, _StrictEvent
from sparkify.source_schema import (
    COLUMN_TYPES,
    EVENT_COLUMNS,
    EVENT_DERIVED_COLUMNS,
    EVENT_FIELDS,
    EVENT_LINEAGE_COLUMNS,
    LINEAGE_COLUMNS,
    SONG_FIELDS,
    SONG_TABLE_COLUMNS,
)
from sparkify.warehouse.redshift_sql import EVENT_JSON_FIELDS, SONG_JSON_FIELDS, build_jsonpaths


def ddl(table: str) -> dict[str, tuple[str, int | None, bool]]:
    """column -> (type, VARCHAR length or None, NOT NULL) from sql/ddl/<table>.sql, in order."""
    text = (SQL_DIR / "ddl" / f"{table}.sql").read_text().replace("{{ this }}", "t")
    create = sqlglot.parse_one(text, dialect="postgres")
    columns = {}
    for definition in create.find_all(exp.ColumnDef):
        kind = definition.args["kind"]
        size = kind.expressions[0].this.this if kind.expressions else None
        not_null = any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in definition.constraints)
        columns[definition.name] = (kind.sql(dialect="postgres").split("(")[0], int(size) if size else None, not_null)
    return columns


def expected_type(kind: str) -> str:
    return {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "INTEGER": "INT", "DOUBLE PRECISION": "DOUBLE PRECISION"}[
        COLUMN_TYPES[kind]
    ]


def test_staging_events_ddl_is_the_declared_schema() -> None:
    columns = ddl("staging_events")
    assert list(columns) == list(EVENT_COLUMNS)
    for field in EVENT_FIELDS:
        kind, size, not_null = columns[field.column]
        assert kind == expected_type(field.kind), field
        assert size == (field.max_length if field.kind == "str" else None), field
        assert not_null == field.required, field
    assert all(columns[c][2] for c in EVENT_LINEAGE_COLUMNS)  # lineage is never NULL
    assert [columns[c][:2] for c in EVENT_DERIVED_COLUMNS] == [("VARCHAR", 1024)] * 2


def test_staging_songs_ddl_is_the_declared_schema() -> None:
    columns = ddl("staging_songs")
    assert list(columns) == list(SONG_TABLE_COLUMNS)
    for field in SONG_FIELDS:
        kind, size, not_null = columns[field.column]
        assert kind == expected_type(field.kind), field
        assert size == (field.max_length if field.kind == "str" else None), field
        assert not_null == field.required, field
    assert all(columns[c][2] for c in LINEAGE_COLUMNS)


def test_consumers_derive_from_the_declaration() -> None:
    assert _EVENT_KEYS == tuple(f.json for f in EVENT_FIELDS)
    assert tuple(_StrictEvent.__struct_fields__) == _EVENT_KEYS
    assert EVENT_JSON_FIELDS == tuple((f.json, f.column) for f in EVENT_FIELDS)
    assert SONG_JSON_FIELDS == tuple((f.json, f.column) for f in SONG_FIELDS)
    assert build_jsonpaths(EVENT_JSON_FIELDS)["jsonpaths"][0] == "$['artist']"
