"""The late-data sweep on the real scheduler: a corrected day file is re-staged by the next sweep, and
the transform follows for that day only; a sweep that finds nothing emits nothing.

One already-staged day's object is replaced by a copy with one more NextSong event, then
sparkify_sweep is triggered through the REST API: its run re-stages exactly that day, publishes
one staging_events and one staging_songs event keyed by it, and one asset-triggered transform run
for that key follows, with one more songplay; every other partition's rows are unchanged
(checksums). A second sweep finds nothing: its first task is skipped, it emits no asset event and
no transform run appears after a whole scheduling pass.

Independent of the other e2e tests: the window is widened to every staged day for the test (the
stack's config, restored afterwards; other tests stage later days), a first sweep settles whatever
an earlier test left behind, only runs and events created after the test's own snapshots count,
and the original object is put back and the day re-staged at the end, so the stack's warehouse
holds the generator's data again.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import KEYS, TERMINAL, Stack, server_time
from tests.integration.conftest import Project
from tests.sweep_helpers import with_one_more_nextsong

SWEEP = "sparkify_sweep"
DAY = KEYS[1]
DAY_OBJECT = f"log_data/{DAY[:4]}/{DAY[5:7]}/{DAY}-events.json"
#: Per-partition tables whose other days must not change.
PARTITIONED = ("staging_events", "rejected_lines", "event_manifest", "songplays")


def _s3_object(stack_source: str) -> tuple[Any, str, str]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, _, root = stack_source.removeprefix("s3://").partition("/")
    return S3Hook(aws_conn_id="aws_default").get_conn(), bucket, f"{root}/{DAY_OBJECT}" if root else DAY_OBJECT


def _write_atomically(path: Path, text: str) -> None:
    """Replace the stack's config in one rename: the dag-processor must never read half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _trigger_sweep(stack: Stack) -> str:
    run = stack.api.api("POST", f"/api/v2/dags/{SWEEP}/dagRuns", {"logical_date": None, "conf": {}})
    return run["dag_run_id"]


Runs = list[dict[str, Any]]


def _wait(stack: Stack, dag_id: str, done: Callable[[Runs], bool], timeout: float = 300) -> Runs:
    """Poll dag_id's runs every half second until done(runs) (Stack.wait_for_runs polls every 3 s:
    this test waits for several short runs in a row)."""
    deadline = time.monotonic() + timeout
    runs: Runs = []
    while time.monotonic() < deadline:
        runs = stack.api.list_dag_runs(dag_id)
        if done(runs):
            return runs
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {dag_id} runs; last seen: {runs}")


def _tis(stack: Stack, run_id: str) -> list[dict[str, Any]]:
    path = f"/api/v2/dags/{SWEEP}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances?limit=100"
    return stack.api.api("GET", path)["task_instances"]


def _sweep_events(stack: Stack, run_ids: set[str]) -> list[tuple[str, str]]:
    events = stack.api.api("GET", f"/api/v2/assets/events?source_dag_id={SWEEP}&limit=1000")["asset_events"]
    return sorted((e["name"], e["partition_key"]) for e in events if e["source_run_id"] in run_ids)


def _partition_sums(stack: Stack) -> dict[tuple[str, str], str]:
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


def _sweep_and_follow(stack: Stack, *, settle: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Trigger a sweep; wait for it (and any scheduled sweep run: the unpause or an hourly tick may
    add one) and for the transform runs their events cause. Returns the new sweep runs and the new
    transform runs, once a whole scheduling pass after the last sweep ended shows no more (skipped
    when settling and nothing was emitted: nothing can follow then)."""
    sweep_before = stack.run_ids(SWEEP)
    transform_before = stack.run_ids("sparkify_transform")
    run_id = _trigger_sweep(stack)
    runs = _wait(stack, SWEEP, lambda rs: all(r["state"] in TERMINAL for r in rs))
    runs = stack.new_runs(runs, sweep_before)
    assert run_id in {r["dag_run_id"] for r in runs}
    for run in runs:
        states = [(t["task_id"], t["map_index"], t["state"]) for t in _tis(stack, run["dag_run_id"])]
        assert run["state"] == "success", (run, states)
    emitted = _sweep_events(stack, {r["dag_run_id"] for r in runs})
    if emitted:  # the transform runs they trigger, until terminal
        _wait(
            stack,
            "sparkify_transform",
            lambda rs: (new := stack.new_runs(rs, transform_before)) != [] and all(r["state"] in TERMINAL for r in new),
        )
    if emitted or not settle:
        stack.wait_for_scheduler_pass(after=max(server_time(r["end_date"]) for r in runs))
    return runs, stack.new_runs(stack.api.list_dag_runs("sparkify_transform"), transform_before)


def _restore_in_process(stack: Stack, config_path: Path, rollups_before: set[str]) -> None:
    """The day staged and transformed from its original object again, in this process (as test_faults'
    clean load does): seconds, where a third sweep and its transform run through the scheduler take
    half a minute. The extra event changed no dimension, so the warehouse is as the test found it;
    a month rollup re-run by the correction is re-run on the restored day too."""
    rollups = [r for r in stack.api.list_dag_runs("sparkify_rollups") if r["dag_run_id"] not in rollups_before]
    if rollups:  # never race a rollup run the correction asked for
        _wait(stack, "sparkify_rollups", lambda rs: all(r["state"] in TERMINAL for r in rs))
    project = Project(config_path, stack.schema, stack.warehouse_url)
    project.stage(DAY)
    project.transform(DAY, run_checks=False)
    if rollups:
        project.rollup(DAY[:7], run_checks=False)


@pytest.fixture
def sweep_everything(stack: Stack, staged_keys: list[str]) -> Iterator[tuple[Any, str, str, bytes]]:
    """The sweep unpaused with a window covering every staged day and settled; on the way out the
    original object and day are restored, the sweep paused and the config put back."""
    config_path = Path(os.environ["SPARKIFY_CONFIG"])
    original_config = config_path.read_text(encoding="utf-8")
    document = json.loads(original_config)
    document["source"]["sweep"] = {**document["source"].get("sweep", {}), "lookback_days": 366}
    _write_atomically(config_path, json.dumps(document))
    client, bucket, key = _s3_object(os.environ["SPARKIFY_SOURCE"])
    original = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    rollups_before = stack.run_ids("sparkify_rollups")
    stack.api.wait_for_dag(SWEEP, timeout=180)
    stack.api.unpause("sparkify_transform")
    stack.api.unpause(SWEEP)
    try:
        _sweep_and_follow(stack, settle=True)  # differences an earlier test left behind, if any
        found = _partition_sums(stack)
        yield client, bucket, key, original
    finally:
        stack.api.pause(SWEEP)  # no hourly sweep during the tests after this one
        try:
            client.put_object(Bucket=bucket, Key=key, Body=original)
            _restore_in_process(stack, config_path, rollups_before)
        finally:
            _write_atomically(config_path, original_config)
    assert _partition_sums(stack) == found  # the day's rows and manifest are as the test found them


def test_a_corrected_day_is_restaged_by_the_sweep_and_the_transform_follows(
    stack: Stack, sweep_everything: tuple[Any, str, str, bytes]
) -> None:
    client, bucket, key, original = sweep_everything
    songplays = "SELECT COUNT(*) FROM songplays WHERE partition_key = %s"
    songplays_before = stack.scalar(songplays, (DAY,))
    sums_before = _partition_sums(stack)
    client.put_object(Bucket=bucket, Key=key, Body=with_one_more_nextsong(original))

    started = time.monotonic()
    runs, transforms = _sweep_and_follow(stack)
    elapsed = time.monotonic() - started
    # Exactly that day's staging work in the sweep, then its two events, then one transform run.
    tis = [t for run in runs for t in _tis(stack, run["dag_run_id"])]
    worked = [t for t in tis if t["state"] != "skipped"]  # a scheduled run may find nothing: skipped
    assert [t["rendered_map_index"] for t in worked if t["task_id"] == "stage_events"] == [DAY]
    assert {t["rendered_map_index"].split()[0] for t in worked if t["task_id"] == "check"} == {DAY}
    assert {t["state"] for t in worked} == {"success"}
    assert _sweep_events(stack, {r["dag_run_id"] for r in runs}) == [("staging_events", DAY), ("staging_songs", DAY)]
    assert [(r["partition_key"], r["run_type"], r["state"]) for r in transforms] == [
        (DAY, "asset_triggered", "success")
    ]
    assert stack.scalar(songplays, (DAY,)) == songplays_before + 1
    sums_after = _partition_sums(stack)
    others = {k for k in sums_before if k[1] != DAY}
    assert {k: sums_after.get(k) for k in others} == {k: sums_before[k] for k in others}
    assert all(sums_after[(table, DAY)] != sums_before[(table, DAY)] for table in ("staging_events", "songplays"))
    # TODO(rollups): once the two-month e2e fixture lands, also assert that the day's month rollup
    # (sparkify_rollups, key DAY[:7]) runs again exactly once after this transform run.

    # A second sweep: nothing changed, so nothing runs after find_changes and nothing is emitted.
    quiet_started = time.monotonic()
    quiet_runs, quiet_transforms = _sweep_and_follow(stack)
    quiet_elapsed = time.monotonic() - quiet_started
    for run in quiet_runs:
        quiet_tis = _tis(stack, run["dag_run_id"])
        assert {t["task_id"]: t["state"] for t in quiet_tis} == dict.fromkeys(
            ("find_changes", "stage_events", "stage_songs", "plan_checks", "check", "publish"), "skipped"
        )
        # Skipped by the scheduler, the others were never queued to the executor (no worker process).
        ran = [t["task_id"] for t in quiet_tis if t["queued_when"] is not None]
        assert ran == ["find_changes"], [  # one task instance ran: the whole cost of an unchanged sweep
            (t["task_id"], t["queued_when"], t["try_number"], t["hostname"], t["pid"]) for t in quiet_tis
        ]
    assert _sweep_events(stack, {r["dag_run_id"] for r in quiet_runs}) == []
    assert quiet_transforms == []
    durations = [(server_time(r["end_date"]) - server_time(r["start_date"])).total_seconds() for r in quiet_runs]
    print(
        f"\n[sweep e2e] corrected day: sweep + transform {elapsed:.1f} s, {len(worked)} sweep task instances ran; "
        f"unchanged sweep: 1 task instance ran, run {max(durations):.1f} s ({quiet_elapsed:.1f} s with the waits)"
    )
