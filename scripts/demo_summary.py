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
import datetime as dt
import os
import sys
import time
import urllib.parse
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "plugins"))

import airflow_api  # noqa: E402

STAGING_DAG = "sparkify_staging"
TRANSFORM_DAG = "sparkify_transform"
DAG_IDS = (STAGING_DAG, TRANSFORM_DAG)
FINISHED = ("success", "failed")  # every DagRunState that is terminal (queued/running are not)
TI_FAILED = ("failed", "upstream_failed")

Run = dict[str, Any]


def say(msg: str) -> None:
    print(f"[demo] {msg}", file=sys.stderr, flush=True)


def ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def partition_keys(start: str, end: str) -> list[str]:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if last < first:
        raise SystemExit(f"--end {end} is before --start {start}")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


# --- Airflow state -----------------------------------------------------------------------------


class Snapshot:
    """The runs that matter for the demo range, read from the REST API at one moment."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        wanted = set(keys)
        staging_all = airflow_api.list_dag_runs(STAGING_DAG)  # oldest first (order_by=id)
        transform_all = airflow_api.list_dag_runs(TRANSFORM_DAG)
        # Newest backfill run per key (later in the id-ordered list wins).
        self.staging: dict[str, Run] = {}
        for run in staging_all:
            if run.get("run_type") == "backfill" and run.get("partition_key") in wanted:
                self.staging[run["partition_key"]] = run
        # Newest asset-triggered run per key queued after the staging run of that key started.
        # (Queued, not started, after the staging run *ended*: the scheduler may create and start
        # the transform run a moment before it marks the staging run finished.)
        self.transform: dict[str, Run] = {}
        for run in transform_all:
            key = run.get("partition_key")
            staging = self.staging.get(key)
            if run.get("run_type") != "asset_triggered" or staging is None:
                continue
            created = ts(run.get("queued_at")) or ts(run.get("run_after"))
            staged = ts(staging.get("start_date")) or ts(staging.get("queued_at"))
            if created and staged and created >= staged:
                self.transform[key] = run
        # Runs outside the demo's accounting that are not finished (e.g. yesterday's scheduled
        # run waiting for its file): listed, never counted as failures.
        counted = {r["dag_run_id"] for r in [*self.staging.values(), *self.transform.values()]}
        self.others = [
            r for r in [*staging_all, *transform_all] if r["dag_run_id"] not in counted and r["state"] not in FINISHED
        ]

    def staging_done(self) -> list[str]:
        return [k for k in self.keys if self.staging.get(k, {}).get("state") in FINISHED]

    def staging_succeeded(self) -> list[str]:
        return [k for k in self.keys if self.staging.get(k, {}).get("state") == "success"]

    def transform_done(self) -> list[str]:
        return [k for k in self.keys if self.transform.get(k, {}).get("state") in FINISHED]

    def finished(self) -> bool:
        """Every staging run finished (or missing) and every successful one has a finished transform."""
        staging_pending = [k for k in self.staging if self.staging[k]["state"] not in FINISHED]
        transform_pending = [k for k in self.staging_succeeded() if k not in self.transform_done()]
        return not staging_pending and not transform_pending

    def progress(self) -> str:
        n = len(self.keys)
        states = collections.Counter(r["state"] for r in self.staging.values())
        tstates = collections.Counter(r["state"] for r in self.transform.values())
        return (
            f"staging {len(self.staging_done())}/{n} done ({_counts(states)}), "
            f"transform {len(self.transform_done())}/{n} done ({_counts(tstates)})"
        )

    def runs(self) -> list[tuple[str, Run]]:
        return [(STAGING_DAG, r) for r in self.staging.values()] + [(TRANSFORM_DAG, r) for r in self.transform.values()]


def _counts(counter: collections.Counter) -> str:
    return ", ".join(f"{state} {n}" for state, n in sorted(counter.items())) or "none"


def task_instances(
    runs: list[tuple[str, Run]], task_ids: list[str] | None = None, states: list[str] | None = None
) -> list[Run]:
    """Task instances of the given runs (POST /api/v2/dags/~/dagRuns/~/taskInstances/list)."""
    if not runs:
        return []
    wanted = {(dag_id, run["dag_run_id"]) for dag_id, run in runs}
    body: dict[str, Any] = {
        "dag_ids": sorted({dag_id for dag_id, _ in runs}),
        "dag_run_ids": sorted({run["dag_run_id"] for _, run in runs}),
        "order_by": "id",
    }
    if task_ids:
        body["task_ids"] = task_ids
    if states:
        body["state"] = states
    out: list[Run] = []
    offset = 0
    while True:
        page = airflow_api.api(
            "POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", {**body, "page_offset": offset, "page_limit": 100}
        )
        batch = page.get("task_instances", [])
        out.extend(ti for ti in batch if (ti["dag_id"], ti["dag_run_id"]) in wanted)
        offset += len(batch)
        if not batch or offset >= (page.get("total_entries") or 0):
            return out


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
    deadline = time.monotonic() + timeout
    last_print = 0.0
    while True:
        query = urllib.parse.urlencode({"dag_id": STAGING_DAG, "limit": 100})
        backfills = airflow_api.api("GET", f"/api/v2/backfills?{query}")["backfills"]
        active = [b for b in backfills if not b.get("completed_at")]
        if not active:
            return 0
        if time.monotonic() >= deadline:
            say(f"timeout: backfill {', '.join(str(b['id']) for b in active)} of {STAGING_DAG} still in progress")
            return 2
        if time.monotonic() - last_print >= 15:
            desc = ", ".join(f"#{b['id']} {b['from_date'][:10]}..{b['to_date'][:10]}" for b in active)
            say(f"waiting for the earlier backfill of {STAGING_DAG} to complete: {desc}")
            last_print = time.monotonic()
        time.sleep(interval)


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
    deadline = time.monotonic() + args.timeout
    poll = min(5.0, args.interval)
    last_print = 0.0
    timed_out = False
    while True:
        try:
            snap = Snapshot(keys)
        except (airflow_api.AirflowApiError, OSError) as exc:  # api-server busy/restarting: retry
            say(f"REST API error (retrying): {exc}")
            snap = None
        if snap is not None and snap.finished():
            say(snap.progress())
            break
        if time.monotonic() >= deadline:
            timed_out = True
            if snap is None:
                snap = Snapshot(keys)
            say(f"timeout after {args.timeout:.0f} s: {snap.progress()}")
            break
        if snap is not None and time.monotonic() - last_print >= args.interval:
            say(snap.progress())
            last_print = time.monotonic()
        time.sleep(poll)

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
    print(f"RESULT: OK - {len(keys)} staging and {len(keys)} transform runs succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
