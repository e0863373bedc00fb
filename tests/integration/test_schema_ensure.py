"""Each DAG ensures the tables it writes, and SQL errors that retrying cannot fix fail at once.

Tried as a new user: a dimension added to config.json, then only the transform re-run
(`make backfill DAG=transform`), failed with UndefinedTable, retried three times over minutes,
because only the staging DAG's ensure_schema created tables.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from sparkify.operators.load_dimension import LoadDimensionOperator
from sparkify.operators.stage_events import StageEventsOperator
from sparkify.project import ensure_tables, open_warehouse

DAY = "2018-11-01"


@pytest.fixture
def source(generator, tmp_path: Path) -> Path:
    out = tmp_path / "src"
    generator.generate(out, dt.date(2018, 11, 1), dt.date(2018, 11, 1), 20, 200, 20, 0.3, 9)
    return out


def without_time_dimension(document: dict) -> dict:
    """The shipped config minus the `time` dimension and every check that names it."""
    trimmed = json.loads(json.dumps(document))
    trimmed["dimensions"] = [d for d in trimmed["dimensions"] if d["name"] != "time"]
    trimmed["checks"] = [c for c in trimmed["checks"] if "time" not in (c["table"], c.get("to_table"))]
    return trimmed


def test_transform_creates_a_table_added_after_staging(make_project, source: Path) -> None:
    project = make_project(source)
    full = json.loads(project.config_path.read_text())
    project.config_path.write_text(json.dumps(without_time_dimension(full)))
    project.stage(DAY)  # the staging DAG ran before the table was declared
    assert project.scalar("SELECT to_regclass('time') IS NULL")

    project.config_path.write_text(json.dumps(full))  # the user adds the dimension back
    project.transform(DAY)  # load_fact ensures the new table; every check passes

    assert project.scalar("SELECT COUNT(*) FROM time") == project.scalar(
        "SELECT COUNT(DISTINCT start_time) FROM songplays"
    ) > 0


def test_staging_a_day_into_a_fresh_warehouse_needs_no_setup(make_project, source: Path) -> None:
    """The staging DAG has no setup task: stage_events alone creates the schema and its tables."""
    project = make_project(source)
    with psycopg.connect(project.url) as conn:
        assert conn.execute("SELECT to_regnamespace(%s) IS NULL", (project.schema,)).fetchone()[0]
    staged = StageEventsOperator(
        task_id="stage_events", partition_key=DAY, config_path=str(project.config_path)
    ).execute({})
    assert staged["rows_loaded"] > 0
    assert project.scalar("SELECT COUNT(*) FROM staging_events") == staged["rows_loaded"]
    assert project.scalar("SELECT to_regclass('songplays') IS NOT NULL")  # every declared table


def test_unchanged_ddl_is_not_rerun(make_project, source: Path) -> None:
    project = make_project(source)
    config = project.config
    warehouse = open_warehouse(config)
    assert ensure_tables(config, warehouse) is True  # fresh schema: DDL runs
    assert ensure_tables(config, warehouse) is False  # same declaration: one query, nothing run
    trimmed = without_time_dimension(json.loads(project.config_path.read_text()))
    project.config_path.write_text(json.dumps(trimmed))
    assert ensure_tables(project.config, warehouse) is True  # the declaration changed


def test_permanent_sql_error_fails_at_once_naming_the_model(make_project, source: Path) -> None:
    project = make_project(source)
    project.stage(DAY)
    project.transform(DAY, run_checks=False)
    with psycopg.connect(project.url, autocommit=True) as conn:
        conn.execute(f'ALTER TABLE "{project.schema}".users DROP COLUMN gender')
    users = next(d for d in project.config.dimension_kwargs() if d["name"] == "users")
    operator = LoadDimensionOperator(task_id="dim", partition_key=DAY, config_path=str(project.config_path), **users)
    with pytest.raises(AirflowFailException) as failure:
        operator.execute({})
    message = str(failure.value)
    assert "load of users from sql/marts/users.sql" in message
    assert "UndefinedColumn" in message and "retrying cannot fix this" in message


def test_a_run_that_waited_for_the_ddl_lock_does_not_apply_it_again(make_project, source: Path) -> None:
    """Runs that all found the digest stale apply the DDL once: the next holder of the lock sees the
    digest current and skips (a second CREATE INDEX pass while the first run's tasks already wrote
    the tables deadlocked with them). Statements that would fail prove they are not executed."""
    project = make_project(source)
    config = project.config
    warehouse = open_warehouse(config)
    assert ensure_tables(config, warehouse)
    digest = warehouse.schema_version()
    warehouse.ensure_schema(["SELECT 1 / 0"], digest)  # what a run that checked before the commit passes on
    with pytest.raises(psycopg.errors.DivisionByZero):
        warehouse.ensure_schema(["SELECT 1 / 0"], "sparkify-ddl:another")
    warehouse.close()
