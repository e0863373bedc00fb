"""Scale-out fixtures: the stack on the CeleryExecutor (SPARKIFY_EXECUTOR=celery), with Redis as the
broker and two Celery workers that each run from their own folder, and a staging backfill on it.

`make scale-out` (scripts/scale_out.sh) exports the celery environment and starts Postgres, the local
S3 server and Redis; this fixture owns Airflow, as tests/e2e does: it stops any running Airflow of
the stack, recreates the metadata DB, generates the days into a temporary folder, uploads them to
the local S3 server and deletes the folder (the source exists only behind the S3 API from then
on), starts the components and the workers, and stops them by PID afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest

from sparkify.config import REPO_ROOT
from sparkify_stack import airflow_api
from tests.e2e.conftest import (
    KEYS,
    SCRIPTS,
    TERMINAL,
    Stack,
    _recreate_metadata_db,
    _require_env,
    _upload_to_local_s3,
)

pytestmark = pytest.mark.scale_out
#: What the session measured, printed at the end of the run (docs/scale-out.md quotes it).
SUMMARY: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name, value in SUMMARY.items():
        terminalreporter.write_line(f"[scale-out] {name}: {value}")


@pytest.fixture
def summary() -> dict[str, str]:
    """SUMMARY, for the tests to add to (a fixture: importing this conftest would load a copy)."""
    return SUMMARY


@dataclass
class CeleryStack(Stack):
    """The running Celery stack: the e2e Stack helpers plus where the workers live."""

    source_uri: str = ""
    config_path: Path = Path()
    workers: list[str] = field(default_factory=list)
    worker_root: Path = Path()
    logs: Path = Path()

    def worker_dir(self, name: str) -> Path:
        return self.worker_root / name


@dataclass
class Backfill:
    """The staging backfill of KEYS on the Celery stack and the transform runs it triggered."""

    staging: list[dict[str, Any]]
    transform: list[dict[str, Any]]
    seconds: float

    def runs(self) -> list[tuple[str, dict[str, Any]]]:
        return [("sparkify_staging", r) for r in self.staging] + [("sparkify_transform", r) for r in self.transform]


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory, generator: ModuleType) -> Iterator[CeleryStack]:
    if os.environ.get("SPARKIFY_EXECUTOR") != "celery":
        pytest.fail("SPARKIFY_EXECUTOR is not celery: run the scale-out test with `make scale-out`")
    warehouse_url = _require_env("SPARKIFY_WAREHOUSE_URL")
    subprocess.run([str(SCRIPTS / "airflow.sh"), "stop"], check=True, timeout=120)
    _recreate_metadata_db()

    data = tmp_path_factory.mktemp("scale-out-data")
    counts = generator.generate(
        data, dt.date.fromisoformat(KEYS[0]), dt.date.fromisoformat(KEYS[-1]),
        users=40, events_per_day=300, songs=40, match_share=0.2, seed=16,
    )  # fmt: skip
    source_uri = _upload_to_local_s3(data, f"s3://scale-out-{uuid.uuid4().hex[:10]}/sparkify")
    shutil.rmtree(data)  # from here on the days exist only behind the S3 API
    schema = f"celery_{uuid.uuid4().hex[:8]}"
    document = json.loads((REPO_ROOT / "config.json").read_text())
    document["warehouse"]["schema"] = schema
    config_path = tmp_path_factory.mktemp("scale-out-config") / "config.json"
    config_path.write_text(json.dumps(document))
    env = {"SPARKIFY_SOURCE": source_uri, "SPARKIFY_CONFIG": str(config_path)}
    os.environ.update(env)  # inherited by scripts/airflow.sh (the workers get a copy of the config)
    workers = [f"celery-worker-{i}" for i in range(1, int(_require_env("SPARKIFY_CELERY_WORKERS")) + 1)]
    try:
        started = time.monotonic()
        subprocess.run([str(SCRIPTS / "airflow.sh"), "start"], check=True, timeout=600)
        SUMMARY["stack start (db migrate, 4 components, 2 workers)"] = f"{time.monotonic() - started:.0f} s"
        for dag_id in ("sparkify_staging", "sparkify_transform"):
            airflow_api.wait_for_dag(dag_id, timeout=180)
        yield CeleryStack(
            airflow_api, schema, warehouse_url, counts,
            source_uri=source_uri, config_path=config_path, workers=workers,
            worker_root=Path(_require_env("SPARKIFY_CELERY_ROOT")), logs=Path(_require_env("SPARKIFY_LOGS")),
        )  # fmt: skip
    finally:
        subprocess.run([str(SCRIPTS / "airflow.sh"), "stop"], check=False, timeout=180)
        for key in env:
            os.environ.pop(key, None)
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def backfill(celery_stack: CeleryStack) -> Backfill:
    """`airflow backfill create` of sparkify_staging over KEYS, then every transform run it triggers,
    all finished (whatever their state: the tests judge them)."""
    stack = celery_stack
    # Both unpaused: a paused DAG's backfill runs stay queued, and the transform runs on the assets.
    stack.api.unpause("sparkify_transform")
    stack.api.unpause("sparkify_staging")
    staging_before = stack.run_ids("sparkify_staging")
    transform_before = stack.run_ids("sparkify_transform")
    started = time.monotonic()
    stack.create_backfill("sparkify_staging", KEYS[0], KEYS[-1])

    def ours(runs: list[dict[str, Any]], run_type: str) -> list[dict[str, Any]]:
        before = staging_before if run_type == "backfill" else transform_before
        return [r for r in stack.new_runs(runs, before) if r["run_type"] == run_type and r["partition_key"] in KEYS]

    staging = stack.wait_for_runs(
        "sparkify_staging",
        lambda runs: sum(r["state"] in TERMINAL for r in ours(runs, "backfill")) == len(KEYS),
        timeout=1200,
    )
    transform = stack.wait_for_runs(
        "sparkify_transform",
        lambda runs: sum(r["state"] in TERMINAL for r in ours(runs, "asset_triggered")) >= len(KEYS),
        timeout=1200,
    )
    seconds = time.monotonic() - started
    SUMMARY[f"staging backfill of {len(KEYS)} days + their transform runs"] = f"{seconds:.0f} s"
    return Backfill(ours(staging, "backfill"), ours(transform, "asset_triggered"), seconds)
