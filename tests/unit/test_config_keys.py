"""A fact's or dimension's key must be a column of its table (per sql/ddl/<table>.sql), so a typo
fails the DAG import with its JSON path instead of an ON CONFLICT error at run time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sparkify.config import REPO_ROOT, SQL_DIR, ConfigError, load_config


def _load(tmp_path: Path, change) -> ConfigError:
    document = json.loads((REPO_ROOT / "config.json").read_text())
    change(document)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def test_dimension_key_missing_from_its_table(tmp_path: Path) -> None:
    error = _load(tmp_path, lambda d: d["dimensions"][0].update(key=["userid"]))
    assert error.problems[0].startswith("$.dimensions[0].key[0]: column 'userid' is not in table 'users' (")


def test_version_column_fact_key_and_partition_column_checked_too(tmp_path: Path) -> None:
    def change(d: dict) -> None:
        d["dimensions"][0]["version_columns"] = ["last_event_ts", "tier"]
        d["fact"]["key"] = ["id"]
        d["fact"]["partition_column"] = "day"

    problems = _load(tmp_path, change).problems
    assert [p.split(":")[0] for p in problems] == [
        "$.fact.key[0]",
        "$.fact.partition_column",
        "$.dimensions[0].version_columns[1]",
    ]


def _ddl_columns(table: str) -> set[str]:
    """Column names of sql/ddl/<table>.sql, parsed with sqlglot (independently of sparkify.ddl)."""
    text = (SQL_DIR / "ddl" / f"{table}.sql").read_text(encoding="utf-8").replace("{{ this }}", '"s"."t"')
    return {column.name for column in sqlglot.parse_one(text, read="postgres").find_all(exp.ColumnDef)}


def test_shipped_keys_are_columns() -> None:
    config = load_config()  # the shipped config passes the rule ...
    # ... and not vacuously: every fact/dimension has a DDL file whose columns hold what it names.
    fact_columns = _ddl_columns(config.fact.name)
    assert {*config.fact.key, config.fact.partition_column} <= fact_columns, fact_columns
    assert config.dimensions
    for dimension in config.dimensions:
        columns = _ddl_columns(dimension.name)
        assert {*dimension.key, *dimension.version_columns} <= columns, (dimension.name, columns)
