"""Every check type passes on clean rows and fails on seeded bad rows, against real PostgreSQL.

Each case runs DataQualityCheckOperator.execute() exactly as the DAG does and then reads the row
it appended to dq_results: status, observed (and expected) value, threshold and the sample of
failing rows. Partition 2018-11-01 is clean; 2018-11-02 holds the seeded bad rows, so the
passing and failing cases of a partition-scoped check differ only in the partition they look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.ensure_schema import EnsureSchemaOperator
from tests.integration.conftest import Project

CLEAN, DIRTY = "2018-11-01", "2018-11-02"

SONGPLAYS = [
    # songplay_id, partition_key, start_time, user_id, level, session_id
    ("sp1", CLEAN, "2018-11-01 10:00:00", "u1", "free", 1),
    ("sp2", CLEAN, "2018-11-01 22:30:00", "u2", "paid", 2),
    ("sp3", CLEAN, "2018-11-01 23:00:00", "u1", "free", 3),
    ("sp4", DIRTY, "2018-11-02 01:00:00", "u3", "premium", -1),  # unknown user, bad level, bad session
    ("sp5", DIRTY, "2018-11-02 02:00:00", "u1", None, 4),  # NULL level
    ("sp6", DIRTY, "2018-11-02 02:00:00", "u1", "free", 5),  # same (user_id, start_time) as sp5
    ("sp7", DIRTY, "2018-11-03 00:30:00", "u2", "paid", 6),  # filed under the wrong day
]
USERS = [("u1", "free", 1), ("u2", "paid", 2)]
# staging events: partition, line, page, user_id -> 3 songplay-producing events on each day
EVENTS = [
    (CLEAN, 1, "NextSong", "u1"),
    (CLEAN, 2, "NextSong", "u2"),
    (CLEAN, 3, "NextSong", "u1"),
    (CLEAN, 4, "NextSong", ""),  # logged out: not a songplay
    (CLEAN, 5, "Home", "u1"),  # not a song: not a songplay
    (DIRTY, 1, "NextSong", "u1"),
    (DIRTY, 2, "NextSong", "u1"),
    (DIRTY, 3, "NextSong", "u2"),
]


@pytest.fixture
def project(make_project, tmp_path: Path) -> Project:
    project = make_project(tmp_path / "no-source-needed")
    EnsureSchemaOperator(task_id="ensure_schema", config_path=str(project.config_path)).execute({})
    rows = [
        ("INSERT INTO songplays (songplay_id, partition_key, start_time, user_id, level, session_id)"
         " VALUES (%s, %s, %s, %s, %s, %s)", SONGPLAYS),
        ("INSERT INTO users (user_id, level, last_event_ts) VALUES (%s, %s, %s)", USERS),
        ("INSERT INTO staging_events (partition_key, line_number, page, user_id, source_key, ts, record_in_line)"
         " VALUES (%s, %s, %s, %s, 'k', %s, 1)", [(*event, event[1]) for event in EVENTS]),  # ts = line: distinct
    ]
    for sql, values in rows:
        for value in values:
            project.query(sql + " RETURNING 1", value)
    return project


def run_check(
    project: Project, check_type: str, params: dict[str, Any], *, partition: str, table: str = "songplays",
    scope: str = "partition", severity: str = "error",
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Execute one check; return (operator result or None if it raised, its dq_results row)."""
    name = f"{check_type}_{partition.replace('-', '_')}_{len(project.query('SELECT 1 FROM dq_results'))}"
    operator = DataQualityCheckOperator(
        task_id="check",
        name=name,
        table=table,
        check_type=check_type,
        severity=severity,
        scope=scope,
        check_params=params,
        partition_key=partition,
        config_path=str(project.config_path),
    )
    try:
        result = operator.execute({"dag_id": "dq_test", "run_id": f"run_{partition}"})
    except AirflowFailException:
        result = None
    (row,) = project.query(
        "SELECT row_to_json(r)::text FROM dq_results r WHERE check_name = %s", (name,)
    )
    record = json.loads(row[0])
    record["samples"] = None if record["sample_rows"] is None else json.loads(record["sample_rows"])
    return result, record


def assert_passed(result: dict[str, Any] | None, record: dict[str, Any], observed: float) -> None:
    assert result is not None and result["status"] == "passed"
    assert record["status"] == "passed"
    assert record["observed"] == observed
    assert record["samples"] is None  # samples are only fetched for failures
    assert record["duration_seconds"] > 0
    assert (record["dag_id"], record["run_id"]) == ("dq_test", f"run_{record['partition_key']}")


def assert_failed(result: dict[str, Any] | None, record: dict[str, Any], observed: float) -> None:
    assert result is None, "an error-severity failure must raise AirflowFailException"
    assert record["status"] == "failed"
    assert record["observed"] == observed


def ids(samples: list[dict[str, Any]]) -> list[str]:
    """songplay_id is CHAR(32), so the database pads the short test ids."""
    return sorted(s["songplay_id"].rstrip() for s in samples)


# --------------------------------------------------------------------------- row_count


def test_row_count_min_max(project: Project) -> None:
    result, record = run_check(project, "row_count", {"min": 1, "max": 5}, partition=CLEAN)
    assert_passed(result, record, 3)
    assert record["threshold"] == "min=1 max=5"

    result, record = run_check(project, "row_count", {"min": 1, "max": 3}, partition=DIRTY)
    assert_failed(result, record, 4)
    assert record["threshold"] == "min=1 max=3"
    assert record["samples"] is None  # a count has no failing rows


def test_row_count_relative_to_staged_events(project: Project) -> None:
    params = {"expected_sql": "quality/expected_songplays.sql", "tolerance": 0}
    result, record = run_check(project, "row_count", params, partition=CLEAN)
    assert_passed(result, record, 3)
    assert record["expected"] == 3
    assert record["threshold"] == "= expected 3 ± 0%"

    result, record = run_check(project, "row_count", params, partition=DIRTY)
    assert_failed(result, record, 4)
    assert record["expected"] == 3

    # a tolerance absorbs a small difference: |4 - 3| <= 0.5 * 3
    result, record = run_check(project, "row_count", {**params, "tolerance": 0.5}, partition=DIRTY)
    assert_passed(result, record, 4)


# --------------------------------------------------------------------------- row-level types


def test_not_null(project: Project) -> None:
    params = {"columns": ["songplay_id", "level"]}
    assert_passed(*run_check(project, "not_null", params, partition=CLEAN), observed=0)
    result, record = run_check(project, "not_null", params, partition=DIRTY)
    assert_failed(result, record, 1)
    assert ids(record["samples"]) == ["sp5"]
    assert record["samples"][0]["level"] is None
    assert record["samples"][0]["start_time"] == "2018-11-02T02:00:00"


def test_unique(project: Project) -> None:
    params = {"columns": ["user_id", "start_time"]}
    assert_passed(*run_check(project, "unique", params, partition=CLEAN), observed=0)
    result, record = run_check(project, "unique", params, partition=DIRTY)
    assert_failed(result, record, 1)
    assert record["samples"] == [{"user_id": "u1", "start_time": "2018-11-02T02:00:00", "occurrences": 2}]


def test_accepted_values(project: Project) -> None:
    params = {"column": "level", "values": ["free", "paid"]}
    assert_passed(*run_check(project, "accepted_values", params, partition=CLEAN), observed=0)
    result, record = run_check(project, "accepted_values", params, partition=DIRTY)
    assert_failed(result, record, 1)  # NULL is not_null's business, not accepted_values'
    assert ids(record["samples"]) == ["sp4"]
    assert record["samples"][0]["level"] == "premium"


def test_relationship(project: Project) -> None:
    params = {"column": "user_id", "to_table": "users", "to_column": "user_id"}
    assert_passed(*run_check(project, "relationship", params, partition=CLEAN), observed=0)
    result, record = run_check(project, "relationship", params, partition=DIRTY)
    assert_failed(result, record, 1)
    assert ids(record["samples"]) == ["sp4"]
    assert record["samples"][0]["user_id"] == "u3"


def test_expression(project: Project) -> None:
    params = {"expression": "session_id > 0 AND level NOT LIKE 'prem%'"}
    assert_passed(*run_check(project, "expression", params, partition=CLEAN), observed=0)
    result, record = run_check(project, "expression", params, partition=DIRTY)
    # sp4 fails both parts; sp5's NULL level makes the expression NULL, which counts as failing.
    assert_failed(result, record, 2)
    assert ids(record["samples"]) == ["sp4", "sp5"]


def test_custom_sql(project: Project) -> None:
    params = {"sql": "quality/songplays_outside_partition.sql"}
    assert_passed(*run_check(project, "sql", params, partition=CLEAN), observed=0)
    result, record = run_check(project, "sql", params, partition=DIRTY)
    assert_failed(result, record, 1)
    assert ids(record["samples"]) == ["sp7"]
    assert record["samples"][0]["partition_key"] == DIRTY
    assert record["samples"][0]["start_time"] == "2018-11-03T00:30:00"


def test_freshness_relative_to_partition_end(project: Project) -> None:
    # The newest songplay of 2018-11-01 is at 23:00, one hour before the partition's day ends.
    result, record = run_check(project, "freshness", {"column": "start_time", "max_age_hours": 2}, partition=CLEAN)
    assert_passed(result, record, 1.0)
    assert record["threshold"] == "age_hours<=2"

    result, record = run_check(
        project, "freshness", {"column": "start_time", "max_age_hours": 0.5}, partition=CLEAN
    )
    assert_failed(result, record, 1.0)
    assert record["samples"] == [
        {"newest": "2018-11-01T23:00:00", "reference_time": "2018-11-02T00:00:00", "rows_checked": 3}
    ]


# --------------------------------------------------------------------------- scope, severity, errors


def test_table_scope_sees_every_partition(project: Project) -> None:
    result, record = run_check(
        project, "accepted_values", {"column": "level", "values": ["free", "paid"]}, partition=CLEAN, scope="table"
    )
    assert_failed(result, record, 1)
    assert record["scope"] == "table"
    assert ids(record["samples"]) == ["sp4"]


def test_warn_severity_warns_and_succeeds(project: Project) -> None:
    result, record = run_check(
        project, "relationship", {"column": "user_id", "to_table": "users", "to_column": "user_id"},
        partition=DIRTY, severity="warn",
    )
    assert result is not None and result["status"] == "warned"
    assert record["status"] == "warned"
    assert record["severity"] == "warn"
    assert record["observed"] == 1
    assert ids(record["samples"]) == ["sp4"]


def test_check_that_cannot_run_is_recorded_as_error(project: Project) -> None:
    result, record = run_check(project, "expression", {"expression": "no_such_column > 0"}, partition=CLEAN)
    assert result is None
    assert record["status"] == "error"
    assert record["observed"] is None
    assert "no_such_column" in record["message"]


def test_sample_is_capped_at_ten_rows(project: Project) -> None:
    for i in range(15):
        project.query(
            "INSERT INTO songplays (songplay_id, partition_key, start_time, user_id, level)"
            " VALUES (%s, %s, '2018-11-02 05:00:00', %s, 'gold') RETURNING 1",
            (f"gold{i:02d}", DIRTY, f"g{i}"),
        )
    result, record = run_check(project, "accepted_values", {"column": "level", "values": ["free", "paid"]},
                               partition=DIRTY)
    assert_failed(result, record, 16)
    assert len(record["samples"]) == 10


# --------------------------------------------------------------------------- thresholds (warn_if / error_if)

OUTSIDE_DAY = {"sql": "quality/songplays_outside_partition.sql"}
WARN_ANY_ERROR_HALF = {"warn_if": {"count_gt": 0}, "error_if": {"share_gt": 0.5}}


def test_share_threshold_warns_on_a_few_and_fails_on_many(project: Project) -> None:
    # DIRTY: sp7 of its 4 songplays lies outside the day: share 0.25 -> warned, the task succeeds.
    result, record = run_check(project, "sql", {**OUTSIDE_DAY, **WARN_ANY_ERROR_HALF}, partition=DIRTY)
    assert result is not None and result["status"] == "warned" and result["rows_checked"] == 4
    assert (record["status"], record["observed"]) == ("warned", 1)
    assert record["threshold"] == "error_if failing_share>0.5; warn_if failing_rows>0"
    assert record["message"] == "failing share 0.250 = 1 of 4 rows checked"
    assert ids(record["samples"]) == ["sp7"]

    assert_passed(*run_check(project, "sql", {**OUTSIDE_DAY, **WARN_ANY_ERROR_HALF}, partition=CLEAN), observed=0)

    strict = {**OUTSIDE_DAY, "warn_if": {"count_gt": 0}, "error_if": {"share_gt": 0.2}}
    result, record = run_check(project, "sql", strict, partition=DIRTY)
    assert_failed(result, record, 1)
    assert record["threshold"] == "error_if failing_share>0.2; warn_if failing_rows>0"


def test_count_threshold_tolerates_up_to_n_failing_rows(project: Project) -> None:
    params = {"column": "level", "values": ["free", "paid"], "error_if": {"count_gt": 1}}
    result, record = run_check(project, "accepted_values", params, partition=DIRTY)  # 1 failing row
    assert result is not None and record["status"] == "passed"
    assert record["threshold"] == "error_if failing_rows>1" and record["message"] is None
    result, record = run_check(project, "accepted_values", {**params, "error_if": {"count_gt": 0}}, partition=DIRTY)
    assert_failed(result, record, 1)


def test_table_scoped_share_counts_the_whole_table(project: Project) -> None:
    params = {"column": "level", "values": ["free", "paid"], "error_if": {"share_gt": 0.1}}
    result, record = run_check(project, "accepted_values", params, partition=CLEAN, scope="table")
    assert_failed(result, record, 1)  # 1 of 7 rows: 0.143 > 0.1
    assert record["message"] == "failing share 0.143 = 1 of 7 rows checked"


def test_constraint_proof_still_decides_with_thresholds(project: Project) -> None:
    params = {"columns": ["songplay_id", "partition_key"], **WARN_ANY_ERROR_HALF}
    result, record = run_check(project, "not_null", params, partition=DIRTY)
    assert result is not None and record["status"] == "passed"
    assert record["threshold"] == "failing_rows=0 (enforced by NOT NULL constraints)"


def test_shipped_partition_day_checks_report_stray_events_and_stop_misfiled_files(project: Project) -> None:
    """The two shipped checks on events outside their file's day, with their config.json thresholds."""
    day = {CLEAN: 1541073600000, DIRTY: 1541160000000}  # noon UTC of each partition's day
    project.query("UPDATE staging_events SET ts = %s WHERE partition_key = %s RETURNING 1", (day[CLEAN], CLEAN))
    project.query("UPDATE staging_events SET ts = %s WHERE partition_key = %s RETURNING 1", (day[DIRTY], DIRTY))
    # CLEAN: 1 of 5 events is from the next day (a late event in its file) -> warned, loaded, reported.
    project.query(
        "UPDATE staging_events SET ts = %s WHERE partition_key = %s AND line_number = 1 RETURNING 1",
        (day[DIRTY], CLEAN),
    )
    # DIRTY: 2 of 3 events are from the day before -> more than half: a misfiled file -> failed.
    project.query(
        "UPDATE staging_events SET ts = %s WHERE partition_key = %s AND line_number <= 2 RETURNING 1",
        (day[CLEAN], DIRTY),
    )
    shipped = {kwargs["name"]: kwargs for kwargs in project.config.check_kwargs()}

    def run_shipped(name: str, partition: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        kwargs = shipped[name]
        return run_check(project, kwargs["check_type"], kwargs["check_params"], partition=partition,
                         table=kwargs["table"], scope=kwargs["scope"], severity=kwargs["severity"])

    result, record = run_shipped("staging_events_ts_in_partition", CLEAN)
    assert result is not None and record["status"] == "warned"
    assert record["message"] == "failing share 0.200 = 1 of 5 rows checked"
    assert [s["line_number"] for s in record["samples"]] == [1]
    result, record = run_shipped("staging_events_ts_in_partition", DIRTY)
    assert_failed(result, record, 2)
    assert record["message"] == "failing share 0.667 = 2 of 3 rows checked"

    result, record = run_shipped("songplays_in_partition_day", DIRTY)  # sp7: 1 of 4
    assert result is not None and record["status"] == "warned"
