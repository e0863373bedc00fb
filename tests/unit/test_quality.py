"""Unit tests for the data-quality framework's pure parts (no database).

Sample-mode SQL, reconciliation judging, result formatting, columns read from DDL, and the
parse-time validation of check columns and row_count parameters.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from sparkify.checks import CHECK_TYPES
from sparkify.config import REPO_ROOT, SQL_DIR, ConfigError, config_schema, load_config
from sparkify.ddl import ddl_columns, table_columns
from sparkify.quality import (
    SAMPLE_JSON_CHARS,
    SAMPLE_LIMIT,
    SAMPLE_VALUE_CHARS,
    Verdict,
    build_check_sql,
    build_sample_sql,
    format_result,
    judge,
    judge_row,
    sample_json,
    sample_records,
    share_note,
    status_for,
)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
THIS = '"s"."songplays"'
TABLES = {name: f'"s"."{name}"' for name in ("users", "time", "songplays", "staging_events", "staging_songs")}
PARAMS: dict[str, dict[str, Any]] = {
    "row_count": {"min": 1},
    "not_null": {"columns": ["songplay_id", "user_id"]},
    "unique": {"columns": ["user_id", "start_time"]},
    "accepted_values": {"column": "level", "values": ["free", "paid"]},
    "relationship": {"column": "user_id", "to_table": "users", "to_column": "user_id"},
    "expression": {"expression": "session_id > 0"},
    "sql": {"sql": "quality/songplays_outside_partition.sql"},
    "freshness": {"column": "start_time", "max_age_hours": 24},
}
SHIPPED = REPO_ROOT / "config.json"


def parse(sql: str) -> exp.Expression:
    """Parse one statement after replacing placeholders with literals (LIMIT needs a number)."""
    literal = sql.replace("%(sample_limit)s", "10")
    statements = sqlglot.parse(PLACEHOLDER.sub("'x'", literal), dialect="postgres")
    assert len(statements) == 1 and statements[0] is not None, sql
    return statements[0]


def build(check_type: str, *, sample: bool, scoped: bool = True, params: dict | None = None):
    args = {
        "partition_column": "partition_key" if scoped else None,
        "partition_key": "2018-11-02",
        "tables": TABLES,
    }
    if sample:
        return build_sample_sql(check_type, THIS, params or PARAMS[check_type], **args)
    return build_check_sql(check_type, THIS, params or PARAMS[check_type], **args)


def where_clause(sql: str) -> str:
    """The text from WHERE up to GROUP BY / LIMIT / end, i.e. the failing-row predicate."""
    match = re.search(r"\bWHERE\b(.*?)(?:\bGROUP BY\b|\bLIMIT\b|$)", sql, re.S)
    assert match, sql
    return " ".join(match.group(1).split())


# --------------------------------------------------------------------------- sample SQL


class TestSampleSql:
    @pytest.mark.parametrize("check_type", sorted(set(CHECK_TYPES) - {"row_count"}))
    @pytest.mark.parametrize("scoped", [True, False])
    def test_sample_mode_is_valid_limited_sql(self, check_type: str, scoped: bool) -> None:
        query = build(check_type, sample=True, scoped=scoped)
        assert query is not None
        assert isinstance(parse(query.sql), exp.Select)
        assert query.params["sample_limit"] == SAMPLE_LIMIT
        assert set(PLACEHOLDER.findall(query.sql)) <= set(query.params)
        if check_type != "freshness":  # one summary row, no LIMIT needed
            assert query.sql.rstrip().endswith("LIMIT %(sample_limit)s")

    @pytest.mark.parametrize("check_type", ["not_null", "accepted_values", "relationship", "expression", "sql"])
    def test_sample_and_count_share_the_failing_row_predicate(self, check_type: str) -> None:
        count = build(check_type, sample=False)
        sample = build(check_type, sample=True)
        assert where_clause(sample.sql) == where_clause(count.sql)
        assert "COUNT(*) AS observed" in count.sql and "COUNT(*) AS observed" not in sample.sql
        assert "sample_limit" not in count.params

    def test_unique_sample_lists_duplicated_values_with_occurrences(self) -> None:
        sql = build("unique", sample=True).sql
        assert 'SELECT "user_id", "start_time", COUNT(*) AS occurrences' in sql
        assert 'GROUP BY "user_id", "start_time"\n    HAVING COUNT(*) > 1' in sql
        assert parse(sql).named_selects == ["user_id", "start_time", "occurrences"]

    def test_relationship_sample_returns_child_rows(self) -> None:
        assert "SELECT child.*" in build("relationship", sample=True).sql

    def test_freshness_sample_shows_newest_and_reference(self) -> None:
        query = build("freshness", sample=True)
        assert parse(query.sql).named_selects == ["newest", "reference_time", "rows_checked"]
        assert query.params["reference_time"] == "2018-11-03 00:00:00"

    def test_row_count_has_no_sample(self) -> None:
        assert build("row_count", sample=True) is None
        with pytest.raises(ValueError, match="no failing rows"):
            build_check_sql("row_count", THIS, {"min": 1}, partition_column=None, partition_key=None,
                            tables=TABLES, sample=True)


class TestRelativeRowCount:
    def test_expected_query_is_a_scalar_subquery_of_the_same_statement(self) -> None:
        query = build("row_count", sample=False, params={"expected_sql": "quality/expected_songplays.sql"})
        statement = parse(query.sql)
        assert statement.named_selects == ["observed", "expected"]
        assert '"s"."staging_events"' in query.sql
        assert "page = 'NextSong'" in query.sql and "user_id <> ''" in query.sql
        assert query.params == {"partition_key": "2018-11-02"}

    def test_table_scoped_reconciliation_still_binds_the_partition_its_file_uses(self) -> None:
        params = {"expected_sql": "quality/expected_songplays.sql"}
        query = build("row_count", sample=False, scoped=False, params=params)
        assert query.params == {"partition_key": "2018-11-02"}

    @pytest.mark.parametrize(
        ("observed", "expected", "tolerance", "passed"),
        [
            (100.0, 100.0, 0, True),
            (99.0, 100.0, 0, False),
            (101.0, 100.0, 0, False),
            (99.0, 100.0, 0.01, True),
            (98.0, 100.0, 0.01, False),
            (0.0, 0.0, 0, True),
            (None, 100.0, 0, False),
            (100.0, None, 0, False),
        ],
    )
    def test_judge_against_expected(self, observed, expected, tolerance, passed) -> None:
        params = {"expected_sql": "quality/expected_songplays.sql", "tolerance": tolerance}
        verdict = judge("row_count", observed, params, expected)
        assert verdict.passed is passed
        assert verdict.expected == expected
        assert verdict.threshold.startswith("= expected ")


class TestExpressionPercent:
    def test_literal_percent_is_escaped_for_the_driver(self) -> None:
        query = build("expression", sample=False, params={"expression": "level NOT LIKE 'prem%'"})
        assert "NOT LIKE 'prem%%'" in query.sql
        assert PLACEHOLDER.findall(query.sql) == ["partition_key"]


# --------------------------------------------------------------------------- results


class TestResults:
    def test_status(self) -> None:
        ok, bad = Verdict(True, 0.0, "failing_rows=0"), Verdict(False, 3.0, "failing_rows=0")
        assert status_for(ok, "error") == status_for(ok, "warn") == "passed"
        assert status_for(bad, "error") == "failed"
        assert status_for(bad, "warn") == "warned"

    def test_sample_records_are_json_ready(self) -> None:
        records = sample_records(
            ["ts", "day", "n", "amount", "name", "blob", "none"],
            [(dt.datetime(2018, 11, 2, 1, 2, 3), dt.date(2018, 11, 2), 7, decimal.Decimal("1.5"), "x" * 500,
              b"\x00\xff", None)],
        )
        assert records == [{
            "ts": "2018-11-02T01:02:03", "day": "2018-11-02", "n": 7, "amount": 1.5,
            "name": "x" * SAMPLE_VALUE_CHARS + "…", "blob": "00ff", "none": None,
        }]
        assert json.loads(sample_json(records)) == records

    def test_sample_json_fits_the_column(self) -> None:
        records = [{"v": "y" * SAMPLE_VALUE_CHARS, "w": "z" * SAMPLE_VALUE_CHARS} for _ in range(200)]
        text = sample_json(records)
        assert len(text) <= SAMPLE_JSON_CHARS
        assert 0 < len(json.loads(text)) < 200

    def test_format_result_is_readable(self) -> None:
        text = format_result(
            name="songplays_users_exist", check_type="relationship", table="songplays", scope="partition",
            partition_key="2018-11-02", severity="error", status="failed",
            verdict=Verdict(False, 2.0, "failing_rows=0"),
            samples=[{"songplay_id": "a", "user_id": "u3"}, {"songplay_id": "b", "user_id": "u4"}],
            duration_seconds=0.0123,
        )
        assert text == (
            "data-quality check songplays_users_exist: FAILED (severity error)\n"
            "  check:    relationship on songplays, partition 2018-11-02\n"
            "  observed: 2\n"
            "  expected: failing_rows=0\n"
            "  took:     0.012 s\n"
            "  failing rows (first 2, also in dq_results.sample_rows):\n"
            '    {"songplay_id": "a", "user_id": "u3"}\n'
            '    {"songplay_id": "b", "user_id": "u4"}'
        )

    def test_format_result_whole_table_without_samples(self) -> None:
        text = format_result(
            name="fresh", check_type="freshness", table="songplays", scope="table", partition_key=None,
            severity="warn", status="passed", verdict=Verdict(True, 1.23456, "age_hours<=6"), samples=None,
            duration_seconds=0.5,
        )
        assert "freshness on songplays, whole table" in text
        assert "observed: 1.235" in text
        assert "failing rows" not in text


# --------------------------------------------------------------------------- DDL columns


class TestDdlColumns:
    @pytest.mark.parametrize("path", sorted((SQL_DIR / "ddl").glob("*.sql")), ids=lambda p: p.name)
    def test_matches_sqlglot_for_every_shipped_ddl(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        create = sqlglot.parse_one(text.replace("{{ this }}", "t"), dialect="postgres")
        assert ddl_columns(text) == tuple(c.name for c in create.find_all(exp.ColumnDef))

    def test_constraints_comments_quotes_and_nested_parentheses(self) -> None:
        text = """-- a comment (with, commas)
        CREATE TABLE IF NOT EXISTS {{ this }} (
            "Id"     INTEGER NOT NULL, -- trailing, comment
            amount   NUMERIC(18, 5),
            code     VARCHAR(8) CHECK (code IN ('a', 'b')),
            PRIMARY KEY (id),
            UNIQUE (code, amount),
            CONSTRAINT c CHECK (amount > 0)
        ) DISTKEY(id) SORTKEY(id)"""
        assert ddl_columns(text) == ("id", "amount", "code")

    def test_not_a_create_table(self) -> None:
        with pytest.raises(ValueError, match="no CREATE TABLE"):
            ddl_columns("SELECT 1")

    def test_missing_file_is_none(self, tmp_path: Path) -> None:
        assert table_columns(tmp_path, "nope") is None
        assert table_columns(SQL_DIR, "users") == (
            "user_id", "first_name", "last_name", "gender", "level", "last_event_ts"
        )


# --------------------------------------------------------------------------- parse-time validation


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    monkeypatch.delenv("SPARKIFY_CONFIG", raising=False)

    def write(mutate) -> Path:
        document = json.loads(SHIPPED.read_text(encoding="utf-8"))
        mutate(document)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    return write


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)  # the real sql/ dir, so columns come from the real DDL files
    return list(info.value.problems)


def test_shipped_config_loads_with_real_ddl() -> None:
    assert len(load_config(SHIPPED).checks) >= 20


def test_unknown_columns_fail_with_json_path(write_config) -> None:
    def mutate(doc: dict) -> None:
        doc["checks"] += [
            {"name": "x1", "table": "songplays", "type": "not_null", "columns": ["songplay_id", "sonplay_id"]},
            {"name": "x2", "table": "users", "type": "accepted_values", "column": "tier", "values": ["a"]},
            {"name": "x3", "table": "songplays", "type": "relationship", "column": "user_id",
             "to_table": "users", "to_column": "id"},
            {"name": "x4", "table": "songplays", "type": "freshness", "column": "ts", "max_age_hours": 1},
        ]

    problems = problems_of(write_config(mutate))
    n = len(json.loads(SHIPPED.read_text(encoding="utf-8"))["checks"])
    assert problems == [
        f"$.checks[{n}].columns[1]: unknown column 'sonplay_id' in table 'songplays' (columns: songplay_id, "
        "partition_key, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent)",
        f"$.checks[{n + 1}].column: unknown column 'tier' in table 'users' "
        "(columns: user_id, first_name, last_name, gender, level, last_event_ts)",
        f"$.checks[{n + 2}].to_column: unknown column 'id' in table 'users' "
        "(columns: user_id, first_name, last_name, gender, level, last_event_ts)",
        f"$.checks[{n + 3}].column: unknown column 'ts' in table 'songplays' (columns: songplay_id, "
        "partition_key, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent)",
    ]


def test_row_count_expected_sql_rules(write_config) -> None:
    def mutate(doc: dict) -> None:
        doc["checks"] += [
            {"name": "r1", "table": "songplays", "type": "row_count", "expected_sql": "quality/nope.sql"},
            {"name": "r2", "table": "songplays", "type": "row_count", "min": 1,
             "expected_sql": "quality/expected_songplays.sql"},
            {"name": "r3", "table": "songplays", "type": "row_count", "min": 1, "tolerance": 0.1},
            {"name": "r4", "table": "songplays", "type": "row_count", "expected_sql": "quality/expected_songplays.sql",
             "tolerance": 2},
        ]

    problems = problems_of(write_config(mutate))
    n = len(json.loads(SHIPPED.read_text(encoding="utf-8"))["checks"])
    assert f"$.checks[{n}].expected_sql: SQL file not found: {SQL_DIR / 'quality/nope.sql'}" in problems
    assert f"$.checks[{n + 1}]: use either min/max or expected_sql (with tolerance), not both" in problems
    assert f"$.checks[{n + 2}].tolerance: only allowed with expected_sql" in problems
    assert f"$.checks[{n + 3}].tolerance: 2 is greater than the maximum of 1" in problems
    assert len(problems) == 4


def test_reconciliation_params_reach_the_operator(write_config) -> None:
    config = load_config(SHIPPED)
    check = next(c for c in config.checks if c.name == "songplays_match_staged_events")
    assert check.params == {"expected_sql": "quality/expected_songplays.sql", "tolerance": 0}


# --------------------------------------------------------------------------- thresholds (warn_if / error_if)

class TestMeasuredBounds:
    """row_count and freshness judge one number against inclusive bounds."""

    @pytest.mark.parametrize(
        ("observed", "passed"), [(None, False), (0, False), (1, True), (3, True), (5, True), (6, False)]
    )
    def test_row_count_min_and_max_are_inclusive(self, observed: float | None, passed: bool) -> None:
        verdict = judge("row_count", observed, {"min": 1, "max": 5})
        assert verdict.passed is passed and verdict.threshold == "min=1 max=5"

    @pytest.mark.parametrize(("observed", "passed"), [(None, False), (-1.0, True), (2.0, True), (2.001, False)])
    def test_freshness_at_max_age_passes(self, observed: float | None, passed: bool) -> None:
        verdict = judge("freshness", observed, {"column": "start_time", "max_age_hours": 2})
        assert verdict.passed is passed and verdict.threshold == "age_hours<=2"


SHIPPED_THRESHOLDS = {"warn_if": {"count_gt": 0}, "error_if": {"share_gt": 0.5}}


class TestThresholds:
    @pytest.mark.parametrize(
        ("observed", "rows_checked", "status"),
        [
            (0, 10, "passed"),
            (1, 10, "warned"),  # any failing row warns
            (5, 10, "warned"),  # exactly half is not above 0.5
            (6, 10, "failed"),  # above half: a misfiled file, not stray events
            (0, 0, "passed"),  # nothing checked, nothing failing
            (1, 0, "failed"),  # failing rows but none checked: an unbounded share
        ],
    )
    def test_error_if_then_warn_if_then_passed(self, observed: float, rows_checked: float, status: str) -> None:
        verdict = judge("expression", observed, SHIPPED_THRESHOLDS, rows_checked=rows_checked)
        # severity is ignored once thresholds decide: "error" would otherwise fail every failing row
        assert status_for(verdict, "error") == status_for(verdict, "warn") == status
        assert verdict.threshold == "error_if failing_share>0.5; warn_if failing_rows>0"
        assert verdict.rows_checked == rows_checked

    def test_count_thresholds_and_one_sided_rules(self) -> None:
        only_error = {"error_if": {"count_gt": 3}}
        assert status_for(judge("unique", 3, only_error), "error") == "passed"
        assert status_for(judge("unique", 4, only_error), "error") == "failed"
        only_warn = {"warn_if": {"count_gt": 0}}
        assert status_for(judge("not_null", 10**6, only_warn), "warn") == "warned"  # never fails
        assert judge("not_null", 1, only_warn).threshold == "warn_if failing_rows>0"

    def test_without_thresholds_severity_decides_as_before(self) -> None:
        verdict = judge("relationship", 1, {"column": "user_id"})
        assert (verdict.decided, verdict.threshold) == (None, "failing_rows=0")
        assert status_for(verdict, "error") == "failed" and status_for(verdict, "warn") == "warned"

    def test_a_share_needs_the_rows_checked(self) -> None:
        with pytest.raises(ValueError, match="rows checked"):
            judge("expression", 1, SHIPPED_THRESHOLDS)

    def test_share_note_and_report(self) -> None:
        verdict = judge("sql", 2, SHIPPED_THRESHOLDS, rows_checked=5)
        assert share_note(verdict) == "failing share 0.400 = 2 of 5 rows checked"
        assert share_note(judge("sql", 2, {"warn_if": {"count_gt": 0}})) is None
        text = format_result(
            name="n", check_type="sql", table="songplays", scope="partition", partition_key="2018-11-02",
            severity="error", status="warned", verdict=verdict, samples=None, duration_seconds=0.1,
        )
        assert "  expected: error_if failing_share>0.5; warn_if failing_rows>0\n  share:    0.400 = 2 of 5" in text

    def test_judge_row_reads_rows_checked_or_expected(self) -> None:
        assert judge_row("sql", (2, 5), SHIPPED_THRESHOLDS).rows_checked == 5
        reconciled = judge_row("row_count", (4, 3), {"expected_sql": "x.sql", "tolerance": 0})
        assert (reconciled.expected, reconciled.rows_checked, reconciled.passed) == (3, None, False)


def threshold_types() -> list[str]:
    """Check types whose schema branch accepts warn_if/error_if (the schema is where that is declared)."""
    schema = config_schema()
    return sorted(
        branch["if"]["properties"]["type"]["const"]
        for branch in schema["$defs"]["check"]["allOf"]
        if branch["then"]["properties"].get("warn_if") == {"$ref": "#/$defs/threshold"}
    )


def test_thresholds_apply_to_failing_row_types_only() -> None:
    assert set(threshold_types()) == set(CHECK_TYPES) - {"row_count", "freshness"}


class TestRowsCheckedSql:
    @pytest.mark.parametrize("check_type", threshold_types())
    @pytest.mark.parametrize("scoped", [True, False])
    def test_share_threshold_adds_rows_checked_to_the_same_statement(self, check_type: str, scoped: bool) -> None:
        params = {**PARAMS[check_type], **SHIPPED_THRESHOLDS}
        query = build(check_type, sample=False, scoped=scoped, params=params)
        statement = parse(query.sql)
        assert statement.named_selects == ["observed", "rows_checked"]
        plain = build(check_type, sample=False, scoped=scoped)
        assert plain.sql in query.sql  # the failing-row count is unchanged, only wrapped
        assert set(PLACEHOLDER.findall(query.sql)) <= set(query.params)
        rows_checked = re.search(r"\(\s*SELECT COUNT\(\*\)\s*FROM \"s\".\"songplays\"\s*(.*?)\) AS rows_checked",
                                 query.sql, re.S)
        assert rows_checked, query.sql
        assert ('"partition_key" = %(partition_key)s' in rows_checked.group(1)) is scoped

    def test_count_thresholds_and_samples_keep_the_plain_query(self) -> None:
        params = {**PARAMS["expression"], "warn_if": {"count_gt": 0}, "error_if": {"count_gt": 9}}
        assert build("expression", sample=False, params=params) == build("expression", sample=False)
        sample = build("expression", sample=True, params={**PARAMS["expression"], **SHIPPED_THRESHOLDS})
        assert "rows_checked" not in sample.sql
