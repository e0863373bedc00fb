#!/usr/bin/env python3
"""Wait for the `make demo` backfill and its asset-triggered transform runs; print a summary.

    python scripts/demo_summary.py --start 2018-11-01 --end 2018-11-30 [--timeout 2400] [--t0 EPOCH]
    python scripts/demo_summary.py --wait-backfill-idle [--timeout 600]

1. Waits until, for every partition key START..END, the newest ``backfill`` run of
   sparkify_staging is finished and, where it succeeded, the newest ``asset_triggered`` run of
   sparkify_transform for that key queued after that staging run started is finished too.
   Re-runs of `make demo` create new runs (``--reprocess-behavior completed``), so older runs of
   the same keys are ignored. Runs outside the range (e.g. the ``scheduled`` run for yesterday
   that the unpaused staging DAG creates and that waits for its file) do not count.
2. Prints runs per DAG and their states, rows per warehouse table, checks passed/failed,
   rejected lines, the UI URL and login, the (masked) warehouse URL and the wall time.
3. Exits 0 only if every staging and transform run of the range succeeded; 1 if any failed or is
   missing, 2 on timeout.

``--wait-backfill-idle`` waits until sparkify_staging has no backfill in progress (Airflow allows
one per DAG, and marks a finished one complete only every 30 s), so `make demo` can be re-run
right after (or while) a previous one ran.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

from sparkify_stack import airflow_api, runwatch
from sparkify_stack.runwatch import (  # shared with make backfill / make status
    DAG_IDS,
    FINISHED,
    ROLLUP_DAG,
    STAGING_DAG,
    TI_FAILED,
    TRANSFORM_DAG,
    Snapshot,
    make_say,
    partition_keys,
    poll,
    task_instances,
)
from sparkify_stack.runwatch import counts as _counts

say = make_say("demo")


# --- warehouse -----------------------------------------------------------------------------------


def warehouse_rows() -> tuple[list[tuple[str, int, str]], list[tuple[str, int]]]:
    """(table, rows, detail) for every pipeline table, and rejected lines per reason."""
    import psycopg
    from psycopg import sql

    from sparkify.config import load_config
    from sparkify.project import REJECTED_TABLE, all_tables

    config = load_config()
    schema = config.warehouse.schema
    fact = config.fact.name
    extra = {
        fact: ("count(*) filter (where song_id is not null)", "matched a song"),
        "users": ("count(*) filter (where level = 'paid')", "paid"),
    }
    rows: list[tuple[str, int, str]] = []
    reasons: list[tuple[str, int]] = []
    with psycopg.connect(os.environ["SPARKIFY_WAREHOUSE_URL"], connect_timeout=10) as conn:
        for table in all_tables(config):
            name = sql.Identifier(schema, table)
            exists = conn.execute("select to_regclass(%s) is not null", [f'"{schema}"."{table}"']).fetchone()[0]
            if not exists:
                rows.append((table, -1, "missing"))
                continue
            expr, label = extra.get(table, ("null", ""))
            count, more = conn.execute(sql.SQL("select count(*), {} from {}").format(sql.SQL(expr), name)).fetchone()
            rows.append((table, count, f"{more} {label}" if label else ""))
            if table == REJECTED_TABLE:
                reasons = conn.execute(
                    sql.SQL("select reason, count(*) from {} group by reason order by 2 desc, 1 limit 5").format(name)
                ).fetchall()
    return rows, reasons


# --- main ----------------------------------------------------------------------------------------


def wait_backfill_idle(timeout: float, interval: float) -> int:
    """Wait until no backfill of the staging DAG is in progress (completed_at unset)."""
    return runwatch.wait_backfill_idle(STAGING_DAG, timeout, interval, say)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default=os.environ.get("START", "2018-11-01"))
    parser.add_argument("--end", default=os.environ.get("END", "2018-11-30"))
    parser.add_argument("--timeout", type=float, default=40 * 60, help="seconds (default 2400)")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between progress lines")
    parser.add_argument("--t0", type=float, help="epoch seconds when `make demo` started (for the wall time)")
    parser.add_argument("--wait-backfill-idle", action="store_true")
    args = parser.parse_args(argv)

    if args.wait_backfill_idle:
        return wait_backfill_idle(args.timeout, 2.0)

    keys = partition_keys(args.start, args.end)
    snap, timed_out = poll(lambda: Snapshot(keys), timeout=args.timeout, interval=args.interval, say=say)
    return summary(snap, args, timed_out)


def summary(snap: Snapshot, args: argparse.Namespace, timed_out: bool) -> int:
    keys = snap.keys
    problems: list[str] = []
    print()
    print(f"=== Sparkify demo summary: partitions {args.start}..{args.end} ({len(keys)}) ===")
    print("Runs (newest per partition key):")
    for dag_id, label, runs in (
        (STAGING_DAG, "backfill", snap.staging),
        (TRANSFORM_DAG, "asset-triggered", snap.transform),
        (ROLLUP_DAG, "asset-triggered", snap.rollups),
    ):
        states = collections.Counter(r["state"] for r in runs.values())
        print(f"  {dag_id:<20} {len(runs):>4} {label} runs: {_counts(states)}")
    for key in keys:
        staging = snap.staging.get(key)
        transform = snap.transform.get(key)
        if staging is None:
            problems.append(f"{STAGING_DAG} {key}: no backfill run")
        elif staging["state"] != "success":
            problems.append(f"{STAGING_DAG} {key}: {staging['state']} ({staging['dag_run_id']})")
        elif transform is None:
            problems.append(f"{TRANSFORM_DAG} {key}: no asset-triggered run")
        elif transform["state"] != "success":
            problems.append(f"{TRANSFORM_DAG} {key}: {transform['state']} ({transform['dag_run_id']})")
    for month in snap.rollup_due():
        rollup = snap.rollups.get(month)
        if rollup is None:
            problems.append(f"{ROLLUP_DAG} {month}: no asset-triggered run after its last day")
        elif rollup["state"] != "success":
            problems.append(f"{ROLLUP_DAG} {month}: {rollup['state']} ({rollup['dag_run_id']})")
    for run in snap.others[:5]:
        print(
            f"  not counted: {run['dag_id']} {run['dag_run_id']} (partition {run.get('partition_key')}, "
            f"{run.get('run_type')}) {run['state']} - waiting, not a failure"
        )
    if len(snap.others) > 5:
        print(f"  not counted: {len(snap.others) - 5} more unfinished runs outside the range")

    # Checks and failed tasks.
    runs = snap.runs()
    try:
        checks = task_instances(runs, task_ids=["check"])
        failed_runs = [(d, r) for d, r in runs if r["state"] != "success"]
        failed_tis = task_instances(failed_runs, states=list(TI_FAILED))
    except (airflow_api.AirflowApiError, OSError) as exc:
        print(f"Checks: could not read task instances: {exc}")
        checks, failed_tis = [], []
        problems.append("checks unknown (REST error)")
    print("Checks (mapped task instances of task 'check'):")
    for dag_id in DAG_IDS:
        states = collections.Counter(ti["state"] or "none" for ti in checks if ti["dag_id"] == dag_id)
        passed = states.pop("success", 0)
        failed = sum(states.pop(s, 0) for s in TI_FAILED)
        rest = f", other: {_counts(states)}" if states else ""
        print(f"  {dag_id:<20} passed {passed}, failed {failed}{rest}")
    by_run = {(d, r["dag_run_id"]): r.get("partition_key") for d, r in runs}
    for ti in checks:
        if ti["state"] in TI_FAILED:
            name = ti.get("rendered_map_index") or f"map_index {ti['map_index']}"
            key = by_run.get((ti["dag_id"], ti["dag_run_id"]))
            print(f"    FAILED check {ti['dag_id']} {key} [{ti['map_index']}] {name}")
    for ti in failed_tis:
        if ti["task_id"] == "check":
            continue
        name = ti["task_id"] + (f"[{ti.get('rendered_map_index') or ti['map_index']}]" if ti["map_index"] >= 0 else "")
        problems.append(f"{ti['dag_id']} {by_run.get((ti['dag_id'], ti['dag_run_id']))}: task {name} {ti['state']}")

    # Warehouse.
    print("Warehouse rows:")
    rejected = None
    try:
        rows, reasons = warehouse_rows()
        for table, count, detail in rows:
            print(f"  {table:<16} {count:>10}" + (f"  ({detail})" if detail else ""))
            if table == "rejected_lines":
                rejected = count
        top = "; ".join(f"{reason} {n}" for reason, n in reasons)
        print(f"Rejected lines: {rejected}" + (f"  (top reasons: {top})" if top else ""))
    except Exception as exc:  # the summary must still print the rest
        print(f"  could not read the warehouse: {type(exc).__name__}: {exc}")
        problems.append("warehouse unreadable")

    url = os.environ.get("AIRFLOW__API__BASE_URL") or os.environ.get("SPARKIFY_AIRFLOW_URL") or airflow_api.base_url()
    print(f"Airflow UI:     {url}  (user {airflow_api.admin_user()}, password in {airflow_api.passwords_file()})")
    print(f"Warehouse:      {os.environ.get('SPARKIFY_WAREHOUSE_URL_MASKED', '?')}  (make psql)")
    if args.t0:
        wall = round(time.time() - args.t0)
        print(f"Wall time:      {wall} s ({wall // 60} min {wall % 60} s, whole make demo)")

    if timed_out:
        print(f"RESULT: TIMEOUT after {args.timeout:.0f} s - unfinished:")
        for key in keys:
            run = snap.staging.get(key)
            if run and run["state"] not in FINISHED:
                print(f"  {STAGING_DAG} {key} {run['state']} ({run['dag_run_id']})")
            elif run and run["state"] == "success" and snap.transform.get(key, {}).get("state") not in FINISHED:
                print(f"  {TRANSFORM_DAG} {key} {snap.transform.get(key, {}).get('state', 'not created')}")
        return 2
    if problems:
        print("RESULT: FAILED")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(
        f"RESULT: OK - {len(keys)} staging, {len(keys)} transform and {len(snap.rollups)} rollup run(s) succeeded"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
