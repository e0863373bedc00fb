"""Faults on the real stack: the task process is SIGKILLed in the middle of a staging COPY and of a
dimension load, and the warehouse Postgres is restarted during a staging COPY. Airflow's retries
(exponential backoff) must finish every run, and the warehouse must equal an undisturbed load.

The Postgres restart also takes down the local Airflow scheduler (its metadata DB lives in the same
cluster), so the test restarts exited components with scripts/airflow.sh start, as a supervisor would;
the warehouse task itself fails with the dropped connection and is retried.

Every fault lands while its statement is provably in flight, never in a race with it finishing:
- the staging COPY is held halfway: before the run starts, the test inserts (uncommitted) a row with
  the primary key of an early line of the big day, so the COPY loads the lines before it and waits for
  the test's transaction on that key; the fault is injected once pg_stat_activity shows the COPY
  blocked by the test's session (pg_blocking_pids), and only then is the row released;
- the dimension merge waits on a SHARE lock the test holds on users.
The test maps the blocked backend's client port to the process that owns the socket (`ss -tnp`)
and kills exactly that process (the task runner), by PID. Every wait polls an observable state
(statement blocked, S3 port refusing connections, the try failed) with a deadline.

Independent of the other e2e tests: it counts only the transform runs created after it started,
and the undisturbed load it compares with replays what the stack's warehouse holds (every staged
partition staged, every partition with a successful transform run transformed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from sparkify.operators.ensure_schema import EnsureSchemaOperator
from tests.e2e.conftest import TERMINAL
from tests.integration.conftest import Project

BIG = "2018-11-20"
BIG_EVENTS = 150_000
BIG_OBJECT = f"log_data/2018/11/{BIG}-events.json"  # the day's one object: staging_events.source_key
# The COPY stops here while the test holds this line's key. Early in the object on purpose: the
# reader runs at most its bounded prefetch + COPY queue (a few MB) ahead of the COPY, so for the S3
# outage most of the ~75 MB object is provably still unread (held at mid-object, a full run once
# saw the read finish before the COPY got there, and the outage hit nothing).
HELD_LINE = 1_000


def _contract_checksums(project: Project) -> dict[str, str]:
    sums = project.checksums()
    sums.pop("dq_results", None)  # append-only audit log of check runs, not under the contract
    return sums


def _hold_copy(url: str, schema: str) -> psycopg.Connection:
    """An open transaction holding the primary key (BIG, BIG_OBJECT, HELD_LINE, 1) of staging_events.

    The task's DELETE of the partition does not see this uncommitted row; its COPY then inserts
    lines up to HELD_LINE and waits on this transaction (a unique-key wait, mid-statement) until
    _release ends it. The schema must exist first (see _ensure_schema). On a re-run the partition
    already holds that line, committed: it is deleted first (the run replaces the whole partition
    anyway, and the final comparison with an undisturbed load would catch a line left missing).
    """
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute(
            f'DELETE FROM "{schema}".staging_events WHERE partition_key = %s AND source_key = %s AND line_number = %s',
            (BIG, BIG_OBJECT, HELD_LINE),
        )
    conn = psycopg.connect(url)
    conn.execute(
        f'INSERT INTO "{schema}".staging_events (partition_key, source_key, line_number, record_in_line, ts, user_id,'
        " page) VALUES (%s, %s, %s, 1, 0, 'held-by-test', 'Home')",
        (BIG, BIG_OBJECT, HELD_LINE),
    )
    return conn


def _release(conn: psycopg.Connection) -> None:
    """End the holding transaction (rolled back: the row never existed); a dead session is fine."""
    try:
        conn.rollback()
    except psycopg.Error:
        pass  # its server was restarted: the transaction is gone already
    conn.close()


def _ensure_schema() -> None:
    """The stack's tables, created by the product's own operator (idempotent), so _hold_copy can
    insert its row before the first staging run of a fresh stack."""
    EnsureSchemaOperator(task_id="ensure_schema", config_path=os.environ["SPARKIFY_CONFIG"]).execute({})


def _statement_pid(
    url: str, schema: str, pattern: str, blocked_by: int | None = None, timeout: float = 240
) -> tuple[int, str]:
    """PID of the process whose warehouse session is running a statement matching pattern in schema
    (with blocked_by: a statement waiting for that backend, i.e. provably in flight)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT client_port, query FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                " AND query LIKE %s AND query ~ %s AND (%s::int IS NULL OR %s::int = ANY(pg_blocking_pids(pid)))",
                (f'%"{schema}"%', pattern, blocked_by, blocked_by),
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


def _wait_try_failed(stack: Any, dag_id: str, run_id: str, task_id: str, timeout: float = 300) -> None:
    """Wait until the task's first try has failed (up for retry, or already on a later try)."""
    deadline = time.monotonic() + timeout
    ti: dict[str, Any] = {}
    while time.monotonic() < deadline:
        ti = stack.api.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        if ti["state"] in ("up_for_retry", "failed") or ti["try_number"] >= 2:
            return
        time.sleep(0.5)
    pytest.fail(f"{dag_id}/{run_id}/{task_id}: first try did not fail within {timeout}s; last: {ti}")


def _wait_refused(endpoint: str, timeout: float = 60) -> None:
    """Wait until nothing accepts connections at endpoint's host:port (the server is gone)."""
    parts = urlsplit(endpoint)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=1).close()
        except ConnectionRefusedError:
            return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{endpoint} still accepts connections {timeout}s after its server was killed")


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
    assert [p.relative_to(big).as_posix() for p in big.rglob("*") if p.is_file()] == [BIG_OBJECT]
    if source.startswith("s3://"):
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "s3_upload.py"), str(big), source], check=True)
    else:
        shutil.copytree(big, source, dirs_exist_ok=True)
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    url = stack.warehouse_url
    _ensure_schema()
    transform_before = stack.run_ids("sparkify_transform")

    def ours(run: dict[str, Any]) -> bool:
        return run["dag_run_id"] not in transform_before and run["partition_key"] == BIG

    def settled(count: int) -> list[dict[str, Any]]:
        """This test's first `count` transform runs exist and none is running: _hold_copy's delete
        of one staged line must never be seen by a transform (its checks would rightly fail)."""
        return stack.wait_for_runs(
            "sparkify_transform",
            lambda rs: len([r for r in rs if ours(r)]) >= count
            and all(r["state"] in TERMINAL for r in stack.new_runs(rs, transform_before)),
        )

    # 1. Kill the task process in the middle of the staging COPY (held at HELD_LINE).
    held = _hold_copy(url, stack.schema)
    staged = stack.api.trigger_partition("sparkify_staging", BIG)
    pid, _ = _statement_pid(url, stack.schema, r"^COPY .*staging_events", blocked_by=held.info.backend_pid)
    # Hold the users dimension in SHARE mode (blocks its merge's INSERT, not reads or CREATE INDEX)
    # before the transform for this partition can start, so step 2 finds the merge in flight
    # deterministically instead of racing a statement that lasts a fraction of a second.
    blocker = psycopg.connect(url)
    blocker.execute(f'LOCK TABLE "{stack.schema}".users IN SHARE MODE')
    try:
        try:
            _kill(pid)
        finally:
            _release(held)  # the orphaned COPY fails on its closed client; the retry loads every line
        staging_run = _wait_run(stack, "sparkify_staging", lambda r: r["dag_run_id"] == staged["dag_run_id"])
        assert staging_run["state"] == "success", staging_run
        assert _tries(stack, "sparkify_staging", staged["dag_run_id"])["stage_events[-1]"] >= 2

        # 2. Kill the task process in the middle of a dimension load (the asset-triggered transform
        # run): its merge into users waits on the lock, mid-statement, inside its transaction.
        merge = r"INSERT INTO .*users.* AS target"
        pid, _ = _statement_pid(url, stack.schema, merge, blocked_by=blocker.info.backend_pid)
        _kill(pid)
    finally:
        blocker.rollback()  # the retry's merge goes through
        blocker.close()
    transform_run = _wait_run(
        stack, "sparkify_transform", lambda r: ours(r) and r["run_type"] == "asset_triggered"
    )
    assert transform_run["state"] == "success", transform_run
    tries = _tries(stack, "sparkify_transform", transform_run["dag_run_id"])
    assert max(t for k, t in tries.items() if k.startswith("load_dimension")) >= 2, tries

    # 3. Restart the warehouse Postgres while a re-run of the partition is copying (held again:
    # the COPY cannot finish before the server goes down).
    settled(1)
    held = _hold_copy(url, stack.schema)
    restaged = stack.api.trigger_partition("sparkify_staging", BIG)
    _statement_pid(url, stack.schema, r"^COPY .*staging_events", blocked_by=held.info.backend_pid)
    subprocess.run([str(REPO_ROOT / "scripts" / "postgres.sh"), "stop"], check=True, timeout=120)
    _release(held)  # went down with the server
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
        settled(2)
        held = _hold_copy(url, stack.schema)
        outage = stack.api.trigger_partition("sparkify_staging", BIG)
        try:
            _statement_pid(url, stack.schema, r"^COPY .*staging_events", blocked_by=held.info.backend_pid)
            # Crash it (SIGKILL to its process group) rather than stop it: a graceful stop can take
            # long enough for the read to finish first, and then no fault was injected at all.
            s3_pid = int((Path(os.environ["SPARKIFY_PIDS"]) / "s3.pid").read_text().strip())
            os.killpg(s3_pid, signal.SIGKILL)
            _wait_refused(os.environ["SPARKIFY_S3_ENDPOINT"])
        finally:
            # The COPY goes on; the object's second half has to come from the dead server.
            _release(held)
        try:
            _wait_try_failed(stack, "sparkify_staging", outage["dag_run_id"], "stage_events")
        finally:  # never leave the session's S3 server down for the tests after this one
            subprocess.run([str(REPO_ROOT / "scripts" / "s3.sh"), "stop"], check=True, timeout=120)
            subprocess.run([str(REPO_ROOT / "scripts" / "s3.sh"), "start"], check=True, timeout=120)
        after = _wait_run(stack, "sparkify_staging", lambda r: r["dag_run_id"] == outage["dag_run_id"])
        assert after["state"] == "success", after
        assert _tries(stack, "sparkify_staging", outage["dag_run_id"])["stage_events[-1]"] >= 2
        expected_transforms = 3

    runs = settled(expected_transforms)
    assert {r["state"] for r in stack.new_runs(runs, transform_before)} == {"success"}

    # The warehouse equals one undisturbed, in-process, in-order load of the same partitions: every
    # partition the stack staged is staged, and every one with a successful transform run (this
    # test's, or another e2e test's) transformed.
    with psycopg.connect(url) as conn:
        keys = [k for (k,) in conn.execute(f'SELECT DISTINCT partition_key FROM "{stack.schema}".staging_events')]
    transformed = {r["partition_key"] for r in stack.api.list_dag_runs("sparkify_transform") if r["state"] == "success"}
    assert BIG in transformed
    clean_schema = f"clean_{uuid.uuid4().hex[:8]}"
    document = json.loads((REPO_ROOT / "config.json").read_text())
    document["warehouse"]["schema"] = clean_schema
    config = tmp_path / "clean.json"
    config.write_text(json.dumps(document))
    clean = Project(config, clean_schema, url)
    try:
        for key in sorted(keys):
            clean.stage(key)
            if key in transformed:
                clean.transform(key)
        disturbed = Project(config, stack.schema, url)
        assert _contract_checksums(disturbed) == _contract_checksums(clean)
        assert clean.scalar("SELECT COUNT(*) FROM staging_events WHERE partition_key = %s", (BIG,)) == BIG_EVENTS
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{clean_schema}" CASCADE')
