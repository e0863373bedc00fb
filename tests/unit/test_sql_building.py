"""Unit tests for the pure SQL builders: warehouse statements, sql/ rendering, quality checks, project DDL.

No database: statements are compared as exact text where the text is the contract, and every
rendered statement is parsed with sqlglot (postgres dialect) to prove it is valid SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jinja2
import pytest
import sqlglot
from sqlglot import exp

from sparkify.checks import CHECK_TYPES
from sparkify.config import LOAD_MODES, REPO_ROOT, SQL_DIR, Config, ConfigError, load_config
from sparkify.parsing import EVENT_COLUMNS, REJECT_COLUMNS, SONG_COLUMNS
from sparkify.project import (
    EVENT_MANIFEST_TABLE,
    MANIFEST_TABLE,
    PUBLISHED_DAYS_TABLE,
    REJECTED_TABLE,
    RESULTS_TABLE,
    ROLLUP_MONTHS_TABLE,
    ROLLUP_READS_TABLE,
    SONG_LOOKUP_TABLE,
    all_tables,
    ddl_statements,
    model_context,
)
from sparkify.quality import CheckQuery, Verdict, build_check_sql, judge, needs_rows_checked
from sparkify.source_schema import SONG_TABLE_COLUMNS
from sparkify.sqlfiles import qualified, quote_ident, render
from sparkify.warehouse.sql import build_copy_sql, build_delete_partition_sql, build_upsert_sql

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def parse(sql: str) -> exp.Expression:
    """Parse one statement as PostgreSQL after replacing bind placeholders with a literal."""
    statements = sqlglot.parse(PLACEHOLDER.sub("'x'", sql), dialect="postgres")
    assert len(statements) == 1, sql
    assert statements[0] is not None, sql
    return statements[0]


class FakeWarehouse:
    """Just enough of PostgresWarehouse for project.py: qualified names in schema "s"."""

    def table(self, name: str) -> str:
        return f'"s"."{name}"'


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    monkeypatch.delenv("SPARKIFY_CONFIG", raising=False)
    return load_config()


# --------------------------------------------------------------------------- warehouse.build_upsert_sql

TABLE = '"s"."users"'
COLUMNS = ["user_id", "level", "last_event_ts"]
HEAD = (
    'INSERT INTO "s"."users" AS target ("user_id", "level", "last_event_ts")\n'
    'SELECT "user_id", "level", "last_event_ts" FROM _model\n'
    'ON CONFLICT ("user_id") DO '
)
SET = 'UPDATE SET "level" = EXCLUDED."level", "last_event_ts" = EXCLUDED."last_event_ts"\n'


class TestBuildUpsertSql:
    def test_insert_missing(self) -> None:
        assert build_upsert_sql(TABLE, "_model", COLUMNS, ["user_id"], "insert_missing") == HEAD + "NOTHING"

    def test_upsert_only_rewrites_changed_rows(self) -> None:
        assert build_upsert_sql(TABLE, "_model", COLUMNS, ["user_id"], "upsert") == (
            HEAD + SET + 'WHERE ROW(target."level", target."last_event_ts") IS DISTINCT FROM '
            'ROW(EXCLUDED."level", EXCLUDED."last_event_ts")'
        )

    def test_upsert_latest_compares_version_tuple(self) -> None:
        sql = build_upsert_sql(TABLE, "_model", COLUMNS, ["user_id"], "upsert_latest", ["last_event_ts", "level"])
        assert sql == (
            HEAD
            + SET
            + 'WHERE ROW(EXCLUDED."last_event_ts", EXCLUDED."level") > ROW(target."last_event_ts", target."level")'
        )

    def test_composite_key(self) -> None:
        sql = build_upsert_sql('"s"."t"', "_m", ["a", "b", "c"], ["a", "b"], "upsert")
        assert sql == (
            'INSERT INTO "s"."t" AS target ("a", "b", "c")\n'
            'SELECT "a", "b", "c" FROM _m\n'
            'ON CONFLICT ("a", "b") DO UPDATE SET "c" = EXCLUDED."c"\n'
            'WHERE ROW(target."c") IS DISTINCT FROM ROW(EXCLUDED."c")'
        )

    @pytest.mark.parametrize("mode", ["upsert", "upsert_latest"])
    def test_key_only_columns_do_nothing(self, mode: str) -> None:
        sql = build_upsert_sql('"s"."t"', "_m", ["a"], ["a"], mode, ["a"])
        assert sql == 'INSERT INTO "s"."t" AS target ("a")\nSELECT "a" FROM _m\nON CONFLICT ("a") DO NOTHING'

    @pytest.mark.parametrize("mode", LOAD_MODES)
    def test_valid_postgres(self, mode: str) -> None:
        statement = parse(build_upsert_sql(TABLE, "_model", COLUMNS, ["user_id"], mode, ["last_event_ts", "level"]))
        assert isinstance(statement, exp.Insert)

    def test_unknown_mode(self) -> None:
        with pytest.raises(ValueError, match=r"unknown load mode 'merge'"):
            build_upsert_sql(TABLE, "_model", COLUMNS, ["user_id"], "merge")

    @pytest.mark.parametrize("key", [["id"], ["user_id", "id"], []])
    def test_key_must_be_non_empty_subset_of_columns(self, key: list[str]) -> None:
        with pytest.raises(ValueError, match=r"must be a non-empty subset of columns"):
            build_upsert_sql(TABLE, "_model", COLUMNS, key, "upsert")

    @pytest.mark.parametrize("version_columns", [(), ["updated_at"], ["last_event_ts", "updated_at"]])
    def test_upsert_latest_needs_version_columns_within_columns(self, version_columns: list[str]) -> None:
        with pytest.raises(ValueError, match=r"upsert_latest needs version_columns"):
            build_upsert_sql(TABLE, "_model", COLUMNS, ["user_id"], "upsert_latest", version_columns)

    def test_invalid_column_identifier_rejected(self) -> None:
        with pytest.raises(ValueError, match=r"invalid SQL identifier"):
            build_upsert_sql(TABLE, "_model", ["user_id", 'level"; DROP TABLE x; --'], ["user_id"], "upsert")


class TestDeleteAndCopy:
    def test_delete_partition(self) -> None:
        assert (
            build_delete_partition_sql('"s"."songplays"', "partition_key")
            == 'DELETE FROM "s"."songplays" WHERE "partition_key" = %(partition_key)s'
        )
        assert isinstance(parse(build_delete_partition_sql('"s"."songplays"', "partition_key")), exp.Delete)

    def test_delete_partition_rejects_bad_column(self) -> None:
        with pytest.raises(ValueError, match=r"invalid SQL identifier"):
            build_delete_partition_sql('"s"."songplays"', "partition_key OR 1=1")

    def test_copy(self) -> None:
        assert build_copy_sql('"s"."t"', ["a", "b_c"]) == 'COPY "s"."t" ("a", "b_c") FROM STDIN'

    def test_copy_of_every_staging_column_list(self) -> None:
        sql = build_copy_sql('"s"."rejected_lines"', REJECT_COLUMNS)
        assert sql == (
            'COPY "s"."rejected_lines" ("partition_key", "source_key", "line_number", "record_in_line", "reason", '
            '"byte_length", "raw_sha256", "raw_line") FROM STDIN'
        )
        for columns in (EVENT_COLUMNS, SONG_COLUMNS):
            assert build_copy_sql('"s"."t"', columns).count('", "') == len(columns) - 1

    def test_copy_rejects_bad_column(self) -> None:
        with pytest.raises(ValueError, match=r"invalid SQL identifier"):
            build_copy_sql('"s"."t"', ["a", "B"])


# --------------------------------------------------------------------------- sqlfiles


class TestQuoteIdent:
    @pytest.mark.parametrize("name", ["staging_events", "_private", "t1", "a_b_2"])
    def test_accepts(self, name: str) -> None:
        assert quote_ident(name) == f'"{name}"'

    @pytest.mark.parametrize(
        "name", ["Users", "a;drop", "1a", "", "a b", 'a"b', "a-b", "a.b", "é", "users\n", "users\r\n", "\nusers"]
    )
    def test_rejects(self, name: str) -> None:
        with pytest.raises(ValueError, match=r"invalid SQL identifier"):
            quote_ident(name)

    def test_qualified(self) -> None:
        assert qualified("public", "users") == '"public"."users"'
        with pytest.raises(ValueError):
            qualified("public", "users; drop")

    @pytest.mark.parametrize(
        ("schema", "accepted"),
        [("public", True), ("sparkify", True), ("_x", True), ("Analytics", False), ("DWH_2", False)],
    )
    def test_config_and_run_time_agree_on_schema_names(self, tmp_path: Path, schema: str, accepted: bool) -> None:
        # warehouse.schema is validated by the config schema at load time; PostgresWarehouse.table()
        # then quotes it with quote_ident. A name the config accepts must not fail at run time, and
        # a name it refuses is refused by load_config with its JSON path (never first at run time).
        document = json.loads((REPO_ROOT / "config.json").read_text(encoding="utf-8"))
        document["warehouse"]["schema"] = schema
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        if accepted:
            assert load_config(path).warehouse.schema == schema
            assert qualified(schema, "users") == f'"{schema}"."users"'
        else:
            with pytest.raises(ConfigError) as refused:
                load_config(path)
            assert [p for p in refused.value.problems if p.startswith("$.warehouse.schema:")], refused.value.problems
            with pytest.raises(ValueError, match=r"invalid SQL identifier"):
                qualified(schema, "users")


class TestRender:
    def test_missing_variable_raises(self, tmp_path: Path) -> None:
        (tmp_path / "q.sql").write_text("SELECT * FROM {{ this }} JOIN {{ other }}\n", encoding="utf-8")
        with pytest.raises(jinja2.UndefinedError, match="other"):
            render("q.sql", sql_dir=tmp_path, this='"s"."t"')

    def test_renders_and_strips(self, tmp_path: Path) -> None:
        (tmp_path / "q.sql").write_text("\n  SELECT * FROM {{ this }}\n\n", encoding="utf-8")
        assert render("q.sql", sql_dir=tmp_path, this='"s"."t"') == 'SELECT * FROM "s"."t"'

    def test_shipped_template_without_context_raises(self) -> None:
        with pytest.raises(jinja2.UndefinedError):
            render("quality/row_count.sql")

    def test_no_autoescape(self, tmp_path: Path) -> None:
        (tmp_path / "q.sql").write_text("SELECT {{ e }}", encoding="utf-8")
        assert render("q.sql", sql_dir=tmp_path, e="a <> 'b' & c") == "SELECT a <> 'b' & c"


# --------------------------------------------------------------------------- quality

THIS = '"s"."songplays"'
TABLES = {
    "users": '"s"."users"',
    "time": '"s"."time"',
    "songplays": THIS,
    "staging_events": '"s"."staging_events"',
    "staging_songs": '"s"."staging_songs"',
}
PARAMS = {
    "row_count": {"min": 1},
    "not_null": {"columns": ["songplay_id", "user_id"]},
    "unique": {"columns": ["songplay_id", "user_id"]},
    "accepted_values": {"column": "level", "values": ["free", "paid"]},
    "relationship": {"column": "user_id", "to_table": "users", "to_column": "user_id"},
    "expression": {"expression": "session_id > 0"},
    "sql": {"sql": "marts/songs.sql"},
    "freshness": {"column": "start_time", "max_age_hours": 24},
}
PARTITION_CLAUSE = '"partition_key" = %(partition_key)s'


def check(check_type: str, params: dict | None = None, *, scoped: bool, key: str = "2018-11-30") -> CheckQuery:
    return build_check_sql(
        check_type,
        THIS,
        PARAMS[check_type] if params is None else params,
        partition_column="partition_key" if scoped else None,
        partition_key=key,
        tables=TABLES,
    )


def body(sql: str) -> str:
    """SQL without its leading comment lines."""
    return "\n".join(line for line in sql.splitlines() if not line.startswith("--"))


class TestBuildCheckSql:
    def test_params_cover_every_template(self) -> None:
        assert set(PARAMS) == set(CHECK_TYPES)

    @pytest.mark.parametrize("check_type", sorted(CHECK_TYPES))
    @pytest.mark.parametrize("scoped", [True, False])
    def test_every_type_renders_valid_sql(self, check_type: str, scoped: bool) -> None:
        query = check(check_type, scoped=scoped)
        statement = parse(query.sql)
        assert isinstance(statement, exp.Select)
        assert statement.named_selects == ["observed"]
        # every placeholder in the text has a bind value
        assert set(PLACEHOLDER.findall(query.sql)) <= set(query.params)

    @pytest.mark.parametrize("check_type", sorted(set(CHECK_TYPES) - {"sql"}))
    def test_partition_scope(self, check_type: str) -> None:
        scoped = check(check_type, scoped=True)
        assert PARTITION_CLAUSE in scoped.sql
        assert scoped.params["partition_key"] == "2018-11-30"
        whole = check(check_type, scoped=False)
        assert "partition_key" not in whole.sql
        assert "partition_key" not in whole.params

    def test_row_count_exact(self) -> None:
        bounds = {"min": 1, "max": 10}
        assert body(check("row_count", bounds, scoped=True).sql) == (
            'SELECT COUNT(*) AS observed\nFROM "s"."songplays"\nWHERE "partition_key" = %(partition_key)s'
        )
        assert body(check("row_count", bounds, scoped=False).sql) == 'SELECT COUNT(*) AS observed\nFROM "s"."songplays"'
        assert check("row_count", bounds, scoped=False).params == {}

    def test_row_count_with_min_alone_stops_counting_at_min(self) -> None:
        # "at least min" is all that is judged: a table-scoped check reads min rows, not the table
        query = check("row_count", {"min": 3}, scoped=True)
        assert body(query.sql) == (
            'SELECT COUNT(*) AS observed\nFROM (\n    SELECT 1 AS counted_row\n    FROM "s"."songplays"\n'
            '    WHERE "partition_key" = %(partition_key)s\n    LIMIT %(count_limit)s\n) AS counted'
        )
        assert query.params == {"partition_key": "2018-11-30", "count_limit": 3}
        assert "LIMIT" not in check("row_count", {"max": 3}, scoped=True).sql

    def test_not_null_exact(self) -> None:
        assert body(check("not_null", scoped=True).sql) == (
            'SELECT COUNT(*) AS observed\nFROM "s"."songplays"\n'
            'WHERE ("songplay_id" IS NULL OR "user_id" IS NULL)\n'
            '  AND "partition_key" = %(partition_key)s'
        )

    def test_unique_groups_by_all_columns(self) -> None:
        sql = check("unique", scoped=False).sql
        assert 'SELECT "songplay_id", "user_id"' in sql
        assert 'GROUP BY "songplay_id", "user_id"' in sql
        assert "HAVING COUNT(*) > 1" in sql

    def test_accepted_values_are_bind_params(self) -> None:
        values = ["free", "paid", "it's'); DROP TABLE users; --"]
        query = check("accepted_values", {"column": "level", "values": values}, scoped=False)
        assert query.params == {"accepted_0": "free", "accepted_1": "paid", "accepted_2": values[2]}
        assert '"level" NOT IN (%(accepted_0)s, %(accepted_1)s, %(accepted_2)s)' in query.sql
        for value in values:
            assert value not in query.sql
        assert "DROP" not in query.sql

    def test_accepted_values_partition_scoped_params(self) -> None:
        query = check("accepted_values", scoped=True)
        assert query.params == {"partition_key": "2018-11-30", "accepted_0": "free", "accepted_1": "paid"}

    def test_relationship_uses_qualified_to_table(self) -> None:
        query = check(
            "relationship", {"column": "start_time", "to_table": "time", "to_column": "start_time"}, scoped=True
        )
        assert body(query.sql) == (
            'SELECT COUNT(*) AS observed\nFROM "s"."songplays" child\n'
            'LEFT JOIN "s"."time" parent ON child."start_time" = parent."start_time"\n'
            'WHERE child."start_time" IS NOT NULL\n'
            '  AND parent."start_time" IS NULL\n'
            '  AND child."partition_key" = %(partition_key)s'
        )
        tables = {t.sql("postgres") for t in parse(query.sql).find_all(exp.Table)}
        assert tables == {'"s"."songplays" AS child', '"s"."time" AS parent'}

    def test_relationship_unknown_table(self) -> None:
        with pytest.raises(KeyError):
            check("relationship", {"column": "a", "to_table": "nope", "to_column": "b"}, scoped=False)

    def test_expression_wrapped_null_safe(self) -> None:
        sql = check("expression", scoped=False).sql
        assert "WHERE NOT COALESCE((session_id > 0), FALSE)" in sql

    def test_custom_sql_partition_key_bound_only_when_used(self) -> None:
        uses = check("sql", {"sql": "marts/users.sql"}, scoped=False)
        assert uses.params == {"partition_key": "2018-11-30"}
        assert '"s"."staging_events"' in uses.sql
        plain = check("sql", {"sql": "marts/songs.sql"}, scoped=False)
        assert plain.params == {}
        assert '"s"."staging_songs"' in plain.sql
        assert plain.sql.rstrip().endswith(") failing")

    @pytest.mark.parametrize(
        ("key", "end"),
        [
            ("2018-11-30", "2018-12-01 00:00:00"),
            ("2018-12-31", "2019-01-01 00:00:00"),
            ("2020-02-28", "2020-02-29 00:00:00"),
        ],
    )
    def test_freshness_is_relative_to_partition_end(self, key: str | None, end: str | None) -> None:
        query = check("freshness", scoped=False, key=key)
        assert query.params == {"reference_time": end}
        assert 'MAX("start_time")' in query.sql

    def test_freshness_without_partition_is_relative_to_now(self) -> None:
        now = dt.datetime(2018, 11, 5, 13, 14, 15, tzinfo=dt.UTC)
        query = build_check_sql(
            "freshness", THIS, PARAMS["freshness"], partition_column=None, partition_key=None, tables=TABLES, now=now
        )
        assert query.params == {"reference_time": "2018-11-05 13:14:15"}

    def test_unknown_type(self) -> None:
        with pytest.raises(ValueError, match=r"unknown check type 'bogus'"):
            build_check_sql("bogus", THIS, {}, partition_column=None, partition_key=None, tables=TABLES)

    def test_bad_identifier_in_params(self) -> None:
        with pytest.raises(ValueError, match=r"invalid SQL identifier"):
            check("not_null", {"columns": ["ok", "bad column"]}, scoped=False)
        with pytest.raises(ValueError, match=r"invalid SQL identifier"):
            build_check_sql("row_count", THIS, {"min": 1}, partition_column="Bad", partition_key="x", tables=TABLES)


class TestJudge:
    @pytest.mark.parametrize(
        ("params", "observed", "passed", "threshold"),
        [
            ({"min": 1}, 0.0, False, "min=1 max=None"),
            ({"min": 1}, 1.0, True, "min=1 max=None"),
            ({"min": 1}, 5000.0, True, "min=1 max=None"),
            ({"max": 5}, 5.0, True, "min=None max=5"),
            ({"max": 5}, 6.0, False, "min=None max=5"),
            ({"min": 2, "max": 3}, 1.0, False, "min=2 max=3"),
            ({"min": 2, "max": 3}, 2.0, True, "min=2 max=3"),
            ({"min": 2, "max": 3}, 3.0, True, "min=2 max=3"),
            ({"min": 2, "max": 3}, 4.0, False, "min=2 max=3"),
            ({"min": 0}, 0.0, True, "min=0 max=None"),
            ({"max": 0}, 0.0, True, "min=None max=0"),
            ({"min": 0}, None, False, "min=0 max=None"),
        ],
    )
    def test_row_count(self, params: dict, observed: float | None, passed: bool, threshold: str) -> None:
        assert judge("row_count", observed, params) == Verdict(passed, observed, threshold)

    @pytest.mark.parametrize(
        ("observed", "passed"), [(0.0, True), (23.5, True), (24.0, True), (24.01, False), (-1.0, True), (None, False)]
    )
    def test_freshness(self, observed: float | None, passed: bool) -> None:
        assert judge("freshness", observed, {"max_age_hours": 24}) == Verdict(passed, observed, "age_hours<=24")

    @pytest.mark.parametrize(
        "check_type", ["not_null", "unique", "accepted_values", "relationship", "expression", "sql"]
    )
    @pytest.mark.parametrize(("observed", "passed"), [(0.0, True), (1.0, False), (17.0, False), (None, False)])
    def test_failing_rows(self, check_type: str, observed: float | None, passed: bool) -> None:
        assert judge(check_type, observed, PARAMS[check_type]) == Verdict(passed, observed, "failing_rows=0")


# --------------------------------------------------------------------------- project


def create_statements(config: Config) -> dict[str, exp.Create]:
    """Table name -> parsed CREATE statement."""
    parsed = {}
    for sql in ddl_statements(config, FakeWarehouse()):
        statement = parse(sql)
        assert isinstance(statement, exp.Create)
        parsed[statement.find(exp.Table).name] = statement
    return parsed


def column_names(create: exp.Create) -> list[str]:
    return [c.name for c in create.find_all(exp.ColumnDef)]


class TestProject:
    def test_all_tables(self, config: Config) -> None:
        assert all_tables(config) == [
            MANIFEST_TABLE,
            EVENT_MANIFEST_TABLE,
            REJECTED_TABLE,
            RESULTS_TABLE,
            SONG_LOOKUP_TABLE,
            ROLLUP_MONTHS_TABLE,
            PUBLISHED_DAYS_TABLE,
            ROLLUP_READS_TABLE,
            "staging_events",
            "staging_songs",
            "songplays",
            "users",
            "songs",
            "artists",
            "time",
            "user_activity_monthly",
            "song_ranking_monthly",
        ]

    def test_model_context(self, config: Config) -> None:
        context = model_context(config, FakeWarehouse())
        assert context == {name: f'"s"."{name}"' for name in all_tables(config)}
        assert "this" not in context
        assert model_context(config, FakeWarehouse(), "users")["this"] == '"s"."users"'

    def test_ddl_statements_create_each_qualified_table(self, config: Config) -> None:
        statements = ddl_statements(config, FakeWarehouse())
        assert len(statements) == len(all_tables(config))
        for name, sql in zip(all_tables(config), statements, strict=True):
            assert body(sql).startswith(f'CREATE TABLE IF NOT EXISTS "s"."{name}" (\n'), sql
            statement = parse(sql)
            assert isinstance(statement, exp.Create)
            assert statement.args.get("exists") is True
            assert statement.find(exp.Table).sql("postgres") == f'"s"."{name}"'

    def test_staging_ddl_matches_parser_columns(self, config: Config) -> None:
        # The staging operators COPY rows in EVENT_COLUMNS / SONG_COLUMNS / REJECT_COLUMNS order.
        creates = create_statements(config)
        assert column_names(creates[config.staging.events_table]) == list(EVENT_COLUMNS)
        assert column_names(creates[config.staging.songs_table]) == list(SONG_TABLE_COLUMNS)
        assert column_names(creates[REJECTED_TABLE]) == list(REJECT_COLUMNS)
        assert column_names(creates[MANIFEST_TABLE]) == ["source_key", "version", "rows_loaded", "rejected", "load_seq"]

    def test_marts_render_valid_sql_with_table_columns(self, config: Config) -> None:
        creates = create_statements(config)
        models = [(config.fact.name, config.fact.sql, config.fact.key)]
        models += [(d.name, d.sql, d.key) for d in config.dimensions]
        for name, sql_path, key in models:
            sql = render(sql_path, **model_context(config, FakeWarehouse(), name))
            statement = parse(sql)
            assert isinstance(statement, exp.Select), sql_path
            # The loaders insert the model's columns by name into the table.
            assert sorted(statement.named_selects) == sorted(column_names(creates[name])), sql_path
            assert set(key) <= set(statement.named_selects), sql_path

    def test_every_marts_file_renders(self, config: Config) -> None:
        context = model_context(config, FakeWarehouse(), "this_table")
        files = sorted(p.relative_to(SQL_DIR).as_posix() for p in (SQL_DIR / "marts").glob("*.sql"))
        assert files
        for rel in files:
            parse(render(rel, **context))

    def test_dimension_upserts_valid_for_their_models(self, config: Config) -> None:
        for dim in config.dimensions:
            sql = render(dim.sql, **model_context(config, FakeWarehouse(), dim.name))
            columns = parse(sql).named_selects
            upsert = build_upsert_sql(f'"s"."{dim.name}"', "_model", columns, dim.key, dim.mode, dim.version_columns)
            assert isinstance(parse(upsert), exp.Insert)
        fact_delete = build_delete_partition_sql('"s"."songplays"', config.fact.partition_column)
        assert isinstance(parse(fact_delete), exp.Delete)

    def test_configured_checks_render_valid_sql(self, config: Config) -> None:
        tables = model_context(config, FakeWarehouse())
        for c in config.checks:
            partition_column = None
            if c.scope == "partition":
                partition_column = config.fact.partition_column if c.table == config.fact.name else "partition_key"
            query = build_check_sql(
                c.type,
                tables[c.table],
                c.params,
                partition_column=partition_column,
                partition_key="2018-11-01",
                tables=tables,
            )
            statement = parse(query.sql)
            expected = ["observed", "expected"] if "expected_sql" in c.params else ["observed"]
            if needs_rows_checked(c.params):  # a share threshold: failing rows / rows checked
                expected = ["observed", "rows_checked"]
            assert statement.named_selects == expected, c.name
            assert set(PLACEHOLDER.findall(query.sql)) == set(query.params), c.name


def test_load_modes_are_the_schemas() -> None:
    """The upsert builders and the config schema accept the same dimension modes."""
    from sparkify.config import config_schema

    schema = config_schema()
    modes = schema["$defs"]["dimension"]["properties"]["mode"]["enum"] if "dimension" in schema["$defs"] else None
    assert modes is not None and sorted(modes) == sorted(LOAD_MODES)


def test_schema_comment_takes_only_a_digest() -> None:
    from sparkify.warehouse.base import ddl_digest
    from sparkify.warehouse.sql import build_schema_comment_sql

    digest = ddl_digest(["CREATE TABLE t (a int)"])
    assert build_schema_comment_sql("public", digest) == f"COMMENT ON SCHEMA \"public\" IS '{digest}'"
    for bad in ("x' ; DROP SCHEMA public; --", digest + "'", ""):
        with pytest.raises(ValueError, match="not a DDL digest"):
            build_schema_comment_sql("public", bad)


def test_compile_all_leaves_every_sql_template_compiled() -> None:
    """The scheduler's plugin compiles sql/ before it forks task processes (sparkify_plugin.py)."""
    from sparkify.sqlfiles import _environment, compile_all

    names = {path.relative_to(SQL_DIR).as_posix() for path in SQL_DIR.rglob("*.sql")}
    assert compile_all() == len(names)
    assert {name for _, name in _environment(str(SQL_DIR)).cache.keys()} >= names
