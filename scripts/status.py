#!/usr/bin/env python3
"""`make status`: per partition, what the warehouse holds and what Airflow did with it.

    python scripts/status.py [--start YYYY-MM-DD] [--end YYYY-MM-DD]

One line per partition (every day that is staged, rejected, checked or has a run): staged rows
(staging_events), rejected lines (rejected_lines), fact rows, the newest staging and transform
run (state and run type, from the REST API) and the checks whose latest result for that
partition is failed or error (dq_results). Then one line per month: days published, the newest
sparkify_rollups run, and the days a pending month still waits for (sparkify.rollup_status).
Then the runs whose Partition Key is not a key of their DAG (a typo in a manual run), with
their run ids: they touched no partition, so they are neither rows nor failures.

Works with Airflow down (runs show as '?'). Exit 0 when nothing failed, 1 when a partition or
month has a failed run or check. The rows come from sql/status/ and the REST API; the tables
are built by sparkify.partition_status and rendered by the pure functions below.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from sparkify.partition_status import (
    InvalidKeyRun,
    PartitionCounts,
    PartitionRow,
    counts_by_key,
    in_window,
    invalid_key_runs,
    month_checks,
    newest_by_key,
    partition_rows,
    run_cell,
)
from sparkify.rollup_status import day_ranges, month_statuses
from sparkify_stack import airflow_api
from sparkify_stack.runwatch import DAG_IDS, ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG

Runs = Mapping[str, Sequence[Mapping[str, Any]]]


# --- reading (warehouse, REST API) ----------------------------------------------------------------


def read_warehouse(start: str | None, end: str | None) -> dict[str, PartitionCounts]:
    """key -> counts and failing checks, from the sql/status/ statements (tables not created yet count 0)."""
    import psycopg

    from sparkify.config import load_config
    from sparkify.project import REJECTED_TABLE, RESULTS_TABLE
    from sparkify.sqlfiles import qualified, quote_ident, render

    config = load_config()
    schema = config.warehouse.schema
    # Month keys sort before their days: from the start's month, so its rollup checks are read too.
    params = {"start": (start or "0000")[:7], "end": end or "9999"}
    counted = {
        "staged": (config.staging.events_table, "partition_key"),
        "rejected": (REJECTED_TABLE, "partition_key"),
        "fact": (config.fact.name, config.fact.partition_column),
    }
    rows: dict[str, Any] = {}
    with psycopg.connect(os.environ["SPARKIFY_WAREHOUSE_URL"], connect_timeout=10) as conn:

        def exists(table: str) -> bool:
            found = conn.execute(render("catalog/table_exists.sql"), {"schema": schema, "table": table}).fetchone()
            return bool(found and found[0])

        for label, (table, column) in counted.items():
            if exists(table):
                this, partition_column = qualified(schema, table), quote_ident(column)
                sql = render("status/key_counts.sql", this=this, partition_column=partition_column)
                rows[label] = conn.execute(sql, params).fetchall()
        if exists(RESULTS_TABLE):
            sql = render("status/failed_checks.sql", dq_results=qualified(schema, RESULTS_TABLE))
            rows["failed_checks"] = conn.execute(sql, params).fetchall()
    return counts_by_key(**rows)


def read_runs() -> dict[str, list[dict[str, Any]]] | None:
    """dag_id -> every run of it (oldest first), or None when the REST API cannot be reached."""
    try:
        return {dag_id: airflow_api.list_dag_runs(dag_id) for dag_id in DAG_IDS}
    except (airflow_api.AirflowApiError, OSError) as exc:
        print(f"(Airflow REST API not reachable: {exc}; run states shown as ?)", file=sys.stderr)
        return None


# --- rendering (pure) -----------------------------------------------------------------------------


def partition_lines(rows: Sequence[PartitionRow], runs_known: bool) -> list[str]:
    """The partition table, its summary line last."""
    header = (
        f"{'partition':<11} {'staged':>8} {'rejected':>8} {'songplays':>9}  "
        f"{'staging run':<24} {'transform run':<28} failed checks"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        staging = run_cell(row.staging_run) if runs_known else "?"
        transform = run_cell(row.transform_run) if runs_known else "?"
        c = row.counts
        failed = ", ".join(c.failed_checks) or "-"
        lines.append(f"{row.key:<11} {c.staged:>8} {c.rejected:>8} {c.fact:>9}  {staging:<24} {transform:<28} {failed}")
    lines.append(f"{len(rows)} partition(s); {sum(row.failed for row in rows)} with a failed run or check")
    return lines


def month_lines(
    runs: Runs, checks: Mapping[str, Sequence[str]], start: str | None, end: str | None
) -> tuple[list[str], int]:
    """The month table (sparkify_rollups) and how many months have a failed run or check."""
    statuses = month_statuses(newest_by_key(runs[TRANSFORM_DAG]), newest_by_key(runs[ROLLUP_DAG]))
    statuses = [s for s in statuses if in_window(s.month, start, end)]
    if not statuses:
        return [], 0
    header = f"{'month':<8} {'days':>9}  {'rollup run':<28} waiting for / failed checks"
    lines = ["", header, "-" * len(header)]
    bad = 0
    for status in statuses:
        failed = list(checks.get(status.month, ()))
        waiting = f"{len(status.waiting_for)} day(s): {day_ranges(status.waiting_for)}" if status.waiting_for else ""
        note = ", ".join(filter(None, [waiting, *failed])) or "-"
        bad += status.failed or bool(failed)
        lines.append(f"{status.month:<8} {status.published:>4}/{status.days:<4}  {status.rollup:<28} {note}")
    return lines, bad


def invalid_key_lines(invalid: Sequence[InvalidKeyRun]) -> list[str]:
    """The runs with invalid keys, apart from the tables (none: no lines)."""
    if not invalid:
        return []
    note = "not partitions: they changed nothing and do not set the exit code"
    lines = ["", f"{len(invalid)} run(s) with invalid keys ({note}):"]
    for run in invalid:
        key = repr(run.partition_key) if run.partition_key is not None else "(no key)"
        lines.append(f"  {run.dag_id:<20} {key:<14} {run.state:<8} {run.run_type:<8} {run.run_id}")
    return lines


def report(
    counts: Mapping[str, PartitionCounts], runs: Runs | None, start: str | None, end: str | None
) -> tuple[list[str], int]:
    """Everything `make status` prints, and its exit code: 1 when a partition or month failed.

    runs is None when Airflow cannot be reached: run cells show '?', and the month table and
    the invalid-key runs (both built from runs) are left out.
    """
    known = runs is not None
    runs = runs or {dag_id: [] for dag_id in DAG_IDS}
    rows = partition_rows(counts, runs[STAGING_DAG], runs[TRANSFORM_DAG], start, end)
    lines = partition_lines(rows, known)
    bad = sum(row.failed for row in rows)
    if known:
        months, bad_months = month_lines(runs, month_checks(counts), start, end)
        lines += months + invalid_key_lines(invalid_key_runs(runs, month_dags=[ROLLUP_DAG]))
        bad += bad_months
    return lines, 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=os.environ.get("START") or None)
    parser.add_argument("--end", default=os.environ.get("END") or None)
    args = parser.parse_args(argv)
    lines, code = report(read_warehouse(args.start, args.end), read_runs(), args.start, args.end)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
