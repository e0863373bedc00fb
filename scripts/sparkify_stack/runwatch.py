#!/usr/bin/env python3
"""Wait for Sparkify DAG runs through the REST API, with progress lines: shared by `make demo`
(scripts/demo_summary.py), `make backfill` (scripts/backfill.py) and `make status` (scripts/status.py).

What "done" means differs per caller, so callers build a snapshot object (runs of interest, read
at one moment) and pass it to :func:`poll`, which retries REST errors (the api-server may be busy),
prints progress at most every ``interval`` seconds and stops at a deadline.
"""

from __future__ import annotations

import collections
import datetime as dt
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from sparkify.dag_ids import PARTITION_DAGS, ROLLUP_DAG, STAGING_DAG, TRANSFORM_DAG
from sparkify.partitions import days_of
from sparkify_stack import airflow_api

DAG_IDS = PARTITION_DAGS
FINISHED = ("success", "failed")  # every DagRunState that is terminal (queued/running are not)
TI_FAILED = ("failed", "upstream_failed")

Run = dict[str, Any]
S = TypeVar("S")


def make_say(prefix: str) -> Callable[[str], None]:
    """A progress printer writing '[prefix] msg' to stderr (stdout stays for the summary)."""

    def say(msg: str) -> None:
        print(f"[{prefix}] {msg}", file=sys.stderr, flush=True)

    return say


def ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def partition_keys(start: str, end: str) -> list[str]:
    """Every day start..end (inclusive) as YYYY-MM-DD."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if last < first:
        raise SystemExit(f"END {end} is before START {start}")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def month_keys(start: str, end: str) -> list[str]:
    """Every month start..end (inclusive) as YYYY-MM; exits naming the expected form otherwise."""
    try:
        first, last = dt.date.fromisoformat(f"{start}-01"), dt.date.fromisoformat(f"{end}-01")
    except ValueError:
        raise SystemExit(f"rollups take months as YYYY-MM (START={start} END={end})") from None
    if last < first:
        raise SystemExit(f"END {end} is before START {start}")
    months = []
    while first <= last:
        months.append(first.strftime("%Y-%m"))
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return months


def counts(counter: collections.Counter) -> str:
    return ", ".join(f"{state} {n}" for state, n in sorted(counter.items())) or "none"


# --- snapshots -----------------------------------------------------------------------------------


class Snapshot:
    """A staging backfill and the asset-triggered transform runs it caused, read at one moment.

    For every key: the newest ``backfill`` run of sparkify_staging and, where it exists, the newest
    ``asset_triggered`` run of sparkify_transform for that key queued after that staging run
    started. Re-runs (``--reprocess-behavior completed``) create new runs, so older runs of the
    same keys are ignored.
    """

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
        # Months whose every day is in keys: the newest asset-triggered rollup run of each, created
        # after the month's last transform run was queued (the run its days' events fire).
        self.months = sorted(
            {k[:7] for k in keys if all(day in wanted for day in days_of(k[:7]))}
        )
        rollup_all = airflow_api.list_dag_runs(ROLLUP_DAG) if self.months else []
        self.rollups: dict[str, Run] = {}
        for run in rollup_all:
            month = run.get("partition_key")
            if run.get("run_type") != "asset_triggered" or month not in self.months:
                continue
            queued = [ts(r.get("queued_at")) for k, r in self.transform.items() if k.startswith(month)]
            created = ts(run.get("queued_at")) or ts(run.get("run_after"))
            if created and queued and all(q and created >= q for q in queued):
                self.rollups[month] = run
        # Runs outside the accounting that are not finished (e.g. yesterday's scheduled run
        # waiting for its file): listed, never counted as failures.
        counted = {r["dag_run_id"] for _, r in self.runs()}
        self.others = [
            r
            for r in [*staging_all, *transform_all, *rollup_all]
            if r["dag_run_id"] not in counted and r["state"] not in FINISHED
        ]

    def staging_done(self) -> list[str]:
        return [k for k in self.keys if self.staging.get(k, {}).get("state") in FINISHED]

    def staging_succeeded(self) -> list[str]:
        return [k for k in self.keys if self.staging.get(k, {}).get("state") == "success"]

    def transform_done(self) -> list[str]:
        return [k for k in self.keys if self.transform.get(k, {}).get("state") in FINISHED]

    def rollup_due(self) -> list[str]:
        """Months of the range whose every day's transform succeeded: their rollup must run."""
        succeeded = {k for k in self.keys if self.transform.get(k, {}).get("state") == "success"}
        return [m for m in self.months if all(day in succeeded for day in days_of(m))]

    def rollup_done(self) -> list[str]:
        return [m for m in self.months if self.rollups.get(m, {}).get("state") in FINISHED]

    def finished(self) -> bool:
        """Every staging run finished (or missing), every successful one has a finished transform,
        and every month whose days all succeeded has a finished rollup run."""
        staging_pending = [k for k in self.staging if self.staging[k]["state"] not in FINISHED]
        transform_pending = [k for k in self.staging_succeeded() if k not in self.transform_done()]
        rollup_pending = [m for m in self.rollup_due() if m not in self.rollup_done()]
        return not staging_pending and not transform_pending and not rollup_pending

    def failed(self) -> list[tuple[str, Run]]:
        """(dag_id, run) of every failed run counted here."""
        return [(d, r) for d, r in self.runs() if r["state"] == "failed"]

    def progress(self) -> str:
        n = len(self.keys)
        states = collections.Counter(r["state"] for r in self.staging.values())
        tstates = collections.Counter(r["state"] for r in self.transform.values())
        months = f", rollups {len(self.rollup_done())}/{len(self.months)} done" if self.months else ""
        return (
            f"staging {len(self.staging_done())}/{n} done ({counts(states)}), "
            f"transform {len(self.transform_done())}/{n} done ({counts(tstates)})"
            + months
            + failure_note(self.failed())
        )

    def runs(self) -> list[tuple[str, Run]]:
        return (
            [(STAGING_DAG, r) for r in self.staging.values()]
            + [(TRANSFORM_DAG, r) for r in self.transform.values()]
            + [(ROLLUP_DAG, r) for r in self.rollups.values()]
        )


class TriggeredRuns:
    """Runs this process created (by dag_run_id, one per partition key), read at one moment."""

    def __init__(self, dag_id: str, run_ids: dict[str, str]) -> None:
        self.dag_id = dag_id
        self.keys = list(run_ids)
        by_id = {r["dag_run_id"]: r for r in airflow_api.list_dag_runs(dag_id)}
        self.by_key: dict[str, Run] = {k: by_id[i] for k, i in run_ids.items() if i in by_id}

    def done(self) -> list[str]:
        return [k for k in self.keys if self.by_key.get(k, {}).get("state") in FINISHED]

    def finished(self) -> bool:
        return len(self.done()) == len(self.keys)

    def failed(self) -> list[tuple[str, Run]]:
        return [(self.dag_id, r) for r in self.by_key.values() if r["state"] == "failed"]

    def runs(self) -> list[tuple[str, Run]]:
        return [(self.dag_id, r) for r in self.by_key.values()]

    def progress(self) -> str:
        states = collections.Counter(r["state"] for r in self.by_key.values())
        return (
            f"{self.dag_id} {len(self.done())}/{len(self.keys)} partitions done ({counts(states)})"
            + failure_note(self.failed())
        )


# --- task instances ----------------------------------------------------------------------------


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


def ti_name(ti: Run) -> str:
    """task_id, plus the rendered map index (table or check name) for mapped tasks."""
    if ti.get("map_index", -1) >= 0:
        return f"{ti['task_id']}[{ti.get('rendered_map_index') or ti['map_index']}]"
    return ti["task_id"]


def failed_tasks(runs: list[tuple[str, Run]]) -> dict[tuple[str, str], list[str]]:
    """(dag_id, run_id) -> names of its failed tasks (not upstream_failed: those only follow)."""
    out: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for ti in task_instances(runs, states=["failed"]):
        out[(ti["dag_id"], ti["dag_run_id"])].append(ti_name(ti))
    return out


def failure_note(failed: list[tuple[str, Run]]) -> str:
    """'; failed: sparkify_staging 2018-11-03 (stage_events)' naming partitions and tasks, or ''."""
    if not failed:
        return ""
    try:
        tasks = failed_tasks(failed)
    except (airflow_api.AirflowApiError, OSError):
        tasks = {}
    parts = []
    for dag_id, run in failed[:10]:
        names = ", ".join(tasks.get((dag_id, run["dag_run_id"]), [])) or "?"
        parts.append(f"{dag_id} {run.get('partition_key')} ({names})")
    more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
    return "; failed: " + "; ".join(parts) + more


# --- waiting -------------------------------------------------------------------------------------


#: Runs a snapshot may list per second of polling: each snapshot lists every run of the watched
#: DAGs, so the period grows with the partitions watched and the API server's load stays flat.
RUNS_LISTED_PER_SECOND = 40


def poll_period(partitions: int, floor: float = 5.0) -> float:
    """Seconds between snapshots watching this many partitions (two DAGs' runs each)."""
    return max(floor, 2 * partitions / RUNS_LISTED_PER_SECOND)


def poll(
    take: Callable[[], S],
    *,
    timeout: float,
    interval: float,
    say: Callable[[str], None],
    every: float = 5.0,
    quiet_after: float = 60.0,
) -> tuple[S, bool]:
    """Take snapshots every ``every`` s until ``snap.finished()``; print ``snap.progress()`` at most
    every ``interval`` s, and only when it changed or ``quiet_after`` s passed since the last line:
    a person reads what moved, and a stalled stack still shows it is being watched.

    Returns (last snapshot, timed_out). REST errors are reported and retried until the deadline.
    """
    deadline = time.monotonic() + timeout
    poll_every = min(every, interval)
    last_print = 0.0
    last_line = ""
    snap: Any = None
    while True:
        try:
            snap = take()
        except (airflow_api.AirflowApiError, OSError) as exc:  # api-server busy/restarting: retry
            say(f"REST API error (retrying): {exc}")
            snap = None
        if snap is not None and snap.finished():
            say(snap.progress())
            return snap, False
        if time.monotonic() >= deadline:
            if snap is None:
                snap = take()
            say(f"timeout after {timeout:.0f} s: {snap.progress()}")
            return snap, True
        since = time.monotonic() - last_print
        if snap is not None and since >= interval:
            line = snap.progress()
            if line != last_line or since >= quiet_after:
                say(line)
                last_print, last_line = time.monotonic(), line
        time.sleep(poll_every)


def active_backfills(dag_id: str) -> list[dict[str, Any]]:
    """The backfills of ``dag_id`` still in progress (completed_at unset)."""
    query = urllib.parse.urlencode({"dag_id": dag_id, "limit": 100})
    return [b for b in airflow_api.api("GET", f"/api/v2/backfills?{query}")["backfills"] if not b.get("completed_at")]


def wait_backfill_idle(dag_id: str, timeout: float, interval: float, say: Callable[[str], None]) -> int:
    """Wait until ``dag_id`` has no backfill in progress (completed_at unset); 0, or 2 on timeout.

    Airflow allows one backfill per DAG at a time and marks a finished one complete only every 30 s.
    """
    deadline = time.monotonic() + timeout
    last_print = 0.0
    while True:
        active = active_backfills(dag_id)
        if not active:
            return 0
        if time.monotonic() >= deadline:
            say(f"timeout: backfill {', '.join(str(b['id']) for b in active)} of {dag_id} still in progress")
            return 2
        if time.monotonic() - last_print >= 15:
            desc = ", ".join(f"#{b['id']} {b['from_date'][:10]}..{b['to_date'][:10]}" for b in active)
            say(f"waiting for the earlier backfill of {dag_id} to complete: {desc}")
            last_print = time.monotonic()
        time.sleep(interval)
