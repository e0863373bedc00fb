"""Operator experience on the real scheduler: `make backfill` for each DAG, and manual runs of one
partition as the UI's trigger form creates them (REST: {"logical_date": null, "partition_key": K}).

Everything is verified through the REST API (run types, partition keys, task states, rendered
map indexes, asset-event extras, task logs) plus the warehouse. Runs left by earlier e2e tests
on the shared stack are told apart by run id (the ids present before the action), and times are
only ever compared with other server times; tests that need the days staged ask for the
staged_keys fixture, so no test relies on another having run first.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from typing import Any

import pytest

from sparkify.config import REPO_ROOT, load_config
from tests.e2e.conftest import KEYS, TERMINAL, server_time


def _backfill(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(REPO_ROOT / "scripts" / "backfill.py"), *args, "--interval", "5", "--timeout", "600"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=700, check=False)


def _tis(stack, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
    return [ti for ti in stack.api.api("GET", f"{path}?limit=100")["task_instances"] if ti["task_id"] == task_id]


def _log(stack, dag_id: str, run_id: str, task_id: str) -> str:
    path = (
        f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/{task_id}/logs/1"
        "?full_content=true"
    )
    return json.dumps(stack.api.api("GET", path))


def _staging_events(stack) -> list[dict[str, Any]]:
    query = "/api/v2/assets/events?source_dag_id=sparkify_staging&limit=1000"
    return stack.api.api("GET", query)["asset_events"]


@pytest.fixture(scope="module")
def config():
    return load_config()


def test_make_backfill_staging_restages_and_transform_follows(stack, config) -> None:
    staging_before = stack.run_ids("sparkify_staging")
    transform_before = stack.run_ids("sparkify_transform")
    done = _backfill("staging", KEYS[0], KEYS[-1])
    assert done.returncode == 0, f"backfill.py staging failed:\n{done.stdout}\n{done.stderr}"
    assert "staging 3/3 done" in done.stderr and "transform 3/3 done" in done.stderr, done.stderr
    assert "RESULT: OK" in done.stdout, done.stdout

    staging = stack.new_runs(stack.api.list_dag_runs("sparkify_staging"), staging_before)
    backfill = [r for r in staging if r["run_type"] == "backfill"]
    assert sorted(r["partition_key"] for r in backfill) == KEYS
    assert {r["state"] for r in backfill} == {"success"}
    transform = stack.new_runs(stack.api.list_dag_runs("sparkify_transform"), transform_before)
    assert sorted(r["partition_key"] for r in transform) == KEYS, transform
    assert {r["run_type"] for r in transform} == {"asset_triggered"}
    assert {r["state"] for r in transform} == {"success"}

    # The UI names mapped tasks by table and check (map_index_template -> rendered_map_index).
    run_id = transform[0]["dag_run_id"]
    dims = sorted(ti["rendered_map_index"] for ti in _tis(stack, "sparkify_transform", run_id, "load_dimension"))
    assert dims == sorted(d.name for d in config.dimensions)
    checks = sorted(ti["rendered_map_index"] for ti in _tis(stack, "sparkify_transform", run_id, "check"))
    assert checks == sorted(c.name for c in config.transform_checks())
    # The Rendered Template tab shows the SQL each task ran: the model's SELECT of the fact and of
    # every dimension (mapped), the query of every check, on the stack's schema, values as binds.
    fact = _tis(stack, "sparkify_transform", run_id, "load_fact_songplays")[0]["rendered_fields"]
    assert f'FROM "{stack.schema}"."staging_events"' in fact["select_sql"], fact
    assert "%(partition_key)s" in fact["select_sql"] and run_id not in fact["select_sql"]
    for ti in _tis(stack, "sparkify_transform", run_id, "load_dimension"):
        assert ti["rendered_fields"]["select_sql"].lstrip().upper().startswith(("SELECT", "WITH", "--")), ti
    for ti in _tis(stack, "sparkify_transform", run_id, "check"):
        check = next(c for c in config.transform_checks() if c.name == ti["rendered_map_index"])
        assert f'"{stack.schema}"."{check.table}"' in ti["rendered_fields"]["check_sql"], ti

    # Asset events carry partition, counts and the check summary (the asset page shows extras).
    query = "/api/v2/assets/events?source_dag_id=sparkify_transform&limit=1000"
    marts = {
        e["source_run_id"]: e["extra"] for e in stack.api.api("GET", query)["asset_events"]
    }
    for run in transform:
        extra = marts[run["dag_run_id"]]
        assert extra["partition_key"] == run["partition_key"]
        assert extra["songplays"] > 0
        assert set(extra["dimension_rows"]) == {d.name for d in config.dimensions}
        assert extra["checks_passed"] + len(extra["checks_warned"]) == len(config.transform_checks())
    staged = {e["source_run_id"]: e["extra"] for e in _staging_events(stack)}
    for run in backfill:
        extra = staged[run["dag_run_id"]]
        assert {"rows_loaded", "rejected", "checks_passed"} <= set(extra)
        assert extra["checks_passed"] + len(extra["checks_warned"]) == len(config.staging_checks())


def test_make_backfill_transform_rederives_marts_without_staging(stack, staged_keys) -> None:
    staging_runs = len(stack.api.list_dag_runs("sparkify_staging"))
    staging_events = len(_staging_events(stack))
    songplays = stack.scalar("SELECT COUNT(*) FROM songplays")
    transform_before = stack.run_ids("sparkify_transform")
    done = _backfill("transform", KEYS[0], KEYS[-1])
    assert done.returncode == 0, f"backfill.py transform failed:\n{done.stdout}\n{done.stderr}"
    assert "sparkify_transform 3/3 partitions done" in done.stderr, done.stderr

    transform = stack.new_runs(stack.api.list_dag_runs("sparkify_transform"), transform_before)
    assert sorted(r["partition_key"] for r in transform) == KEYS, transform
    assert {r["run_type"] for r in transform} == {"manual"}
    assert {r["state"] for r in transform} == {"success"}
    # No COPY: the staging DAG did not run and emitted nothing; the marts are the same.
    assert len(stack.api.list_dag_runs("sparkify_staging")) == staging_runs
    assert len(_staging_events(stack)) == staging_events
    assert stack.scalar("SELECT COUNT(*) FROM songplays") == songplays


def test_make_backfill_transform_clear_reruns_existing_runs(stack, staged_keys) -> None:
    """MODE=clear: `airflow dags clear --partition-key` re-runs the newest run of each key in place."""
    runs_before = stack.api.list_dag_runs("sparkify_transform")
    staging_runs = len(stack.api.list_dag_runs("sparkify_staging"))
    songplays = stack.scalar("SELECT COUNT(*) FROM songplays")
    newest = {r["partition_key"]: r for r in runs_before if r["partition_key"] in KEYS}
    first_start = {  # the fact load's start before the clear, on the server's clock
        key: server_time(_tis(stack, "sparkify_transform", run["dag_run_id"], "load_fact_songplays")[0]["start_date"])
        for key, run in newest.items()
    }
    done = _backfill("transform", KEYS[0], KEYS[-1], "--mode", "clear")
    assert done.returncode == 0, f"backfill.py transform --mode clear failed:\n{done.stdout}\n{done.stderr}"
    assert "sparkify_transform 3/3 partitions done" in done.stderr, done.stderr
    for key in KEYS:
        assert f"cleared sparkify_transform partition {key}" in done.stderr, done.stderr

    runs_after = stack.api.list_dag_runs("sparkify_transform")
    assert len(runs_after) == len(runs_before)  # no new run: the existing ones ran again
    by_id = {r["dag_run_id"]: r for r in runs_after}
    for key in KEYS:
        run = by_id[newest[key]["dag_run_id"]]
        assert run["state"] == "success", run
        fact = _tis(stack, "sparkify_transform", run["dag_run_id"], "load_fact_songplays")[0]
        assert server_time(fact["start_date"]) > first_start[key], fact  # the fact load really ran again
    assert len(stack.api.list_dag_runs("sparkify_staging")) == staging_runs
    assert stack.scalar("SELECT COUNT(*) FROM songplays") == songplays


def _refused(stack, dag_id: str, key: str) -> str:
    """The HTTP 400 body Airflow answers a trigger with key (the trigger form shows it); no run is made."""
    before = stack.run_ids(dag_id)
    with pytest.raises(stack.api.AirflowApiError) as refused:
        stack.api.trigger_partition(dag_id, key)
    assert refused.value.status == 400, refused.value
    assert stack.run_ids(dag_id) == before
    return refused.value.body


def _status() -> subprocess.CompletedProcess[str]:
    """`make status` on the stack (SPARKIFY_CONFIG names the session's schema)."""
    cmd = [sys.executable, str(REPO_ROOT / "scripts" / "status.py")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_manual_partition_runs_are_validated(stack) -> None:
    stack.api.unpause("sparkify_transform")  # manual runs of a paused DAG stay queued
    stack.api.unpause("sparkify_staging")
    # Airflow itself refuses keys that are not dates at trigger time: the staging DAG's
    # CronPartitionTimetable by its key_format, the asset-scheduled ones through their partition
    # mappers (StartOfDayMapper, StartOfMonthMapper), which decode every typed key.
    assert "key_format" in _refused(stack, "sparkify_staging", "2018-11-3x")
    for dag_id, key in (("sparkify_transform", "2018-13-45"), ("sparkify_transform", "2018-11-3x"),
                        ("sparkify_rollups", "2018-13")):
        assert f"Partition key '{key}' is invalid for this timetable's mappers" in _refused(stack, dag_id, key)
    no_data = stack.api.trigger_partition("sparkify_staging", "2019-06-01")
    good = stack.api.trigger_partition("sparkify_staging", KEYS[1])
    # A key strptime accepts but that is no YYYY-MM-DD gets a run: our first task refuses it.
    bad_format = stack.api.trigger_partition("sparkify_transform", "2018-1-5")
    not_staged = stack.api.trigger_partition("sparkify_transform", "2018-12-25")
    # The trigger form's Partition Key is "Optional": a run without it says how to trigger one.
    no_key = stack.api.api("POST", "/api/v2/dags/sparkify_transform/dagRuns", {"logical_date": None, "conf": {}})
    wanted = {r["dag_run_id"] for r in (bad_format, no_data, good, not_staged, no_key)}

    def finished(dag_id: str) -> list[dict[str, Any]]:
        return [r for r in stack.api.list_dag_runs(dag_id) if r["dag_run_id"] in wanted]

    staging = stack.wait_for_runs(
        "sparkify_staging", lambda runs: all(r["state"] in TERMINAL for r in finished("sparkify_staging"))
    )
    transform = stack.wait_for_runs(
        "sparkify_transform", lambda runs: all(r["state"] in TERMINAL for r in finished("sparkify_transform"))
    )
    state = {r["dag_run_id"]: r for r in staging + transform}
    assert state[good["dag_run_id"]]["state"] == "success"
    assert state[good["dag_run_id"]]["run_type"] == "manual"
    assert state[good["dag_run_id"]]["partition_key"] == KEYS[1]

    expectations = [
        ("sparkify_transform", bad_format, "load_fact_songplays", "invalid partition key '2018-1-5'"),
        ("sparkify_transform", no_key, "load_fact_songplays", "this run has no partition key"),
        ("sparkify_transform", no_key, "load_fact_songplays", "Advanced Options"),  # where the field is
        ("sparkify_staging", no_data, "wait_for_partition", "partition 2019-06-01 has no data"),
        ("sparkify_staging", no_data, "wait_for_partition", "holds 2018-11-01.."),
        ("sparkify_transform", not_staged, "load_fact_songplays", "partition 2018-12-25 has nothing staged"),
    ]
    for dag_id, run, task_id, message in expectations:
        assert state[run["dag_run_id"]]["state"] == "failed", state[run["dag_run_id"]]
        (ti,) = _tis(stack, dag_id, run["dag_run_id"], task_id)
        assert ti["state"] == "failed", ti  # failed, not skipped by the sensor's soft_fail
        assert ti["try_number"] == 1, ti  # AirflowFailException: no retries
        assert message in _log(stack, dag_id, run["dag_run_id"], task_id), message

    # make status lists the runs with invalid keys apart, by run id, and makes no partition of them.
    status = _status()
    assert status.returncode in (0, 1), status.stderr  # 1: failed partitions (2018-12-25 above)
    rows = [line.split()[0] for line in status.stdout.splitlines() if line[:1].isdigit()]
    assert "2018-1-5" not in rows and "2018-12-25" in rows, status.stdout
    assert "run(s) with invalid keys" in status.stdout
    for run, shown in ((bad_format, "'2018-1-5'"), (no_key, "(no key)")):
        (line,) = [line for line in status.stdout.splitlines() if run["dag_run_id"] in line]
        assert "sparkify_transform" in line and shown in line and "failed" in line, line


def test_the_rest_example_in_the_docs_triggers_a_run_and_is_refused_a_bad_key(stack) -> None:
    """docs/operations.md's curl example (token from POST /auth/token, then POST …/dagRuns), as written."""
    doc = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = doc.split("### Manual runs over REST", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    assert '"partition_key": "2018-11-05"' in block and "/auth/token" in block
    before = stack.run_ids("sparkify_transform")

    def run(key: str) -> dict[str, Any]:
        script = block.replace('"partition_key": "2018-11-05"', f'"partition_key": "{key}"')
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "access_token" not in done.stdout and "password" not in done.stdout + done.stderr
        return json.loads(done.stdout)

    created = run(KEYS[2])
    assert created["dag_id"] == "sparkify_transform"
    assert (created["run_type"], created["partition_key"]) == ("manual", KEYS[2])
    assert "Partition key '2018-13-45' is invalid" in run("2018-13-45")["detail"]
    assert stack.run_ids("sparkify_transform") - before == {created["dag_run_id"]}
    stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: any(r["dag_run_id"] == created["dag_run_id"] and r["state"] in TERMINAL for r in runs),
    )
