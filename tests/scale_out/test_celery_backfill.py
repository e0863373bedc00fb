"""Scale-out proven: the staging + transform backfill of three days on the CeleryExecutor (Redis
broker, metadata Postgres as result backend, two workers), every run successful, both workers
running tasks, each from its own copy of the code and config with no way to the repo's files, and
the warehouse identical to an in-process load of the same objects.

In-process means the operators' execute() in this process, as tests/integration runs them: the
e2e suite already holds the LocalExecutor stack to exactly that (tests/e2e/test_faults.py), so equal
to it is equal to the LocalExecutor result.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from sparkify_stack import runwatch
from tests.e2e.conftest import KEYS
from tests.integration.conftest import Project
from tests.scale_out.conftest import Backfill, CeleryStack

pytestmark = pytest.mark.scale_out

#: The Celery worker's log line for each task it runs (airflow.providers.celery's execute_workload):
#: the task instance's id and try.
WORKLOAD = re.compile(
    r"Executing workload in Celery: .*?ti=TaskInstanceDTO\(id=UUID\('([0-9a-f-]+)'\).*?try_number=(\d+)"
)
#: Variables that name the repo, the stack's state or its secrets: none may reach a worker.
STACK_ONLY = {
    "REPO", "SPARKIFY_STATE", "SPARKIFY_SECRETS", "SPARKIFY_CONFIG", "SPARKIFY_LOGS", "SPARKIFY_PIDS",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "SPARKIFY_PG_PASSWORD", "SPARKIFY_REDIS_PASSWORD",
}  # fmt: skip
#: The secrets of the stack (env.sh): none may appear in a log.
SECRETS = ("SPARKIFY_REDIS_PASSWORD", "SPARKIFY_PG_PASSWORD", "SPARKIFY_S3_SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY")


def _ran_on(stack: CeleryStack) -> dict[tuple[str, int], list[str]]:
    """(task instance id, try) -> the workers whose log shows they executed it."""
    out: dict[tuple[str, int], list[str]] = defaultdict(list)
    for worker in stack.workers:
        for line in (stack.logs / f"{worker}.log").read_text(errors="replace").splitlines():
            if found := WORKLOAD.search(line):
                out[(found[1], int(found[2]))].append(worker)
    return out


def test_every_run_succeeds(backfill: Backfill) -> None:
    assert sorted(r["partition_key"] for r in backfill.staging) == KEYS
    assert sorted(r["partition_key"] for r in backfill.transform) == KEYS, "exactly one transform run per day"
    failed = [(r["dag_id"], r["partition_key"], r["state"]) for r in backfill.staging + backfill.transform
              if r["state"] != "success"]  # fmt: skip
    assert failed == [], runwatch.failure_note([(d, r) for d, r in backfill.runs() if r["state"] != "success"])


def test_both_workers_ran_tasks(celery_stack: CeleryStack, backfill: Backfill, summary: dict[str, str]) -> None:
    tis = [ti for ti in runwatch.task_instances(backfill.runs()) if ti["state"] == "success"]
    assert tis, "no successful task instance"
    ran_on = _ran_on(celery_stack)
    where = {(ti["id"], ti["try_number"]): ran_on.get((ti["id"], ti["try_number"]), []) for ti in tis}
    assert {key: workers for key, workers in where.items() if len(workers) != 1} == {}, (
        "every successful try ran on exactly one worker"
    )
    per_worker = {w: sum(workers == [w] for workers in where.values()) for w in celery_stack.workers}
    summary["successful task instances per worker"] = str(per_worker)
    assert all(per_worker.values()), f"a worker ran none of the backfill's tasks: {per_worker}"


def test_workers_run_their_own_copy_outside_the_repo(celery_stack: CeleryStack, backfill: Backfill) -> None:
    """Each worker runs from its folder outside the repo, on its own copy of the code, config and
    SQL, with no variable naming the repo, the stack's state or its secrets; its home has no data
    folder, so config.json's folder source would resolve to nothing; the source data exists only
    in S3 (the fixture deleted the generated folder after the upload)."""
    assert backfill.staging  # the workers have run tasks
    repo = REPO_ROOT.resolve()
    for worker in celery_stack.workers:
        folder = celery_stack.worker_dir(worker).resolve()
        assert not folder.is_relative_to(repo)
        pid = int((Path(os.environ["SPARKIFY_PIDS"]) / f"{worker}.pid").read_text())
        assert Path(f"/proc/{pid}/cwd").resolve() == folder, f"{worker} runs elsewhere"
        names = set((folder / "environment").read_text().split())
        assert names & STACK_ONLY == set(), f"{worker} was given {names & STACK_ONLY}"
        assert {"SPARKIFY_HOME", "SPARKIFY_SOURCE", "AIRFLOW_CONN_SPARKIFY_WAREHOUSE"} <= names
        home = folder / "home"
        assert json.loads((home / "config.json").read_text())["warehouse"]["schema"] == celery_stack.schema
        assert not (home / "data").exists()
        # start_worker removed the copied bytecode: what is there now, the worker's tasks compiled
        # when they imported the package from this copy (and not from the repo's plugins/).
        assert list((home / "plugins" / "sparkify" / "__pycache__").glob("staging*.pyc")), (
            f"{worker} did not import sparkify from {home}/plugins"
        )


def test_warehouse_equals_an_in_process_load(celery_stack: CeleryStack, backfill: Backfill, tmp_path: Path) -> None:
    assert {r["state"] for r in backfill.staging + backfill.transform} == {"success"}
    schema = f"inproc_{uuid.uuid4().hex[:8]}"
    document = json.loads(celery_stack.config_path.read_text())
    document["warehouse"]["schema"] = schema
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(document))
    celery = Project(celery_stack.config_path, celery_stack.schema, celery_stack.warehouse_url)
    in_process = Project(config_path, schema, celery_stack.warehouse_url)
    try:
        in_process.run(KEYS)  # the same objects: SPARKIFY_SOURCE is the stack's S3 URI
        expected = in_process.checksums()
        assert celery.scalar("SELECT count(*) FROM songplays") > 0
        assert celery.checksums() == expected
    finally:
        with psycopg.connect(celery_stack.warehouse_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_task_logs_of_both_workers_read_through_the_api(celery_stack: CeleryStack, backfill: Backfill) -> None:
    """Each worker writes task logs into its own folder; the api-server shows them from S3."""
    ran_on = _ran_on(celery_stack)
    first: dict[str, dict] = {}
    for ti in runwatch.task_instances(backfill.runs(), states=["success"]):
        for worker in ran_on.get((ti["id"], ti["try_number"]), []):
            first.setdefault(worker, ti)
    assert sorted(first) == celery_stack.workers
    for worker, ti in first.items():
        path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}"
                f"/logs/{ti['try_number']}?map_index={ti['map_index']}")  # fmt: skip
        text = json.dumps(celery_stack.api.api("GET", path))
        assert os.environ["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] in text, f"{worker}'s log not read from S3"
        assert ti["id"] in text


def test_no_secret_in_any_log(celery_stack: CeleryStack, backfill: Backfill) -> None:
    secrets = {name: os.environ[name] for name in SECRETS}
    assert backfill.staging
    folders = [celery_stack.logs, *(celery_stack.worker_dir(w) / "airflow" / "logs" for w in celery_stack.workers)]
    files = [p for folder in folders for p in folder.rglob("*.log") if p.is_file()]
    assert len(files) > len(celery_stack.workers)
    leaks = [f"{name} in {path}" for path in files for name, value in secrets.items()
             if value in path.read_text(errors="replace")]  # fmt: skip
    assert leaks == []
