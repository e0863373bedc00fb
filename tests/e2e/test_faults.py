"""Faults on the real stack: the task process is SIGKILLed in the middle of a staging COPY and of a
dimension load, and the warehouse Postgres is restarted during a staging COPY. Airflow's retries
(exponential backoff) must finish every run, and the warehouse must equal an undisturbed load.

The Postgres restart also takes down the local Airflow scheduler (its metadata DB lives in the same
cluster), so the test restarts exited components with scripts/airflow.sh start, as a supervisor would;
the warehouse task itself fails with the dropped connection and is retried.

The kill lands mid-statement deterministically because the partition is big (150k events, ~75 MB):
the test watches pg_stat_activity for the statement, maps the backend's client port to the process
that owns the socket (`ss -tnp`) and kills exactly that process (the task runner), by PID.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from tests.integration.conftest import Project

BIG = "2018-11-20"
BIG_EVENTS = 150_000
TERMINAL = {"success", "failed"}


def _contract_checksums(project: Project) -> dict[str, str]:
    sums = project.checksums()
    sums.pop("dq_results", None)  # append-only audit log of check runs, not under the contract
    return sums


def _statement_pid(url: str, schema: str, pattern: str, timeout: float = 240) -> tuple[int, str]:
    """PID of the process whose warehouse session is running a statement matching pattern in schema."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT client_port, query FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                " AND query LIKE %s AND query ~ %s",
                (f'%"{schema}"%', pattern),
            ).fetchall()
            for port, query in rows:
                out = subprocess.run(
                    ["ss", "-tnpH", f"sport = :{port}"], capture_output=True, text=True, check=False
                ).stdout
                found = re.search(r"pid=(\d+)", out)
                if found:
                    return int(found.group(1)), query[:80]
            time.sleep(0.02)
        seen = conn.execute(
            "SELECT state, wait_event_type, left(query, 120) FROM pg_stat_activity WHERE query LIKE %s",
            (f'%"{schema}"%',),
        ).fetchall()
    pytest.fail(f"no statement matching {pattern!r} in schema {schema} within {timeout}s; sessions now: {seen}")


def _kill(pid: int) -> None:
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "airflow" in cmdline or "python" in cmdline, cmdline  # never anything but the task process
    os.kill(pid, signal.SIGKILL)


def _tries(stack: Any, dag_id: str, run_id: str) -> dict[str, int]:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100"
    return {
        f"{ti['task_id']}[{ti['map_index']}]": ti["try_number"]
        for ti in stack.api.api("GET", path)["task_instances"]
    }


def _wait_run(stack: Any, dag_id: str, pick, timeout: float = 600) -> dict[str, Any]:
    runs = stack.wait_for_runs(
        dag_id, lambda rs: any(pick(r) and r["state"] in TERMINAL for r in rs), timeout=timeout
    )
    return next(r for r in runs if pick(r) and r["state"] in TERMINAL)


def test_killed_tasks_and_restarted_postgres_are_retried_to_an_identical_warehouse(
    stack, generator, tmp_path: Path
) -> None:
    source = os.environ["SPARKIFY_SOURCE"]
    big = tmp_path / "big"
    generator.generate(big, dt.date(2018, 11, 20), dt.date(2018, 11, 20), 100, BIG_EVENTS, 40, 0.2, 5)
    shutil.rmtree(big / "song_data")  # only the day's log joins the stack's source, its catalogue stays
    if source.startswith("s3://"):
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "s3_upload.py"), str(big), source], check=True)
    else:
        shutil.copytree(big, source, dirs_exist_ok=True)
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    url = stack.warehouse_url

    # 1. Kill the task process in the middle of the staging COPY.
    staged = stack.api.trigger_partition("sparkify_staging", BIG)
    pid, _ = _statement_pid(url, stack.schema, r"^COPY .*staging_events")
    # Hold the users dimension in SHARE mode (blocks its merge's INSERT, not reads or CREATE INDEX)
    # before the transform for this partition can start, so step 2 finds the merge in flight
    # deterministically instead of racing a statement that lasts a fraction of a second.
    blocker = psycopg.connect(url)
    blocker.execute(f'LOCK TABLE "{stack.schema}".users IN SHARE MODE')
    try:
        _kill(pid)
        staging_run = _wait_run(stack, "sparkify_staging", lambda r: r["dag_run_id"] == staged["dag_run_id"])
        assert staging_run["state"] == "success", staging_run
        assert _tries(stack, "sparkify_staging", staged["dag_run_id"])["stage_events[-1]"] >= 2

        # 2. Kill the task process in the middle of a dimension load (the asset-triggered transform
        # run): its merge into users waits on the lock, mid-statement, inside its transaction.
        pid, _ = _statement_pid(url, stack.schema, r"INSERT INTO .*users.* AS target")
        _kill(pid)
    finally:
        blocker.rollback()  # the retry's merge goes through
        blocker.close()
    transform_run = _wait_run(
        stack, "sparkify_transform", lambda r: r["partition_key"] == BIG and r["run_type"] == "asset_triggered"
    )
    assert transform_run["state"] == "success", transform_run
    tries = _tries(stack, "sparkify_transform", transform_run["dag_run_id"])
    assert max(t for k, t in tries.items() if k.startswith("load_dimension")) >= 2, tries

    # 3. Restart the warehouse Postgres while a re-run of the partition is copying.
    restaged = stack.api.trigger_partition("sparkify_staging", BIG)
    _statement_pid(url, stack.schema, r"^COPY .*staging_events")
    subprocess.run([str(REPO_ROOT / "scripts" / "postgres.sh"), "stop"], check=True, timeout=120)
    subprocess.run([str(REPO_ROOT / "scripts" / "postgres.sh"), "start"], check=True, timeout=120)
    # The local stack keeps Airflow's metadata in the same cluster: the scheduler exits when its
    # database goes away (verified: OperationalError "the database system is shutting down"), but
    # possibly only seconds later. Like a process supervisor would, airflow.sh recover restarts
    # whatever exited until every component heartbeats after the outage.
    subprocess.run([str(REPO_ROOT / "scripts" / "airflow.sh"), "recover"], check=True, timeout=900)
    rerun = _wait_run(stack, "sparkify_staging", lambda r: r["dag_run_id"] == restaged["dag_run_id"])
    assert rerun["state"] == "success", rerun
    assert _tries(stack, "sparkify_staging", restaged["dag_run_id"])["stage_events[-1]"] >= 2
    expected_transforms = 2

    # 4. S3 outage (when the stack reads from the local S3 server): crash it mid-read, start it again.
    if source.startswith("s3://"):
        outage = stack.api.trigger_partition("sparkify_staging", BIG)
        _statement_pid(url, stack.schema, r"^COPY .*staging_events")
        # Crash it (SIGKILL to its process group) rather than stop it: a graceful stop can take
        # long enough for the read to finish first, and then no fault was injected at all.
        s3_pid = int((Path(os.environ["SPARKIFY_PIDS"]) / "s3.pid").read_text().strip())
        os.killpg(s3_pid, signal.SIGKILL)
        time.sleep(5)
        subprocess.run([str(REPO_ROOT / "scripts" / "s3.sh"), "stop"], check=True, timeout=120)
        subprocess.run([str(REPO_ROOT / "scripts" / "s3.sh"), "start"], check=True, timeout=120)
        after = _wait_run(stack, "sparkify_staging", lambda r: r["dag_run_id"] == outage["dag_run_id"])
        assert after["state"] == "success", after
        assert _tries(stack, "sparkify_staging", outage["dag_run_id"])["stage_events[-1]"] >= 2
        expected_transforms = 3

    stack.wait_for_runs(
        "sparkify_transform",
        lambda rs: len([r for r in rs if r["partition_key"] == BIG]) >= expected_transforms
        and all(r["state"] in TERMINAL for r in rs),
    )
    assert {r["state"] for r in stack.api.list_dag_runs("sparkify_transform")} == {"success"}

    # The warehouse equals one undisturbed, in-process, in-order load of the same partitions.
    with psycopg.connect(url) as conn:
        keys = [k for (k,) in conn.execute(f'SELECT DISTINCT partition_key FROM "{stack.schema}".staging_events')]
    clean_schema = f"clean_{uuid.uuid4().hex[:8]}"
    document = json.loads((REPO_ROOT / "config.json").read_text())
    document["warehouse"]["schema"] = clean_schema
    config = tmp_path / "clean.json"
    config.write_text(json.dumps(document))
    clean = Project(config, clean_schema, url)
    try:
        clean.run(sorted(keys))
        disturbed = Project(config, stack.schema, url)
        assert _contract_checksums(disturbed) == _contract_checksums(clean)
        assert clean.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (BIG,)) == BIG_EVENTS
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{clean_schema}" CASCADE')
