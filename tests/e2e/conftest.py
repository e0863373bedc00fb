"""End-to-end fixtures: the real Airflow components (scheduler, dag-processor, triggerer,
api-server) of the test stack, on a fresh metadata database, with generated data.

make test (scripts/test.sh) exports the test stack's environment and starts Postgres; this
fixture owns Airflow: it stops any running test Airflow, recreates the metadata DB so earlier
runs cannot satisfy assertions, starts the components with SPARKIFY_SOURCE/SPARKIFY_CONFIG
pointing at this session's data and schema, and stops them by PID afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from sparkify_stack import airflow_api, runwatch
from tests.smtp_capture import Inbox, smtp_server

pytestmark = pytest.mark.e2e
SCRIPTS = REPO_ROOT / "scripts"
#: The days the session generates (the stack's data); tests that need them staged ask for
#: the staged_keys fixture instead of relying on an earlier test having staged them.
KEYS = ["2018-11-01", "2018-11-02", "2018-11-03"]
TERMINAL = {"success", "failed"}
#: The stack's alerts (config.json's alerts key): every event, to a local SMTP server (alerts_inbox).
#: The deadline's lookback keeps the stack's 2018 partitions unwatched; test_alerts_e2e.py watches a
#: recent day. Other tests' failures mail the inbox too, which nothing else reads.
ALERTS_CONN_ID = "sparkify_alerts"
ALERTS = {
    "conn_id": ALERTS_CONN_ID,
    "to": ["oncall@sparkify.test"],
    "from_email": "airflow@sparkify.test",
    "events": ["task_failed", "partition_skipped", "deadline_missed", "check_warned"],
    "deadline": {"hours_after_partition_end": 6, "lookback_hours": 72},
}


def server_time(value: str) -> dt.datetime:
    """A timestamp from the REST API (the server's clock) as an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Stack:
    """The running test stack and what the session generated for it."""

    api: ModuleType
    schema: str
    warehouse_url: str
    counts: dict[str, Any]

    def airflow(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(["airflow", *args], capture_output=True, text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def create_backfill(self, dag_id: str, from_date: str, to_date: str, *options: str) -> str:
        """`airflow backfill create` once no earlier backfill of dag_id is in progress: Airflow runs
        one backfill per DAG and marks a finished one complete only on a later scheduler pass."""
        if runwatch.wait_backfill_idle(dag_id, 300, 2.0, print):
            pytest.fail(f"an earlier backfill of {dag_id} is still in progress: {runwatch.active_backfills(dag_id)}")
        return self.airflow(
            "backfill", "create", "--dag-id", dag_id, "--from-date", from_date, "--to-date", to_date, *options
        )

    def wait_for_runs(
        self, dag_id: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 420, every: float = 3
    ) -> list[dict[str, Any]]:
        """Poll the REST API every `every` s until done(runs) holds; fail with the last runs seen otherwise."""
        deadline = time.monotonic() + timeout
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = self.api.list_dag_runs(dag_id)
            if done(runs):
                return runs
            time.sleep(every)
        pytest.fail(f"timed out after {timeout}s waiting for {dag_id} runs; last seen: {json.dumps(runs, default=str)}")

    def rows(self, sql: str, params: tuple = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.warehouse_url) as conn:
            conn.execute(f'SET search_path TO "{self.schema}"')
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def run_ids(self, dag_id: str) -> set[str]:
        """Ids of every run of dag_id now: take before acting, then new_runs() are the action's."""
        return {r["dag_run_id"] for r in self.api.list_dag_runs(dag_id)}

    def new_runs(self, runs: list[dict[str, Any]], before: set[str]) -> list[dict[str, Any]]:
        """The runs not in before (run ids, never clocks: runs of earlier tests stay out)."""
        return [r for r in runs if r["dag_run_id"] not in before]

    def scheduler_heartbeat(self) -> dt.datetime | None:
        beat = (self.api.health().get("scheduler") or {}).get("latest_scheduler_heartbeat")
        return server_time(beat) if beat else None

    def wait_for_scheduler_pass(self, after: dt.datetime, timeout: float = 180) -> None:
        """Wait until the scheduler has run one whole scheduling pass that began after `after`.

        `after` is a server time (e.g. a run's end_date). Airflow 3.3's scheduler loop
        (SchedulerJobRunner._run_scheduler_loop) creates DAG runs, asset- and partition-triggered
        ones included (_do_scheduling -> _create_dagruns_for_dags), at the start of each iteration
        and writes its heartbeat at the end. A heartbeat at or after `after` followed by a later
        heartbeat therefore brackets at least one complete iteration that started after `after`:
        any run the scheduler would create from the state at `after` exists once this returns,
        so "nothing was created" is then an observation, not a guess about timing.
        """
        deadline = time.monotonic() + timeout
        first: dt.datetime | None = None
        beat: dt.datetime | None = None
        while time.monotonic() < deadline:
            beat = self.scheduler_heartbeat()
            if beat is not None and beat >= after:
                if first is None:
                    first = beat
                elif beat > first:
                    return
            time.sleep(0.5)
        pytest.fail(f"no scheduler pass after {after} within {timeout}s (first beat after it: {first}, last: {beat})")


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `make test` (scripts/test.sh exports the test stack)")
    return value


def _recreate_metadata_db() -> None:
    """A clean Airflow metadata DB: no runs, backfills or asset events from earlier sessions."""
    url = _require_env("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN").replace("postgresql+psycopg2://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _upload_to_local_s3(folder: Path, uri: str) -> str:
    """Upload the generated data with scripts/s3_upload.py (creates the bucket); returns uri."""
    _require_env("SPARKIFY_S3_ENDPOINT")
    subprocess.run([sys.executable, str(SCRIPTS / "s3_upload.py"), str(folder), uri], check=True, timeout=300)
    return uri


@pytest.fixture(scope="session")
def alerts_inbox() -> Iterator[Inbox]:
    """The SMTP server the stack's alert connection points at (started before the stack).

    Every message it received is kept as $SPARKIFY_LOGS/alerts/NNN-<event>.eml (what the stack
    sent, for a failed test; scripts/alert_screenshot.py renders one for the docs).
    """
    with smtp_server() as inbox:
        yield inbox
    folder = Path(_require_env("SPARKIFY_LOGS")) / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    for number, message in enumerate(inbox.snapshot(), 1):
        (folder / f"{number:03d}-{message['X-Sparkify-Event']}.eml").write_bytes(message.as_bytes())


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, generator: ModuleType, alerts_inbox: Inbox) -> Iterator[Stack]:
    warehouse_url = _require_env("SPARKIFY_WAREHOUSE_URL")
    _require_env("AIRFLOW_HOME")
    subprocess.run([str(SCRIPTS / "airflow.sh"), "stop"], check=True, timeout=120)
    _recreate_metadata_db()

    data = tmp_path_factory.mktemp("e2e-data")
    counts = generator.generate(
        data,
        dt.date(2018, 11, 1),
        dt.date(2018, 11, 3),
        users=40,
        events_per_day=300,
        songs=40,
        match_share=0.2,
        seed=3,
    )
    schema = f"e2e_{uuid.uuid4().hex[:8]}"
    document = json.loads((REPO_ROOT / "config.json").read_text())
    document["warehouse"]["schema"] = schema
    document["alerts"] = ALERTS
    config_path = tmp_path_factory.mktemp("e2e-config") / "config.json"
    config_path.write_text(json.dumps(document))
    # The stack reads the data over the S3 API from the test stack's local S3 server, as
    # `make demo` does by default (scripts/test.sh starts it; env.sh exports aws_default).
    source_uri = _upload_to_local_s3(data, f"s3://e2e-{uuid.uuid4().hex[:10]}/sparkify")
    env = {
        "SPARKIFY_SOURCE": source_uri,
        "SPARKIFY_CONFIG": str(config_path),
        f"AIRFLOW_CONN_{ALERTS_CONN_ID.upper()}": alerts_inbox.connection(ALERTS["from_email"]),
    }
    os.environ.update(env)  # inherited by the Airflow processes and the airflow CLI calls
    try:
        subprocess.run([str(SCRIPTS / "airflow.sh"), "start"], check=True, timeout=400)
        airflow_api.wait_for_dag("sparkify_staging", timeout=180)
        airflow_api.wait_for_dag("sparkify_transform", timeout=180)
        airflow_api.wait_for_dag("sparkify_rollups", timeout=180)
        yield Stack(airflow_api, schema, warehouse_url, counts)
    finally:
        subprocess.run([str(SCRIPTS / "airflow.sh"), "stop"], check=False, timeout=120)
        for key in env:
            os.environ.pop(key, None)
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(autouse=True)
def _stack_left_usable(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the stack: every component running and no backfill in progress,
    so a test that failed half-way (a dead scheduler, a backfill still running) fails alone
    instead of every later test on the shared stack."""
    yield
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    if subprocess.run([str(SCRIPTS / "airflow.sh"), "status"], capture_output=True, check=False).returncode:
        subprocess.run([str(SCRIPTS / "airflow.sh"), "recover"], check=False, timeout=900)
    for dag_id in ("sparkify_staging", "sparkify_transform"):
        for backfill in runwatch.active_backfills(dag_id):
            try:
                stack.api.api("PUT", f"/api/v2/backfills/{backfill['id']}/cancel")
            except stack.api.AirflowApiError as error:
                if error.status != 409:  # 409: it completed meanwhile
                    raise


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def staged_keys(stack: Stack) -> list[str]:
    """Explicit setup: KEYS staged and transformed (a successful transform run per key) on the stack.

    Whatever e2e tests ran before (or none), keys without a successful transform run are staged
    now by manual runs, and their asset-triggered transform runs are awaited; keys that have one
    cost one REST call.
    """
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    done = {r["partition_key"] for r in stack.api.list_dag_runs("sparkify_transform") if r["state"] == "success"}
    missing = [key for key in KEYS if key not in done]
    if not missing:
        return KEYS
    transform_before = stack.run_ids("sparkify_transform")
    triggered = {stack.api.trigger_partition("sparkify_staging", key)["dag_run_id"] for key in missing}
    staging = stack.wait_for_runs(
        "sparkify_staging",
        lambda runs: sum(1 for r in runs if r["dag_run_id"] in triggered and r["state"] in TERMINAL) == len(missing),
    )
    assert {r["state"] for r in staging if r["dag_run_id"] in triggered} == {"success"}, staging

    def followed(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in stack.new_runs(runs, transform_before) if r["partition_key"] in missing]

    transform = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: {r["partition_key"] for r in followed(runs) if r["state"] in TERMINAL} == set(missing),
    )
    assert {r["state"] for r in followed(transform)} == {"success"}, followed(transform)
    return KEYS
