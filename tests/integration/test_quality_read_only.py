"""Checks can only read: hostile check SQL is refused by the real PostgreSQL and changes nothing.

A check's SQL comes from config.json (``expression``) and sql/ files (``sql``). Each case below is
a check that tries to change the warehouse or hold it: a write hidden in a function, a statement
stacked after the check's own (``…; DROP TABLE …; SELECT …``), an INSERT in a stacked CTE (a
data-modifying WITH must be a statement of its own), and a query that sleeps past
``quality.statement_timeout_seconds``. Each must end as status ``error`` in dq_results with the
reason, raise AirflowFailException, and leave the victim table as it was.
Whole-table scope on purpose: a query without bind values is the one psycopg would otherwise send
by the simple-query protocol, which runs every ';'-separated statement.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.operators.check import DataQualityCheckOperator
from sparkify.operators.ensure_schema import EnsureSchemaOperator
from tests.integration.conftest import Project

TIMEOUT_SECONDS = 1


@pytest.fixture
def project(make_project, tmp_path: Path) -> Project:
    """A schema with three songplays, a victim table of two rows and a 1 s check timeout."""
    project = make_project(tmp_path / "no-source-needed")
    document = json.loads(project.config_path.read_text())
    document["quality"] = {"statement_timeout_seconds": TIMEOUT_SECONDS}
    project.config_path.write_text(json.dumps(document))
    EnsureSchemaOperator(task_id="ensure_schema", config_path=str(project.config_path)).execute({})
    for i in range(3):
        project.query(
            "INSERT INTO songplays (songplay_id, partition_key, start_time, user_id, level)"
            " VALUES (%s, '2018-11-01', '2018-11-01 10:00:00', 'u1', 'free') RETURNING 1",
            (f"sp{i}",),
        )
    with psycopg.connect(project.url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{project.schema}"')
        conn.execute("CREATE TABLE victim (n INTEGER)")
        conn.execute("INSERT INTO victim VALUES (1), (2)")
        # Functions that write: a check calling them must be stopped by the read-only transaction.
        for name, body in (("drop_victim", "DROP TABLE victim"), ("grow_victim", "INSERT INTO victim VALUES (3)")):
            conn.execute(
                f"CREATE FUNCTION {name}() RETURNS BOOLEAN LANGUAGE plpgsql"
                f' SET search_path = "{project.schema}" AS $$ BEGIN {body}; RETURN TRUE; END $$'
            )
    return project


def run_check(project: Project, check_type: str, params: dict[str, Any]) -> tuple[dict[str, Any] | str, dict]:
    """Execute one whole-table check on songplays; (result or the AirflowFailException's text, its dq_results row)."""
    name = f"hostile_{len(project.query('SELECT 1 FROM dq_results'))}"
    operator = DataQualityCheckOperator(
        task_id="check", name=name, table="songplays", check_type=check_type, scope="table",
        check_params=params, partition_key="2018-11-01", config_path=str(project.config_path),
    )
    try:
        result = operator.execute({"dag_id": "dq_test", "run_id": "run"})
    except AirflowFailException as exc:
        result = str(exc)
    (row,) = project.query("SELECT row_to_json(r)::text FROM dq_results r WHERE check_name = %s", (name,))
    return result, json.loads(row[0])


def victim_rows(project: Project) -> list[int]:
    """The victim's rows (the query fails if the table was dropped)."""
    return [n for (n,) in project.query(f'SELECT n FROM "{project.schema}".victim ORDER BY n')]


def assert_refused(result: dict | str, record: dict, reason: str) -> None:
    assert isinstance(result, str), "a refused check must raise AirflowFailException"
    assert result.startswith(f"check {record['check_name']} could not run: QueryRefused: query refused: {reason}")
    assert record["status"] == "error"
    assert record["observed"] is None
    assert "QueryRefused: query refused: " + reason in record["message"], record["message"]


def test_a_write_hidden_in_a_function_is_refused(project: Project) -> None:
    result, record = run_check(project, "expression", {"expression": f'"{project.schema}".drop_victim()'})
    assert_refused(result, record, "it tried to write, and a check may only read")
    assert "cannot execute DROP TABLE in a read-only transaction" in record["message"]
    assert victim_rows(project) == [1, 2]

    result, record = run_check(project, "expression", {"expression": f'"{project.schema}".grow_victim()'})
    assert_refused(result, record, "it tried to write")
    assert victim_rows(project) == [1, 2]


def test_a_stacked_drop_table_is_refused(project: Project) -> None:
    # WHERE NOT COALESCE((TRUE)); DROP TABLE …; SELECT ((TRUE), FALSE): three statements.
    expression = f'TRUE)); DROP TABLE "{project.schema}".victim; SELECT ((TRUE'
    result, record = run_check(project, "expression", {"expression": expression})
    assert_refused(result, record, "it holds more than one SQL statement")
    assert victim_rows(project) == [1, 2]


def test_a_stacked_insert_in_a_cte_is_refused(project: Project) -> None:
    victim = f'"{project.schema}".victim'
    expression = f"TRUE)); WITH added AS (INSERT INTO {victim} VALUES (9) RETURNING 1) SELECT ((TRUE"
    result, record = run_check(project, "expression", {"expression": expression})
    assert_refused(result, record, "it holds more than one SQL statement")
    assert victim_rows(project) == [1, 2]


def test_a_query_past_the_statement_timeout_is_stopped(project: Project) -> None:
    started = time.monotonic()
    result, record = run_check(project, "expression", {"expression": "(SELECT pg_sleep(10)) IS NOT NULL"})
    took = time.monotonic() - started
    assert_refused(result, record, f"it ran past the statement timeout of {TIMEOUT_SECONDS} s")
    assert took < 8, f"the check took {took:.1f} s: the timeout did not stop it"


def test_read_only_checks_still_measure_and_sample(project: Project) -> None:
    """The guard changes nothing for an honest check: counts, samples and the percent escape work."""
    result, record = run_check(project, "expression", {"expression": "songplay_id NOT LIKE 'sp1%'"})
    assert isinstance(result, str) and record["status"] == "failed"
    assert record["observed"] == 1
    assert [row["songplay_id"].rstrip() for row in json.loads(record["sample_rows"])] == ["sp1"]
    result, record = run_check(project, "not_null", {"columns": ["level"]})
    assert isinstance(result, dict) and record["status"] == "passed"
