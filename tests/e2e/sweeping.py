"""What the end-to-end tests of the late-data sweep share: replacing one staged day's object on the
stack's S3 source, triggering sparkify_sweep and following the runs its events cause, per-partition
checksums, and putting the day back afterwards.

Used by tests/e2e/test_late_data_sweep_e2e.py (a day of 2018-11, a month never complete on the
stack: sweep -> staging -> transform) and tests/e2e/test_rollups_e2e.py (a day of a rolled-up
month: sweep -> staging -> transform -> the month's rollup).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.e2e.conftest import TERMINAL, Stack, server_time
from tests.integration.conftest import Project

SWEEP = "sparkify_sweep"
ROLLUP_DAG = "sparkify_rollups"
#: Per-partition tables whose other days must not change.
PARTITIONED = ("staging_events", "rejected_lines", "event_manifest", "songplays")

Runs = list[dict[str, Any]]


@dataclass(frozen=True)
class DayObject:
    """One staged day's events object on the stack's source, and its bytes before the test."""

    client: Any
    bucket: str
    key: str
    original: bytes

    def replace(self, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body)


def day_object(day: str) -> DayObject:
    """The stack's object for day (the default layout, one generated file per day)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    relative = f"log_data/{day[:4]}/{day[5:7]}/{day}-events.json"
    bucket, _, root = os.environ["SPARKIFY_SOURCE"].removeprefix("s3://").partition("/")
    key = f"{root}/{relative}" if root else relative
    client = S3Hook(aws_conn_id="aws_default").get_conn()
    return DayObject(client, bucket, key, client.get_object(Bucket=bucket, Key=key)["Body"].read())


def _write_atomically(path: Path, text: str) -> None:
    """Replace the stack's config in one rename: the dag-processor must never read half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _trigger_sweep(stack: Stack) -> str:
    run = stack.api.api("POST", f"/api/v2/dags/{SWEEP}/dagRuns", {"logical_date": None, "conf": {}})
    return run["dag_run_id"]


def wait(stack: Stack, dag_id: str, done: Callable[[Runs], bool], timeout: float = 300) -> Runs:
    """Stack.wait_for_runs polling every half second: these tests wait for several short runs in a row."""
    return stack.wait_for_runs(dag_id, done, timeout=timeout, every=0.5)


def sweep_tis(stack: Stack, run_id: str) -> list[dict[str, Any]]:
    path = f"/api/v2/dags/{SWEEP}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances?limit=100"
    return stack.api.api("GET", path)["task_instances"]


def sweep_events(stack: Stack, run_ids: set[str]) -> list[tuple[str, str]]:
    events = stack.api.api("GET", f"/api/v2/assets/events?source_dag_id={SWEEP}&limit=1000")["asset_events"]
    return sorted((e["name"], e["partition_key"]) for e in events if e["source_run_id"] in run_ids)


def partition_sums(stack: Stack) -> dict[tuple[str, str], str]:
    """md5 of each (table, partition) of the partitioned tables."""
    sums = {}
    with psycopg.connect(stack.warehouse_url) as conn:
        conn.execute(f'SET search_path TO "{stack.schema}"')
        for table in PARTITIONED:
            rows = conn.execute(
                f"SELECT partition_key, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {table} t GROUP BY 1"
            ).fetchall()
            sums.update({(table, key): digest for key, digest in rows})
    return sums


def sweep_and_follow(stack: Stack, *, settle: bool = False) -> tuple[Runs, Runs]:
    """Trigger a sweep; wait for it (and any scheduled sweep run: the unpause or an hourly tick may
    add one) and for the transform runs their events cause. Returns the new sweep runs and the new
    transform runs, once a whole scheduling pass after the last sweep ended shows no more (skipped
    when settling and nothing was emitted: nothing can follow then)."""
    sweep_before = stack.run_ids(SWEEP)
    transform_before = stack.run_ids("sparkify_transform")
    run_id = _trigger_sweep(stack)
    runs = wait(stack, SWEEP, lambda rs: all(r["state"] in TERMINAL for r in rs))
    runs = stack.new_runs(runs, sweep_before)
    assert run_id in {r["dag_run_id"] for r in runs}
    for run in runs:
        states = [(t["task_id"], t["map_index"], t["state"]) for t in sweep_tis(stack, run["dag_run_id"])]
        assert run["state"] == "success", (run, states)
    emitted = sweep_events(stack, {r["dag_run_id"] for r in runs})
    if emitted:  # the transform runs they trigger, until terminal
        wait(
            stack,
            "sparkify_transform",
            lambda rs: (new := stack.new_runs(rs, transform_before)) != [] and all(r["state"] in TERMINAL for r in new),
        )
    if emitted or not settle:
        stack.wait_for_scheduler_pass(after=max(server_time(r["end_date"]) for r in runs))
    return runs, stack.new_runs(stack.api.list_dag_runs("sparkify_transform"), transform_before)


def _restore_in_process(stack: Stack, config_path: Path, day: str, rollups_before: set[str]) -> None:
    """The day staged and transformed from its original object again, in this process (as test_faults'
    clean load does): seconds, where a third sweep and its transform run through the scheduler take
    half a minute. The extra event changed no dimension, so the warehouse is as the test found it;
    a month rollup re-run by the correction is re-run on the restored day too."""
    rollups = [r for r in stack.api.list_dag_runs(ROLLUP_DAG) if r["dag_run_id"] not in rollups_before]
    if rollups:  # never race a rollup run the correction asked for
        wait(stack, ROLLUP_DAG, lambda rs: all(r["state"] in TERMINAL for r in rs))
    project = Project(config_path, stack.schema, stack.warehouse_url)
    project.stage(day)
    project.transform(day, run_checks=False)
    if rollups:
        project.rollup(day[:7], run_checks=False)


@contextmanager
def sweeping(stack: Stack, day: str) -> Iterator[DayObject]:
    """The sweep unpaused with a window covering every staged day and settled; on the way out the
    day's original object and rows are restored, the sweep paused and the config put back, and
    every partition's rows are checked to be as the test found them."""
    config_path = Path(os.environ["SPARKIFY_CONFIG"])
    original_config = config_path.read_text(encoding="utf-8")
    document = json.loads(original_config)
    document["source"]["sweep"] = {**document["source"].get("sweep", {}), "lookback_days": 366}
    _write_atomically(config_path, json.dumps(document))
    obj = day_object(day)
    rollups_before = stack.run_ids(ROLLUP_DAG)
    stack.api.wait_for_dag(SWEEP, timeout=180)
    stack.api.unpause("sparkify_transform")
    stack.api.unpause(SWEEP)
    try:
        sweep_and_follow(stack, settle=True)  # differences an earlier test left behind, if any
        found = partition_sums(stack)
        yield obj
    finally:
        stack.api.pause(SWEEP)  # no hourly sweep during the tests after this one
        try:
            obj.replace(obj.original)
            _restore_in_process(stack, config_path, day, rollups_before)
        finally:
            _write_atomically(config_path, original_config)
    assert partition_sums(stack) == found  # the day's rows and manifest are as the test found them
