"""Unit tests for ``sparkify.config``.

Every variant is derived from the shipped ``config.json`` by mutating a deep copy, so the
tests follow the real file as it evolves. SQL files are stubbed in a temporary ``sql``
directory (passed as ``sql_dir``) so the tests do not depend on the marts being written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sparkify.checks import CHECK_TYPES
from sparkify.config import (
    REPO_ROOT,
    SQL_DIR,
    CheckConfig,
    Config,
    ConfigError,
    config_schema,
    load_config,
)

SHIPPED = REPO_ROOT / "config.json"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's shell may export these; tests must not see them."""
    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    monkeypatch.delenv("SPARKIFY_CONFIG", raising=False)


@pytest.fixture
def base() -> dict[str, Any]:
    """A fresh deep copy of the shipped config for each test to mutate."""
    return copy.deepcopy(json.loads(SHIPPED.read_text(encoding="utf-8")))


@pytest.fixture
def sql_dir(tmp_path: Path, base: dict[str, Any]) -> Path:
    """Stub every SQL file the shipped config references."""
    root = tmp_path / "sql"
    paths = [base["fact"]["sql"], *(d["sql"] for d in base["dimensions"]), *(r["sql"] for r in base["rollups"])]
    paths += [c["sql"] for c in base["checks"] if c["type"] == "sql"]
    paths += [c["expected_sql"] for c in base["checks"] if "expected_sql" in c]
    for rel in paths:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("select 1;\n", encoding="utf-8")
    return root


@pytest.fixture
def write(tmp_path: Path) -> Callable[[Any], Path]:
    """Write a config document to a temp file and return its path."""

    def _write(document: Any) -> Path:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load_bad(
    write: Callable[[Any], Path], sql_dir: Path
) -> Callable[[dict[str, Any]], ConfigError]:
    """Load a document that must fail and return the error for assertions."""

    def _load(document: dict[str, Any]) -> ConfigError:
        path = write(document)
        with pytest.raises(ConfigError) as info:
            load_config(path, sql_dir=sql_dir)
        assert str(info.value).startswith(f"invalid config {path}:")
        return info.value

    return _load


def _check(base: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in base["checks"] if c["name"] == name)


# --------------------------------------------------------------------------- happy path


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(config_schema())


def test_schema_has_one_branch_per_registered_check_type() -> None:
    """The check types' parameters are declared once, in sparkify.checks; the schema is generated."""
    check = config_schema()["$defs"]["check"]
    branches = [branch["if"]["properties"]["type"]["const"] for branch in check["allOf"]]
    assert sorted(branches) == sorted(check["properties"]["type"]["enum"]) == sorted(CHECK_TYPES)


def test_schema_and_reading_come_from_one_declaration() -> None:
    """A field declared with config_key is a validated key and is read: no second place to edit."""
    from dataclasses import dataclass

    from sparkify.config_model import config_key, from_document, object_schema

    @dataclass(frozen=True)
    class Section:
        name: str = config_key("identifier")
        limit: float = config_key({"type": "number", "minimum": 0}, json="max", read=float, default=1.0)

    schema = object_schema(Section)
    assert schema == {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {"name": {"$ref": "#/$defs/identifier"}, "max": {"type": "number", "minimum": 0}},
    }
    assert from_document(Section, {"name": "a", "max": 2}) == Section("a", 2.0)
    assert from_document(Section, {"name": "a"}) == Section("a", 1.0)


def test_every_config_key_is_read_into_the_model() -> None:
    """Each key the schema allows at the top and in the sections ends up in the built config."""
    config = load_config(SHIPPED)
    schema = config_schema()
    for section in ("source", "warehouse", "staging", "fact", "quality"):
        assert hasattr(config, section)
        assert schema["properties"][section]["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "source", "warehouse", "staging", "fact", "dimensions", "rollups", "checks", "quality", "alerts"
    }  # fmt: skip
    assert schema["properties"]["alerts"]["additionalProperties"] is False  # tests/unit/test_alerts_config.py


def test_shipped_config_loads(sql_dir: Path) -> None:
    cfg = load_config(SHIPPED, sql_dir=sql_dir)

    assert isinstance(cfg, Config)
    assert cfg.path == SHIPPED
    assert cfg.sql_dir == sql_dir
    assert cfg.source.uri == str((REPO_ROOT / "data/generated").resolve())
    assert not cfg.source.is_s3
    assert cfg.source.wait_timeout_hours == 6.0
    assert cfg.warehouse.conn_id == "sparkify_warehouse"
    assert cfg.warehouse.schema == "public"
    assert (cfg.staging.events_table, cfg.staging.songs_table) == (
        "staging_events",
        "staging_songs",
    )
    assert cfg.fact.name == "songplays"
    assert cfg.fact.key == ("songplay_id",)
    assert cfg.fact.partition_column == "partition_key"

    assert [d.name for d in cfg.dimensions] == ["users", "songs", "artists", "time"]
    users = cfg.dimensions[0]
    assert users.mode == "upsert_latest"
    assert users.version_columns == ("last_event_ts", "level")
    assert cfg.dimensions[1].version_columns == ()
    assert cfg.table_names() == (
        "staging_events",
        "staging_songs",
        "songplays",
        "users",
        "songs",
        "artists",
        "time",
        "user_activity_monthly",
        "song_ranking_monthly",
    )
    assert [r.partition_column for r in cfg.rollups] == ["month", "month"]
    assert cfg.partition_column_of("song_ranking_monthly") == "month"

    assert len(cfg.checks) == len(json.loads(SHIPPED.read_text(encoding="utf-8"))["checks"])
    assert {c.name for c in cfg.staging_checks()} == {
        "staging_events_has_rows",
        "staging_songs_has_rows",
        "staging_events_key_unique",
        "staging_events_level_accepted",
        "staging_events_ts_in_partition",
        "staging_events_conflicting_duplicates",
        "staging_songs_conflicting_records",
    }
    assert len(cfg.transform_checks()) == 20
    accepted = next(c for c in cfg.checks if c.name == "users_level_accepted")
    assert accepted == CheckConfig(
        name="users_level_accepted",
        table="users",
        type="accepted_values",
        severity="error",
        scope="table",
        params={"column": "level", "values": ["free", "paid"]},
    )
    relation = next(c for c in cfg.checks if c.name == "songplays_users_exist")
    assert relation.params == {
        "column": "user_id",
        "to_table": "users",
        "to_column": "user_id",
    }
    assert relation.scope == "partition"


def test_shipped_config_loads_against_real_sql_dir() -> None:
    """Integration guard: once the mart SQL exists, the shipped config must load as is."""
    doc = json.loads(SHIPPED.read_text(encoding="utf-8"))
    referenced = [doc["fact"]["sql"], *(d["sql"] for d in doc["dimensions"])]
    if not all((SQL_DIR / rel).is_file() for rel in referenced):
        pytest.skip("mart SQL files not written yet")
    assert load_config().sql_dir == SQL_DIR


def test_kwargs_are_plain_json(sql_dir: Path) -> None:
    cfg = load_config(SHIPPED, sql_dir=sql_dir)

    dims = cfg.dimension_kwargs()
    assert dims[0] == {
        "name": "users",
        "sql": "marts/users.sql",
        "key": ["user_id"],
        "mode": "upsert_latest",
        "version_columns": ["last_event_ts", "level"],
    }
    assert dims[3]["version_columns"] == []

    checks = cfg.check_kwargs(cfg.staging_checks())
    assert checks[0] == {
        "name": "staging_events_has_rows",
        "table": "staging_events",
        "check_type": "row_count",
        "severity": "error",
        "scope": "partition",
        "check_params": {"min": 1},
    }
    everything = cfg.check_kwargs()
    assert len(everything) == len(json.loads(SHIPPED.read_text(encoding="utf-8"))["checks"])
    # Round-trips through JSON unchanged: what Airflow's XCom/expand_kwargs needs.
    assert json.loads(json.dumps(dims)) == dims
    assert json.loads(json.dumps(everything)) == everything
    # A task mutating its kwargs must not leak into the config.
    everything[5]["check_params"]["values"].append("gold")
    assert cfg.check_kwargs()[5]["check_params"]["values"] == ["free", "paid"]


def test_defaults_for_severity_and_scope(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    check = _check(base, "users_key_unique")
    del check["severity"], check["scope"]
    cfg = load_config(write(base), sql_dir=sql_dir)
    loaded = next(c for c in cfg.checks if c.name == "users_key_unique")
    assert (loaded.severity, loaded.scope) == ("error", "table")


def test_new_check_types_load(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    (sql_dir / "quality").mkdir(exist_ok=True)
    (sql_dir / "quality" / "orphans.sql").write_text("select 0;\n", encoding="utf-8")
    base["checks"] += [
        {
            "name": "c_expr",
            "table": "songs",
            "type": "expression",
            "expression": "duration > 0",
        },
        {
            "name": "c_sql",
            "table": "songplays",
            "type": "sql",
            "sql": "quality/orphans.sql",
        },
        {
            "name": "c_fresh",
            "table": "songplays",
            "type": "freshness",
            "column": "start_time",
            "max_age_hours": 24,
            "severity": "warn",
        },
        {"name": "c_rows", "table": "songs", "type": "row_count", "max": 10},
    ]
    cfg = load_config(write(base), sql_dir=sql_dir)
    by_name = {c.name: c for c in cfg.checks}
    assert by_name["c_sql"].params == {"sql": "quality/orphans.sql"}
    assert by_name["c_fresh"].severity == "warn"
    assert by_name["c_rows"].params == {"max": 10}


# --------------------------------------------------------------------------- paths and env


def test_source_override_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sql_dir: Path
) -> None:
    monkeypatch.setenv("SPARKIFY_SOURCE", str(tmp_path / "landing"))
    cfg = load_config(SHIPPED, sql_dir=sql_dir)
    assert cfg.source.uri == str((tmp_path / "landing").resolve())
    assert not cfg.source.is_s3


def test_source_override_s3(monkeypatch: pytest.MonkeyPatch, sql_dir: Path) -> None:
    monkeypatch.setenv("SPARKIFY_SOURCE", "s3://udacity-dend/sparkify")
    cfg = load_config(SHIPPED, sql_dir=sql_dir)
    assert cfg.source.uri == "s3://udacity-dend/sparkify"
    assert cfg.source.is_s3


def test_empty_source_override_is_ignored(
    monkeypatch: pytest.MonkeyPatch, sql_dir: Path
) -> None:
    monkeypatch.setenv("SPARKIFY_SOURCE", "")
    cfg = load_config(SHIPPED, sql_dir=sql_dir)
    assert cfg.source.uri == str((REPO_ROOT / "data/generated").resolve())


def test_bad_source_override_is_reported(
    monkeypatch: pytest.MonkeyPatch, sql_dir: Path
) -> None:
    monkeypatch.setenv("SPARKIFY_SOURCE", "gs://bucket/x")
    with pytest.raises(
        ConfigError, match=r"\$\.source\.uri \(overridden by SPARKIFY_SOURCE\)"
    ):
        load_config(SHIPPED, sql_dir=sql_dir)


def test_relative_source_resolves_against_repo_root(
    base: dict[str, Any],
    write: Callable[[Any], Path],
    sql_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    base["source"]["uri"] = "data/../data/other"
    monkeypatch.chdir(tmp_path)  # CWD must not matter
    cfg = load_config(write(base), sql_dir=sql_dir)
    assert cfg.source.uri == str(REPO_ROOT / "data" / "other")
    assert Path(cfg.source.uri).is_absolute()


def test_s3_uri_in_file_kept(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    base["source"]["uri"] = "s3://my-bucket/raw/"
    cfg = load_config(write(base), sql_dir=sql_dir)
    assert cfg.source.uri == "s3://my-bucket/raw/"
    assert cfg.source.is_s3


def test_config_path_from_env(
    monkeypatch: pytest.MonkeyPatch,
    base: dict[str, Any],
    write: Callable[[Any], Path],
    sql_dir: Path,
) -> None:
    base["warehouse"]["schema"] = "analytics"
    path = write(base)
    monkeypatch.setenv("SPARKIFY_CONFIG", str(path))
    cfg = load_config(sql_dir=sql_dir)
    assert cfg.path == path
    assert cfg.warehouse.schema == "analytics"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(
        ConfigError, match=r"^invalid config .*nope\.json: file not found$"
    ):
        load_config(missing)


# --------------------------------------------------------------------------- bad files


def test_invalid_json_reports_line_and_column(tmp_path: Path, sql_dir: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "source": {\n    "uri": "x",,\n  }\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, sql_dir=sql_dir)
    message = str(info.value)
    assert message.startswith(f"invalid config {path}:")
    assert "invalid JSON at line 3, column 16" in message
    assert isinstance(info.value, ValueError)


def test_top_level_must_be_object(write: Callable[[Any], Path], sql_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"\$: \[\] is not of type 'object'"):
        load_config(write([]), sql_dir=sql_dir)


def test_unknown_key(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["dimensions"][2]["colour"] = "blue"
    base["extra"] = 1
    error = load_bad(base)
    assert "$.dimensions[2].colour: unknown key" in str(error)
    assert "$.extra: unknown key" in str(error)


def test_missing_required_key(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    del base["fact"]["partition_column"]
    error = load_bad(base)
    assert error.problems == ("$.fact.partition_column: required key is missing",)


def test_wrong_type(base: dict[str, Any], load_bad: Callable[..., ConfigError]) -> None:
    base["source"]["wait_timeout_hours"] = "six"
    base["dimensions"][2]["key"] = "artist_id"
    error = load_bad(base)
    assert "$.source.wait_timeout_hours: 'six' is not of type 'number'" in str(error)
    assert "$.dimensions[2].key: 'artist_id' is not of type 'array'" in str(error)


def test_bad_identifier(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["dimensions"][1]["name"] = "Songs"
    base["fact"]["key"] = ["songplay-id"]
    base["checks"][2]["columns"][1] = "1start"
    error = load_bad(base)
    message = str(error)
    assert "$.dimensions[1].name: 'Songs' is not a valid identifier" in message
    assert "$.fact.key[0]: 'songplay-id' is not a valid identifier" in message
    assert "$.checks[2].columns[1]: '1start' is not a valid identifier" in message


def test_loose_identifiers_for_conn_ids_strict_for_schema(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path, load_bad: Callable[..., ConfigError]
) -> None:
    base["warehouse"]["conn_id"] = "Redshift_Default"
    assert load_config(write(base), sql_dir=sql_dir).warehouse.conn_id == "Redshift_Default"
    # The schema is rendered into SQL, so it follows the strict identifier rule (as quote_ident does).
    base["warehouse"]["schema"] = "Analytics"
    assert "$.warehouse.schema: 'Analytics' is not a valid identifier" in str(load_bad(base))
    base["warehouse"]["schema"] = "public\n"
    assert "$.warehouse.schema:" in str(load_bad(base))


def test_bad_mode(base: dict[str, Any], load_bad: Callable[..., ConfigError]) -> None:
    base["dimensions"][3]["mode"] = "replace"
    error = load_bad(base)
    assert (
        '$.dimensions[3].mode: "replace" is not one of "upsert", "upsert_latest", "insert_missing"'
        in str(error)
    )


def test_missing_sql_file(
    base: dict[str, Any], load_bad: Callable[..., ConfigError], sql_dir: Path
) -> None:
    (sql_dir / "marts" / "artists.sql").unlink()
    base["checks"].append(
        {"name": "custom", "table": "songs", "type": "sql", "sql": "quality/none.sql"}
    )
    error = load_bad(base)
    message = str(error)
    assert (
        f"$.dimensions[2].sql: SQL file not found: {sql_dir / 'marts/artists.sql'}"
        in message
    )
    assert f"$.checks[{len(base['checks']) - 1}].sql: SQL file not found" in message


def test_sql_path_may_not_escape(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["fact"]["sql"] = "../secrets.sql"
    error = load_bad(base)
    assert error.problems[0].startswith(
        "$.fact.sql: '../secrets.sql' is not a valid SQL file path"
    )
    assert len(error.problems) == 1  # no filesystem probe for a rejected path


def test_duplicate_table_name(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["dimensions"].append(dict(base["dimensions"][1], name="staging_songs"))
    error = load_bad(base)
    expected = (
        "$.dimensions[4].name: duplicate table name 'staging_songs' "
        "(already used at $.staging.songs.table)"
    )
    assert error.problems == (expected,)


def test_duplicate_check_name(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["checks"][4]["name"] = "songplays_key_unique"
    error = load_bad(base)
    expected = (
        "$.checks[4].name: duplicate check name 'songplays_key_unique' "
        "(already used at $.checks[3].name)"
    )
    assert error.problems == (expected,)


def test_unknown_check_table(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["checks"][4]["table"] = "customers"
    base["checks"][9]["to_table"] = "people"
    message = str(load_bad(base))
    assert "$.checks[4].table: unknown table 'customers'" in message
    assert "$.checks[9].to_table: unknown table 'people'" in message


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (
            {"type": "row_count"},
            "$.checks[11]: row_count needs at least one of 'min' or 'max'",
        ),
        (
            {"type": "row_count", "min": -1},
            "$.checks[11].min: -1 is less than the minimum of 0",
        ),
        (
            {"type": "row_count", "min": 1.5},
            "$.checks[11].min: 1.5 is not of type 'integer'",
        ),
        (
            {"type": "row_count", "min": 5, "max": 2},
            "$.checks[11]: min (5) is greater than max (2)",
        ),
        (
            {"type": "row_count", "min": 1, "columns": ["a"]},
            "$.checks[11].columns: unknown key",
        ),
        ({"type": "not_null"}, "$.checks[11].columns: required key is missing"),
        (
            {"type": "not_null", "columns": []},
            "$.checks[11].columns: must not be empty",
        ),
        (
            {"type": "unique", "columns": ["a", "a"]},
            "$.checks[11].columns: ['a', 'a'] has non-unique elements",
        ),
        ({"type": "unique", "column": "a"}, "$.checks[11].column: unknown key"),
        (
            {"type": "accepted_values", "column": "level"},
            "$.checks[11].values: required key is missing",
        ),
        (
            {"type": "accepted_values", "column": "level", "values": []},
            "$.checks[11].values: must not be empty",
        ),
        (
            {"type": "accepted_values", "column": "level", "values": ["free", 1]},
            "$.checks[11].values[1]: 1 is not of type 'string'",
        ),
        (
            {"type": "relationship", "column": "song_id", "to_table": "songs"},
            "$.checks[11].to_column: required key",
        ),
        ({"type": "expression"}, "$.checks[11].expression: required key is missing"),
        (
            {"type": "expression", "expression": "  "},
            "$.checks[11].expression: '  ' is not a valid non-blank",
        ),
        (
            {"type": "sql", "sql": "quality/x.txt"},
            "$.checks[11].sql: 'quality/x.txt' is not a valid SQL file path",
        ),
        (
            {"type": "freshness", "column": "start_time"},
            "$.checks[11].max_age_hours: required key is missing",
        ),
        (
            {"type": "freshness", "column": "start_time", "max_age_hours": 0},
            "$.checks[11].max_age_hours: 0 is less than or equal to the minimum of 0",
        ),
        (
            {"type": "median", "column": "x"},
            '$.checks[11].type: "median" is not one of "accepted_values", "expression", "freshness", "not_null", '
            '"relationship", "row_count", "sql", "unique"',
        ),
        (
            {"type": "unique", "columns": ["a"], "severity": "fatal"},
            '$.checks[11].severity: "fatal" is not one of',
        ),
    ],
)
def test_bad_check_params(
    base: dict[str, Any],
    load_bad: Callable[..., ConfigError],
    check: dict[str, Any],
    expected: str,
) -> None:
    base["checks"].append({"name": "extra_check", "table": "songplays", **check})
    message = str(load_bad(base))
    # The cases were written when the shipped config had 11 checks; the extra one is appended.
    expected = expected.replace("$.checks[11]", f"$.checks[{len(base['checks']) - 1}]")
    assert expected in message, message


def test_partition_scope_on_unpartitioned_table(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    _check(base, "staging_songs_has_rows")["scope"] = "partition"
    _check(base, "users_key_unique")["scope"] = "partition"
    error = load_bad(base)
    assert len(error.problems) == 2
    assert error.problems[0].startswith(
        "$.checks[1].scope: 'partition' needs a partitioned table"
    )
    assert "'staging_songs' is not partitioned" in error.problems[0]
    assert error.problems[1].startswith("$.checks[4].scope:")


def test_upsert_latest_requires_version_columns(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    del base["dimensions"][0]["version_columns"]
    error = load_bad(base)
    assert error.problems == (
        "$.dimensions[0].version_columns: required key is missing",
    )


def test_upsert_latest_version_columns_not_empty(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["dimensions"][0]["version_columns"] = []
    assert load_bad(base).problems == (
        "$.dimensions[0].version_columns: must not be empty",
    )


def test_version_columns_only_for_upsert_latest(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    base["dimensions"][1]["version_columns"] = ["year"]
    assert (
        load_bad(base)
        .problems[0]
        .startswith(
            "$.dimensions[1].version_columns: only allowed with mode 'upsert_latest'"
        )
    )


def test_empty_key(base: dict[str, Any], load_bad: Callable[..., ConfigError]) -> None:
    base["dimensions"][2]["key"] = []
    assert load_bad(base).problems == ("$.dimensions[2].key: must not be empty",)


def test_several_problems_reported_at_once(
    base: dict[str, Any], load_bad: Callable[..., ConfigError], sql_dir: Path
) -> None:
    base["source"]["bogus"] = True  # unknown key (schema)
    base["warehouse"]["conn_id"] = 42  # wrong type (schema)
    base["dimensions"][2]["key"] = []  # empty key (schema)
    base["dimensions"].append(dict(base["dimensions"][1]))  # duplicate table (semantic)
    (sql_dir / "marts" / "songplays.sql").unlink()  # missing SQL (semantic)
    base["checks"][6]["name"] = "users_key_unique"  # duplicate check (semantic)
    base["checks"][7]["table"] = "nowhere"  # unknown table (semantic)
    del base["checks"][5]["values"]  # missing type param (schema)

    error = load_bad(base)
    message = str(error)
    expected = [
        "  $.source.bogus: unknown key",
        "  $.warehouse.conn_id: 42 is not of type 'string'",
        "  $.dimensions[2].key: must not be empty",
        "  $.checks[5].values: required key is missing",
        "  $.fact.sql: SQL file not found",
        "  $.dimensions[4].name: duplicate table name 'songs'",
        "  $.checks[6].name: duplicate check name 'users_key_unique'",
        "  $.checks[7].table: unknown table 'nowhere'",
    ]
    for fragment in expected:
        assert fragment in message, message
    assert len(error.problems) == len(expected)
    assert message.count("\n") == len(expected)  # header line + one line per problem


# --------------------------------------------------------------------------- strict JSON


def test_non_finite_numbers_are_refused_with_their_paths(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    """Python's json reads NaN/Infinity (not JSON) and 1e999 (no float holds it) without a word."""
    reconcile = next(i for i, c in enumerate(base["checks"]) if "tolerance" in c)
    base["staging"]["max_rejected_share"] = float("nan")
    base["source"]["wait_timeout_hours"] = float("inf")
    base["checks"][reconcile]["tolerance"] = float("-inf")
    base["dimensions"][2]["key"] = []  # an ordinary problem, reported in the same message
    path = write(base)  # json.dumps writes NaN, Infinity, -Infinity
    path.write_text(path.read_text().replace('"max_rejected_share": NaN', '"max_rejected_share": NaN, "x": 1e999'))

    with pytest.raises(ConfigError) as info:
        load_config(path, sql_dir=sql_dir)

    assert sorted(info.value.problems) == sorted([
        "$.source.wait_timeout_hours: Infinity is not a valid JSON number",
        "$.staging.max_rejected_share: NaN is not a valid JSON number",
        "$.staging.x: 1e999 is too large for a number",
        f"$.checks[{reconcile}].tolerance: -Infinity is not a valid JSON number",
        # the schema's view of the bad numbers ('-inf is less than the minimum of 0') is not
        # repeated; the unknown key x and the empty key still are
        "$.staging.x: unknown key (allowed: events, max_rejected_share, songs)",
        "$.dimensions[2].key: must not be empty",
    ])


@pytest.mark.parametrize(
    ("share", "problem"),
    [(1.5, "1.5 is greater than the maximum of 1"), (-0.1, "-0.1 is less than the minimum of 0")],
)
def test_max_rejected_share_is_a_share(
    base: dict[str, Any], load_bad: Callable[..., ConfigError], share: float, problem: str
) -> None:
    base["staging"]["max_rejected_share"] = share
    assert load_bad(base).problems == (f"$.staging.max_rejected_share: {problem}",)


def test_duplicate_keys_are_refused_with_their_paths(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    """A repeated key silently keeps its last value in Python's json: the file says two things."""
    base["checks"][3]["dup_marker"] = 1
    base["dimensions"][1]["dup_marker"] = 2
    base["top_dup_marker"] = 3
    base["dimensions"][2]["key"] = []  # an ordinary problem, reported in the same message
    text = json.dumps(base, indent=2)
    text = text.replace('"dup_marker": 1', '"name": "renamed", "name": "again"')
    text = text.replace('"dup_marker": 2', '"mode": "upsert"')
    text = text.replace('"top_dup_marker": 3', '"warehouse": {"conn_id": "other", "schema": "public"}')
    path = write({})
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path, sql_dir=sql_dir)

    assert info.value.problems == (
        '$.warehouse: duplicate key "warehouse"',
        '$.dimensions[1].mode: duplicate key "mode"',
        '$.checks[3].name: duplicate key "name"',
        "$.dimensions[2].key: must not be empty",
    )


def test_strict_parsing_keeps_valid_numbers(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    base["staging"]["max_rejected_share"] = 1e-3
    base["source"]["wait_timeout_hours"] = 12.5
    cfg = load_config(write(base), sql_dir=sql_dir)
    assert (cfg.staging.max_rejected_share, cfg.source.wait_timeout_hours) == (0.001, 12.5)


# --------------------------------------------------------------------------- quality settings


def test_check_statement_timeout(base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path,
                                 load_bad: Callable[..., ConfigError]) -> None:
    assert load_config(SHIPPED, sql_dir=sql_dir).quality.statement_timeout_seconds == 60.0
    base["quality"] = {"statement_timeout_seconds": 2.5}
    assert load_config(write(base), sql_dir=sql_dir).quality.statement_timeout_seconds == 2.5
    del base["quality"]
    assert load_config(write(base), sql_dir=sql_dir).quality.statement_timeout_seconds == 60.0  # the default

    base["quality"] = {"statement_timeout_seconds": 0, "timeout": 5}
    assert load_bad(base).problems == (
        "$.quality.timeout: unknown key (allowed: statement_timeout_seconds)",
        "$.quality.statement_timeout_seconds: 0 is less than or equal to the minimum of 0",
    )


# --------------------------------------------------------------------------- thresholds


def test_thresholds_load_and_derive_severity(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    base["checks"] += [
        {"name": "t_warn", "table": "users", "type": "not_null", "columns": ["level"], "warn_if": {"count_gt": 0}},
        {"name": "t_both", "table": "songs", "type": "expression", "expression": "duration > 0",
         "warn_if": {"count_gt": 2}, "error_if": {"share_gt": 0.25}},
    ]
    cfg = load_config(write(base), sql_dir=sql_dir)
    by_name = {c.name: c for c in cfg.checks}
    assert by_name["t_warn"].severity == "warn"  # can at most warn
    assert by_name["t_both"].severity == "error"  # can fail
    assert by_name["t_both"].params == {
        "expression": "duration > 0", "warn_if": {"count_gt": 2}, "error_if": {"share_gt": 0.25},
    }
    shipped = {c.name: c for c in load_config(SHIPPED, sql_dir=sql_dir).checks}
    for name in ("staging_events_ts_in_partition", "songplays_in_partition_day"):
        assert shipped[name].params["warn_if"] == {"count_gt": 0}
        assert shipped[name].params["error_if"] == {"share_gt": 0.5}


def test_bad_thresholds_are_reported_with_their_paths(
    base: dict[str, Any], load_bad: Callable[..., ConfigError]
) -> None:
    n = len(base["checks"])
    base["checks"] += [
        {"name": "b0", "table": "songs", "type": "row_count", "min": 1, "warn_if": {"count_gt": 0}},
        {"name": "b1", "table": "songplays", "type": "freshness", "column": "start_time", "max_age_hours": 1,
         "error_if": {"count_gt": 0}},
        {"name": "b2", "table": "users", "type": "unique", "columns": ["user_id"], "error_if": {}},
        {"name": "b3", "table": "users", "type": "unique", "columns": ["user_id"],
         "error_if": {"count_gt": 1, "share_gt": 0.1}},
        {"name": "b4", "table": "users", "type": "unique", "columns": ["user_id"], "warn_if": {"count_gt": -1}},
        {"name": "b5", "table": "users", "type": "unique", "columns": ["user_id"], "warn_if": {"share_gt": 1}},
        {"name": "b6", "table": "users", "type": "unique", "columns": ["user_id"], "warn_if": {"count_gte": 1}},
        {"name": "b7", "table": "users", "type": "unique", "columns": ["user_id"], "warn_if": "> 0"},
        {"name": "b8", "table": "users", "type": "unique", "columns": ["user_id"], "warn_if": {"count_gt": 0},
         "severity": "error"},
    ]
    shape = (
        'a threshold is {"count_gt": N} (more than N failing rows, N an integer >= 0) or '
        '{"share_gt": F} (failing rows / rows checked above F, 0 <= F < 1)'
    )
    none = (
        "warn_if/error_if judge failing rows, and this check type has none (it measures one number: "
        "use min/max/tolerance or max_age_hours, with severity)"
    )
    assert sorted(load_bad(base).problems) == sorted([
        f"$.checks[{n}].warn_if: {none}",
        f"$.checks[{n + 1}].error_if: {none}",
        f"$.checks[{n + 2}].error_if: {shape}",
        f"$.checks[{n + 3}].error_if: {shape}",
        f"$.checks[{n + 4}].warn_if.count_gt: -1 is less than the minimum of 0",
        f"$.checks[{n + 5}].warn_if.share_gt: 1 is greater than or equal to the maximum of 1",
        f"$.checks[{n + 6}].warn_if.count_gte: unknown key (allowed: count_gt, share_gt)",
        f"$.checks[{n + 7}].warn_if: '> 0' is not of type 'object'",
        f"$.checks[{n + 8}].severity: not allowed with warn_if: the thresholds decide "
        "(error_if matches: failed; else warn_if matches: warned; else passed)",
    ])


def test_a_validated_config_is_reused_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading twice (DAG parse, then execute) validates once; any edit or override is seen at once."""
    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    path = tmp_path / "config.json"
    document = json.loads(SHIPPED.read_text())
    path.write_text(json.dumps(document))
    first = load_config(path)
    assert load_config(path) is first
    document["staging"]["max_rejected_share"] = 0.5  # the content decides, not the file's size or time
    path.write_text(json.dumps(document))
    assert load_config(path).staging.max_rejected_share == 0.5
    monkeypatch.setenv("SPARKIFY_SOURCE", str(tmp_path / "elsewhere"))
    assert load_config(path).source.uri == str(tmp_path / "elsewhere")
    document["staging"]["max_rejected_share"] = float("nan")
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError):
        load_config(path)  # a broken edit is reported, never masked by the cached good one


def test_project_home_is_sparkify_home_else_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A pip-installed package finds config.json and sql/ through SPARKIFY_HOME (the wheel has neither)."""
    from sparkify.paths import HOME_ENV, project_home

    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    assert project_home() == tmp_path.resolve()
    monkeypatch.delenv(HOME_ENV)
    assert project_home() == REPO_ROOT
    assert (project_home() / "config.json").is_file() and (project_home() / "sql" / "ddl").is_dir()


# --------------------------------------------------------------------------- rollups (issue 15)


def test_rollups_are_optional(base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path) -> None:
    del base["rollups"]
    base["checks"] = [c for c in base["checks"] if "monthly" not in c["table"]]
    config = load_config(write(base), sql_dir=sql_dir)
    assert config.rollups == () and config.rollup_checks() == () and config.rollup_kwargs() == []
    assert "user_activity_monthly" not in config.table_names()


def test_a_rollup_entry_is_validated_like_a_dimension(
    base: dict[str, Any], load_bad: Callable[..., ConfigError], sql_dir: Path
) -> None:
    base["rollups"][0]["key"] = ["user_id"]  # without the month: one month's rows would collide
    base["rollups"][1]["mode"] = "upsert"  # rollups replace their month: no load mode
    base["rollups"].append(dict(base["rollups"][0], name="users"))  # a dimension's name
    base["rollups"].append({"name": "plays_monthly", "sql": "rollups/none.sql", "key": ["month"]})
    message = str(load_bad(base))
    assert "$.rollups[0].key: must include the month column 'month' (the key is ['user_id'])" in message
    assert "$.rollups[1].mode: unknown key" in message
    assert "$.rollups[2].name: duplicate table name 'users' (already used at $.dimensions[0].name)" in message
    assert f"$.rollups[3].sql: SQL file not found: {sql_dir / 'rollups/none.sql'}" in message


def test_rollup_columns_are_checked_against_their_ddl(base: dict[str, Any], write: Callable[[Any], Path]) -> None:
    base["rollups"][1]["key"] = ["month", "song"]
    base["rollups"][0]["partition_column"] = "period"
    base["rollups"][0]["key"] = ["period", "user_id"]
    with pytest.raises(ConfigError) as info:
        load_config(write(base))  # the real sql/ (its ddl files list the columns)
    message = str(info.value)
    assert "$.rollups[1].key[1]: column 'song' is not in table 'song_ranking_monthly'" in message
    assert "$.rollups[0].partition_column: column 'period' is not in table 'user_activity_monthly'" in message


def test_checks_on_rollups_may_be_partition_scoped_and_run_only_in_the_rollup_dag(
    base: dict[str, Any], write: Callable[[Any], Path], sql_dir: Path
) -> None:
    config = load_config(write(base), sql_dir=sql_dir)
    rollup_checks = config.rollup_checks()
    assert rollup_checks and {c.scope for c in rollup_checks} == {"partition"}
    assert config.partition_column_of("user_activity_monthly") == "month"
    assert not set(rollup_checks) & (set(config.transform_checks()) | set(config.staging_checks()))
    assert set(rollup_checks) | set(config.transform_checks()) | set(config.staging_checks()) == set(config.checks)
