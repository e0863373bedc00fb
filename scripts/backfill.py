#!/usr/bin/env python3
"""Per-DAG backfills of the Sparkify pipeline, with live progress (`make backfill`).

    python scripts/backfill.py staging   START END [--max-active-runs 4] [--timeout 2400]
    python scripts/backfill.py transform START END [--mode trigger|clear] [--timeout 2400]
    python scripts/backfill.py rollups   YYYY-MM YYYY-MM [--mode trigger|clear] [--timeout 2400]

staging    `airflow backfill create` on sparkify_staging over START..END with
           ``--reprocess-behavior completed``: every partition is re-staged (delete + COPY) and
           emits its asset events, so sparkify_transform follows with one asset-triggered run
           per key. Waits for both and names failures.
transform  re-derives the marts from partitions that are already staged; no COPY, the staging
           DAG does not run. ``airflow backfill create`` refuses asset-scheduled DAGs, so:
           ``--mode trigger`` (default) POSTs one manual run per key to
           /api/v2/dags/sparkify_transform/dagRuns with ``{"logical_date": null, "partition_key": K}``;
           ``--mode clear`` re-runs the newest existing run of each key
           (``airflow dags clear sparkify_transform --partition-key K -y``).
rollups    rolls months up now, complete or not (a partial month on purpose): one manual
           sparkify_rollups run per month START..END (keys YYYY-MM), or ``--mode clear``.

Progress goes to stderr every ``--interval`` seconds (partitions done/total, run states, failed
partitions with their failed tasks); a per-partition table goes to stdout at the end.
Exit 0 when every run succeeded, 1 when any failed, 2 on timeout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from sparkify_stack import airflow_api, runwatch
from sparkify_stack.runwatch import (
    ROLLUP_DAG,
    STAGING_DAG,
    TRANSFORM_DAG,
    Snapshot,
    TriggeredRuns,
    month_keys,
    partition_keys,
)

say = runwatch.make_say("backfill")


def backfill_staging(keys: list[str], args: argparse.Namespace) -> tuple[Any, bool]:
    """Create the staging backfill and wait for it and the asset-triggered transform runs."""
    if runwatch.wait_backfill_idle(STAGING_DAG, args.timeout, 2.0, say):
        raise SystemExit(2)
    say(f"airflow backfill create {STAGING_DAG} {keys[0]}..{keys[-1]} ({len(keys)} partitions)")
    cmd = [
        "airflow", "backfill", "create", "--dag-id", STAGING_DAG, "--from-date", keys[0], "--to-date", keys[-1],
        "--max-active-runs", str(args.max_active_runs), "--reprocess-behavior", "completed",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        say(f"airflow backfill create failed:\n{done.stdout}\n{done.stderr}")
        raise SystemExit(1)
    every = runwatch.poll_period(len(keys))
    return runwatch.poll(lambda: Snapshot(keys), timeout=args.timeout, interval=args.interval, say=say, every=every)


def backfill_triggered(dag_id: str, keys: list[str], args: argparse.Namespace) -> tuple[Any, bool]:
    """Re-run dag_id (transform, rollups) for keys: new manual runs, or clear the existing ones."""
    run_ids: dict[str, str] = {}
    if args.mode == "trigger":
        for key in keys:
            run = airflow_api.trigger_partition(dag_id, key)
            run_ids[key] = run["dag_run_id"]
            say(f"triggered {dag_id} partition {key}: {run['dag_run_id']}")
    else:
        newest = {r.get("partition_key"): r for r in airflow_api.list_dag_runs(dag_id)}
        missing = [k for k in keys if k not in newest]
        if missing:
            say(f"no existing {dag_id} run to clear for {', '.join(missing)}: use --mode trigger")
            raise SystemExit(1)
        for key in keys:
            cmd = ["airflow", "dags", "clear", dag_id, "--partition-key", key, "-y"]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0:
                say(f"airflow dags clear failed for {key}:\n{done.stdout}\n{done.stderr}")
                raise SystemExit(1)
            run_ids[key] = newest[key]["dag_run_id"]
            say(f"cleared {dag_id} partition {key}: {run_ids[key]}")
    take: Callable[[], TriggeredRuns] = lambda: TriggeredRuns(dag_id, run_ids)  # noqa: E731
    every = runwatch.poll_period(len(keys))
    return runwatch.poll(take, timeout=args.timeout, interval=args.interval, say=say, every=every)


def report(snap: Any, keys: list[str], timed_out: bool) -> int:
    """Per-partition table (stdout) and the exit code."""
    failed_names = runwatch.failed_tasks(snap.failed()) if snap.failed() else {}
    print(f"{'partition':<12} {'dag':<20} {'run_type':<16} {'state':<10} failed tasks")
    problems = 0
    for key in keys:
        rows: list[tuple[str, dict[str, Any] | None]]
        if isinstance(snap, Snapshot):
            rows = [(STAGING_DAG, snap.staging.get(key)), (TRANSFORM_DAG, snap.transform.get(key))]
        else:
            rows = [(snap.dag_id, snap.by_key.get(key))]
        for dag_id, run in rows:
            if run is None:
                print(f"{key:<12} {dag_id:<20} {'-':<16} {'missing':<10}")
                problems += 1
                continue
            names = ", ".join(failed_names.get((dag_id, run["dag_run_id"]), []))
            print(f"{key:<12} {dag_id:<20} {run.get('run_type', '?'):<16} {run['state']:<10} {names}")
            problems += run["state"] != "success"
    if timed_out:
        print("RESULT: TIMEOUT")
        return 2
    print("RESULT: OK" if not problems else f"RESULT: FAILED ({problems} run(s) not successful)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dag", choices=["staging", "transform", "rollups"])
    parser.add_argument("start")
    parser.add_argument("end")
    parser.add_argument("--mode", choices=["trigger", "clear"], default="trigger", help="transform and rollups")
    parser.add_argument("--max-active-runs", type=int, default=4, help="staging only")
    parser.add_argument("--timeout", type=float, default=2400.0)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between progress lines")
    args = parser.parse_args(argv)
    keys = month_keys(args.start, args.end) if args.dag == "rollups" else partition_keys(args.start, args.end)
    try:
        for dag_id in (ROLLUP_DAG, TRANSFORM_DAG, STAGING_DAG):
            airflow_api.wait_for_dag(dag_id, timeout=60)
        # Consumers first, so no asset event arrives while one is paused.
        airflow_api.unpause(ROLLUP_DAG)
        if args.dag == "rollups":
            snap, timed_out = backfill_triggered(ROLLUP_DAG, keys, args)
        elif args.dag == "staging":
            airflow_api.unpause(TRANSFORM_DAG)
            airflow_api.unpause(STAGING_DAG)
            snap, timed_out = backfill_staging(keys, args)
        else:
            airflow_api.unpause(TRANSFORM_DAG)
            snap, timed_out = backfill_triggered(TRANSFORM_DAG, keys, args)
        return report(snap, keys, timed_out)
    except (airflow_api.AirflowApiError, TimeoutError, OSError) as exc:
        say(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
