#!/usr/bin/env python3
"""`make status`: per partition, what the warehouse holds and what Airflow did with it.

    python scripts/status.py [--start YYYY-MM-DD] [--end YYYY-MM-DD]

One line per partition key (every key that is staged, rejected, checked or has a run):
staged rows (staging_events), rejected lines (rejected_lines), fact rows, the newest staging
and transform run (state and run type, from the REST API) and the checks whose latest result
for that partition is failed or error (from dq_results). Then one line per month: days
published, the newest sparkify_rollups run, and the days a pending month still waits for
(sparkify.rollup_status). Works with Airflow down (runs show as '?'). Exit 0 when nothing
failed, 1 when a partition or month has a failed run or check.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sparkify.rollup_status import day_ranges, month_statuses
from sparkify_stack import airflow_api
from sparkify_stack.runwatch import ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG


def warehouse_status(start: str | None, end: str | None) -> dict[str, dict[str, Any]]:
    """partition key -> staged, rejected, fact rows and failed checks (latest result per check)."""
    import psycopg
    from psycopg import sql

    from sparkify.config import load_config
    from sparkify.project import REJECTED_TABLE, RESULTS_TABLE

    config = load_config()
    schema = config.warehouse.schema

    def table(name: str) -> sql.Composed:
        return sql.Identifier(schema, name)

    out: dict[str, dict[str, Any]] = {}

    def row(key: str) -> dict[str, Any]:
        return out.setdefault(key, {"staged": 0, "rejected": 0, "fact": 0, "failed_checks": []})

    window = sql.SQL("partition_key BETWEEN %(start)s AND %(end)s")
    params = {"start": start or "0000-00-00", "end": end or "9999-99-99"}
    with psycopg.connect(os.environ["SPARKIFY_WAREHOUSE_URL"], connect_timeout=10) as conn:

        def exists(name: str) -> bool:
            return conn.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}"."{name}"']).fetchone()[0]

        counts = (
            ("staged", config.staging.events_table, "partition_key"),
            ("rejected", REJECTED_TABLE, "partition_key"),
            ("fact", config.fact.name, config.fact.partition_column),
        )
        for label, name, column in counts:
            if not exists(name):
                continue
            query = sql.SQL("SELECT {col}, COUNT(*) FROM {t} WHERE {col} IS NOT NULL GROUP BY 1").format(
                col=sql.Identifier(column), t=table(name)
            )
            for key, n in conn.execute(query).fetchall():
                if params["start"] <= key <= params["end"]:
                    row(key)[label] = n
        if exists(RESULTS_TABLE):
            latest = sql.SQL(
                "SELECT partition_key, check_name, status FROM ("
                " SELECT partition_key, check_name, status, ROW_NUMBER() OVER ("
                "  PARTITION BY partition_key, check_name ORDER BY checked_at DESC) AS rn"
                " FROM {t} WHERE partition_key IS NOT NULL AND {window}) latest"
                " WHERE rn = 1 AND status IN ('failed', 'error') ORDER BY 1, 2"
            ).format(t=table(RESULTS_TABLE), window=window)
            for key, check, status in conn.execute(latest, params).fetchall():
                row(key)["failed_checks"].append(check if status == "failed" else f"{check} (error)")
    return out


def newest_runs(dag_id: str) -> dict[str, dict[str, Any]]:
    """partition key -> the newest run of dag_id for it (any run type)."""
    return {r["partition_key"]: r for r in airflow_api.list_dag_runs(dag_id) if r.get("partition_key")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=os.environ.get("START") or None)
    parser.add_argument("--end", default=os.environ.get("END") or None)
    args = parser.parse_args(argv)

    parts = warehouse_status(args.start, args.end)
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        runs = {dag: newest_runs(dag) for dag in (STAGING_DAG, TRANSFORM_DAG, ROLLUP_DAG)}
    except (airflow_api.AirflowApiError, OSError) as exc:
        print(f"(Airflow REST API not reachable: {exc}; run states shown as ?)", file=sys.stderr)
    lo, hi = args.start or "0000-00-00", args.end or "9999-99-99"
    months = {key: parts.pop(key) for key in [k for k in parts if len(k) == len("YYYY-MM")]}  # rollup checks
    for dag in (STAGING_DAG, TRANSFORM_DAG):
        for key in runs.get(dag, {}):
            if lo <= key <= hi:
                parts.setdefault(key, {"staged": 0, "rejected": 0, "fact": 0, "failed_checks": []})

    def run_cell(dag: str, key: str) -> str:
        if not runs:
            return "?"
        run = runs[dag].get(key)
        return f"{run['state']} ({run.get('run_type')})" if run else "-"

    header = (
        f"{'partition':<11} {'staged':>8} {'rejected':>8} {'songplays':>9}  "
        f"{'staging run':<24} {'transform run':<28} failed checks"
    )
    print(header)
    print("-" * len(header))
    bad = 0
    for key in sorted(parts):
        p = parts[key]
        staging, transform = run_cell(STAGING_DAG, key), run_cell(TRANSFORM_DAG, key)
        failed = ", ".join(p["failed_checks"]) or "-"
        bad += bool(p["failed_checks"]) or staging.startswith("failed") or transform.startswith("failed")
        print(f"{key:<11} {p['staged']:>8} {p['rejected']:>8} {p['fact']:>9}  {staging:<24} {transform:<28} {failed}")
    print(f"{len(parts)} partition(s); {bad} with a failed run or check")
    if runs:
        bad += print_months(runs[TRANSFORM_DAG], runs[ROLLUP_DAG], months, lo[:7], hi[:7])
    return 1 if bad else 0


def print_months(
    transform: dict[str, dict[str, Any]],
    rollups: dict[str, dict[str, Any]],
    checks: dict[str, dict[str, Any]],
    lo: str,
    hi: str,
) -> int:
    """The month table (sparkify_rollups); returns how many months have a failed run or check."""
    statuses = [s for s in month_statuses(transform, rollups) if lo <= s.month <= hi]
    if not statuses:
        return 0
    header = f"\n{'month':<8} {'days':>9}  {'rollup run':<28} waiting for / failed checks"
    print(header)
    print("-" * len(header.strip()))
    bad = 0
    for status in statuses:
        failed = checks.get(status.month, {}).get("failed_checks", [])
        waiting = f"{len(status.waiting_for)} day(s): {day_ranges(status.waiting_for)}" if status.waiting_for else ""
        note = ", ".join(filter(None, [waiting, *failed])) or "-"
        bad += status.failed or bool(failed)
        print(f"{status.month:<8} {status.published:>4}/{status.days:<4}  {status.rollup:<28} {note}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
