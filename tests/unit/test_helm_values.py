"""The Helm values (docs/helm/) use the settings the local stack runs with on the CeleryExecutor
(scripts/env.sh, SPARKIFY_EXECUTOR=celery), the ones `make scale-out` proves: each is declared in
env.sh and only repeated in the chart's values, so this test keeps the two from drifting apart."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HELM = REPO / "docs" / "helm"
#: env.sh's variables that the chart repeats.
NAMES = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__CORE__PARALLELISM",
    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__LOGGING__REMOTE_LOGGING",
    "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID",
    "SPARKIFY_CELERY_WORKERS",
    "SPARKIFY_WAREHOUSE_POOL_SLOTS",
)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """env.sh's values in celery mode, from an environment holding nothing that would override them."""
    state = tmp_path_factory.mktemp("helm-state")
    script = ". scripts/env.sh && " + " && ".join(f'printf "%s\\n" "${name}"' for name in NAMES)
    env = {"PATH": os.environ["PATH"], "HOME": str(state), "SPARKIFY_STATE": str(state), "SPARKIFY_EXECUTOR": "celery"}
    done = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return dict(zip(NAMES, done.stdout.splitlines(), strict=True))


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((HELM / "values.yaml").read_text())


def test_executor_and_slots_are_the_local_stacks(local: dict[str, str], values: dict) -> None:
    config = values["config"]
    assert values["executor"] == local["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert config["core"]["parallelism"] == local["AIRFLOW__CORE__PARALLELISM"]
    assert config["core"]["max_active_tasks_per_dag"] == local["AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"]
    assert config["scheduler"]["scheduler_idle_sleep_time"] == local["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"]
    assert config["celery"]["worker_concurrency"] == local["AIRFLOW__CELERY__WORKER_CONCURRENCY"]
    assert values["workers"]["replicas"] == int(local["SPARKIFY_CELERY_WORKERS"])
    # The workers' slots add up to the scheduler's parallelism, on the chart as locally.
    assert values["workers"]["replicas"] * int(config["celery"]["worker_concurrency"]) == int(
        config["core"]["parallelism"]
    )


def test_pool_is_the_local_stacks(local: dict[str, str]) -> None:
    pools = json.loads((HELM / "pools.json").read_text())
    assert pools["warehouse"]["slots"] == int(local["SPARKIFY_WAREHOUSE_POOL_SLOTS"])


def test_broker_result_backend_and_logs_are_the_local_stacks(local: dict[str, str], values: dict) -> None:
    assert local["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert values["redis"]["enabled"] is True
    # The metadata database as result backend: the chart sets none, so Airflow uses the metadata one.
    assert local["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + local["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "resultBackendConnection" not in values.get("data", {})
    assert "resultBackendSecretName" not in values.get("data", {})
    logging = values["config"]["logging"]
    assert logging["remote_logging"] == local["AIRFLOW__LOGGING__REMOTE_LOGGING"]
    assert logging["remote_log_conn_id"] == local["AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID"]
    assert logging["remote_base_log_folder"].startswith("s3://")


def test_workers_find_the_project_through_sparkify_home(values: dict) -> None:
    """As the local workers (scripts/airflow.sh start_worker): SPARKIFY_HOME, the source in S3."""
    env = {item["name"]: item["value"] for item in values["env"]}
    assert env["SPARKIFY_HOME"] == "/opt/airflow"
    assert env["SPARKIFY_SOURCE"].startswith("s3://")
    assert values["config"]["core"]["dags_folder"] == f"{env['SPARKIFY_HOME']}/dags"
    assert values["config"]["core"]["plugins_folder"] == f"{env['SPARKIFY_HOME']}/plugins"
