#!/usr/bin/env python3
"""`make status`: per partition, what the warehouse holds and what Airflow did with it.

    python scripts/status.py [--start YYYY-MM-DD|YYYY-MM] [--end YYYY-MM-DD|YYYY-MM]

One line per partition (every day that is staged, rejected, checked or has a run): staged rows
(staging_events), rejected lines (rejected_lines), fact rows, the newest staging and transform
run (state and run type, from the REST API) and the checks whose latest result for that
partition is failed or error, then those that warned (dq_results). Then one line per month: days
published, the newest sparkify_rollups run, and the days a pending month still waits for. Then
the runs whose Partition Key is not a key of their DAG (a typo in a manual run), with their run
ids: they touched no partition, so they are neither rows nor failures.

Works with Airflow down (runs show as '?'). Exit 0 when nothing failed, 1 when a partition or
month has a failed run or check. The reading (sparkify.status_warehouse, through the warehouse
connection) and the report (sparkify.status_report) are the ones the health page in the Airflow
UI uses (sparkify.health_app); this script only adds the REST reading of runs and the text.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from sparkify.dag_ids import PARTITION_DAGS
from sparkify.partition_status import InvalidKeyRun, PartitionCounts, PartitionRow, run_cell, window
from sparkify.rollup_status import day_ranges
from sparkify.status_report import MonthRow, StatusReport, build_report
from sparkify_stack import airflow_api

# --- reading (warehouse, REST API) ----------------------------------------------------------------


def read_warehouse(start: str | None, end: str | None) -> dict[str, PartitionCounts]:
    """key -> counts and checks that did not pass, through the configured warehouse connection."""
    from sparkify.config import load_config
    from sparkify.status_warehouse import read_counts
    from sparkify.warehouse import warehouse_for

    config = load_config()
    warehouse = warehouse_for(config.warehouse)
    try:
        return read_counts(warehouse, config, start, end)
    finally:
        warehouse.close()


def read_runs() -> dict[str, list[dict[str, Any]]] | None:
    """dag_id -> every run of it (oldest first), or None when the REST API cannot be reached."""
    try:
        return {dag_id: airflow_api.list_dag_runs(dag_id) for dag_id in PARTITION_DAGS}
    except (airflow_api.AirflowApiError, OSError) as exc:
        print(f"(Airflow REST API not reachable: {exc}; run states shown as ?)", file=sys.stderr)
        return None


# --- rendering (pure) -----------------------------------------------------------------------------


def checks_cell(counts: PartitionCounts) -> str:
    """'users_key_unique; warned: songplays_fresh', or '-' when every check passed."""
    parts = [", ".join(counts.failed_checks)] if counts.failed_checks else []
    if counts.warned_checks:
        parts.append("warned: " + ", ".join(counts.warned_checks))
    return "; ".join(parts) or "-"


def partition_lines(rows: Sequence[PartitionRow], runs_known: bool) -> list[str]:
    """The partition table, its summary line last."""
    header = (
        f"{'partition':<11} {'staged':>8} {'rejected':>8} {'songplays':>9}  "
        f"{'staging run':<24} {'transform run':<28} checks failed; warned"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        staging = run_cell(row.staging_run) if runs_known else "?"
        transform = run_cell(row.transform_run) if runs_known else "?"
        c = row.counts
        lines.append(
            f"{row.key:<11} {c.staged:>8} {c.rejected:>8} {c.fact:>9}  {staging:<24} {transform:<28} {checks_cell(c)}"
        )
    lines.append(f"{len(rows)} partition(s); {sum(row.failed for row in rows)} with a failed run or check")
    return lines


def month_lines(months: Sequence[MonthRow]) -> list[str]:
    """The month table (sparkify_rollups); none: no lines."""
    if not months:
        return []
    header = f"{'month':<8} {'days':>9}  {'rollup run':<28} waiting for / checks failed; warned"
    lines = ["", header, "-" * len(header)]
    for month in months:
        status = month.status
        waiting = f"{len(status.waiting_for)} day(s): {day_ranges(status.waiting_for)}" if status.waiting_for else ""
        checks = checks_cell(month.counts)
        note = ", ".join(filter(None, [waiting, checks if checks != "-" else ""])) or "-"
        lines.append(f"{status.month:<8} {status.published:>4}/{status.days:<4}  {status.rollup:<28} {note}")
    return lines


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


def text_lines(report: StatusReport) -> list[str]:
    """Everything `make status` prints for a report."""
    tables = partition_lines(report.days, report.runs_known) + month_lines(report.months)
    return tables + invalid_key_lines(report.invalid)


def report(
    counts: dict[str, PartitionCounts], runs: dict[str, Any] | None, start: str | None, end: str | None
) -> tuple[list[str], int]:
    """The lines `make status` prints and its exit code: 1 when a partition or month failed."""
    built = build_report(counts, runs, start, end)
    return text_lines(built), built.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=os.environ.get("START") or None, help="a day or a month")
    parser.add_argument("--end", default=os.environ.get("END") or None, help="a day or a month")
    args = parser.parse_args(argv)
    try:
        start, end = window(args.start, args.end)
    except ValueError as exc:
        parser.error(str(exc))
    lines, code = report(read_warehouse(start, end), read_runs(), start, end)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
