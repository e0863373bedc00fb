"""unique / not_null checks that an enforced constraint already decides, against real PostgreSQL.

A whole-table unique or not_null check scans a table that grows every day; a primary key or NOT
NULL constraint guarantees the same answer from the catalog. These tests pin both halves: a proven
check reads no row of its table (it finishes while another session holds the table ACCESS
EXCLUSIVE), and anything short of a real guarantee (nullable unique key, partial index, a column
without NOT NULL) still runs the scan and still fails on bad rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.integration.conftest import Project
from tests.integration.test_quality_checks import CLEAN, assert_failed, assert_passed, project, run_check

__all__ = ["project"]  # the fixture, imported for these tests


@contextmanager
def table_locked(project: Project, table: str) -> Iterator[None]:
    """Hold ACCESS EXCLUSIVE on the table: any query reading it waits until the block ends."""
    with psycopg.connect(project.url) as conn:
        conn.execute(f'LOCK TABLE "{project.schema}"."{table}" IN ACCESS EXCLUSIVE MODE')
        yield
        conn.rollback()


def execute(project: Project, *statements: str) -> None:
    """Run DDL/DML in the project's schema (Project.query expects rows back)."""
    with psycopg.connect(project.url) as conn:
        conn.execute(f'SET search_path TO "{project.schema}"')
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def bounded_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that does read a locked table errors after 3 s instead of hanging the suite."""
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=3000")


def test_unique_on_primary_key_is_proven_without_reading_the_table(project: Project, bounded_lock_wait: None) -> None:
    with table_locked(project, "users"):
        result, record = run_check(project, "unique", {"columns": ["user_id"]}, partition=CLEAN, table="users",
                                   scope="table")
        # a superset of a unique key is unique too
        wider = run_check(project, "unique", {"columns": ["user_id", "level"]}, partition=CLEAN, table="users",
                          scope="table")
    assert_passed(result, record, observed=0)
    assert record["threshold"].startswith("failing_rows=0 (enforced by unique index ")
    assert "users_pkey" in record["threshold"]
    assert_passed(*wider, observed=0)


def test_partition_key_completes_a_composite_key_for_partition_scoped_checks(
    project: Project, bounded_lock_wait: None
) -> None:
    # songplays' key is (partition_key, songplay_id): within one partition songplay_id is unique ...
    with table_locked(project, "songplays"):
        result, record = run_check(project, "unique", {"columns": ["songplay_id"]}, partition=CLEAN)
    assert_passed(result, record, observed=0)
    assert "songplays_pkey" in record["threshold"]
    # ... across the whole table the index proves nothing, so the check scans (and waits here).
    with table_locked(project, "songplays"):
        result, record = run_check(project, "unique", {"columns": ["songplay_id"]}, partition=CLEAN, scope="table")
    assert result is None and record["status"] == "error" and "lock timeout" in record["message"]
    result, record = run_check(project, "unique", {"columns": ["songplay_id"]}, partition=CLEAN, scope="table")
    assert_passed(result, record, observed=0)
    assert "enforced" not in record["threshold"]


def test_not_null_on_not_null_columns_is_proven_without_reading_the_table(
    project: Project, bounded_lock_wait: None
) -> None:
    params = {"columns": ["songplay_id", "start_time", "user_id"]}
    with table_locked(project, "songplays"):
        result, record = run_check(project, "not_null", params, partition=CLEAN, scope="table")
    assert_passed(result, record, observed=0)
    assert record["threshold"] == "failing_rows=0 (enforced by NOT NULL constraints)"


def test_unproven_check_does_read_the_table(project: Project, bounded_lock_wait: None) -> None:
    """The control for the two tests above: level is nullable, so the check must scan (and wait)."""
    with table_locked(project, "songplays"):
        result, record = run_check(project, "not_null", {"columns": ["songplay_id", "level"]}, partition=CLEAN)
    assert result is None
    assert record["status"] == "error"
    assert "lock timeout" in record["message"]


def test_unique_index_on_a_nullable_column_is_no_proof(project: Project) -> None:
    # A unique index lets NULLs repeat; the unique check counts repeated NULLs as duplicates.
    execute(
        project,
        "CREATE TABLE nullable_key (k INTEGER UNIQUE, note TEXT)",
        "INSERT INTO nullable_key VALUES (1, 'a'), (NULL, 'b'), (NULL, 'c')",
    )
    result, record = run_check(project, "unique", {"columns": ["k"]}, partition=CLEAN, table="nullable_key",
                               scope="table")
    assert_failed(result, record, 1)
    assert record["samples"] == [{"k": None, "occurrences": 2}]
    assert "enforced" not in record["threshold"]


def test_partial_unique_index_is_no_proof(project: Project) -> None:
    execute(
        project,
        "CREATE TABLE partial_key (k INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX partial_key_positive ON partial_key (k) WHERE k > 0",
        "INSERT INTO partial_key VALUES (1), (-1), (-1)",
    )
    result, record = run_check(project, "unique", {"columns": ["k"]}, partition=CLEAN, table="partial_key",
                               scope="table")
    assert_failed(result, record, 1)
    assert "enforced" not in record["threshold"]


def test_dropped_constraint_brings_the_scan_back(project: Project) -> None:
    execute(project, "CREATE TABLE was_keyed (k INTEGER PRIMARY KEY)", "INSERT INTO was_keyed VALUES (1), (2)")
    result, record = run_check(project, "unique", {"columns": ["k"]}, partition=CLEAN, table="was_keyed",
                               scope="table")
    assert "enforced by unique index" in record["threshold"]
    execute(project, "ALTER TABLE was_keyed DROP CONSTRAINT was_keyed_pkey", "INSERT INTO was_keyed VALUES (2)")
    result, record = run_check(project, "unique", {"columns": ["k"]}, partition=CLEAN, table="was_keyed",
                               scope="table")
    assert_failed(result, record, 1)
