"""Retries back off exponentially, and a bad config.json fails the DAG import with every problem at once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

from sparkify.config import REPO_ROOT


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_retries_back_off_exponentially(dagbag: DagBag) -> None:
    """Airflow 3.3 reads retry_exponential_backoff as a multiplier: True (1.0) would be a constant delay."""
    from airflow.models.taskinstance import TaskInstance

    for dag in dagbag.dags.values():
        for task in dag.tasks:
            if not task.retries:
                continue  # checks and the sensor fail without retry on purpose
            assert task.retry_exponential_backoff >= 2, (dag.dag_id, task.task_id)
            assert task.max_retry_delay is not None
            # The scheduler's own computation: each retry waits at least as long as the base delay
            # times multiplier^(try-1), so the second retry's lower bound is above the first one's ceiling.
            ti = TaskInstance(task, run_id="retry-check", dag_version_id=uuid.uuid4())
            ti.end_date = dt.datetime(2018, 11, 1, tzinfo=dt.UTC)
            delays = []
            for try_number in (1, 2, 3):
                ti.try_number = try_number
                delays.append((ti.next_retry_datetime() - ti.end_date).total_seconds())
            base = task.retry_delay.total_seconds()
            assert base <= delays[0] <= 2 * base
            assert delays[1] >= 2 * base and delays[2] >= 4 * base, delays


def _import_errors(tmp_path: Path, document: dict) -> dict[str, str]:
    """Parse the DAG folder in a fresh interpreter with SPARKIFY_CONFIG pointing at document."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document))
    code = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        f"b = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r}); "
        "print(json.dumps({'errors': b.import_errors, 'dags': sorted(b.dag_ids)}))"
    )
    import os

    env = {**os.environ, "SPARKIFY_CONFIG": str(config), "PYTHONPATH": str(REPO_ROOT / "plugins")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["dags"] == []  # nothing is built from a half-valid config
    return result["errors"]


def test_bad_config_fails_import_listing_every_problem(tmp_path: Path) -> None:
    document = json.loads((REPO_ROOT / "config.json").read_text())
    document["source"]["bucket"] = "x"  # unknown key
    document["source"]["wait_timeout_hours"] = "six"  # wrong type
    document["warehouse"]["schema"] = "Public; DROP"  # bad identifier
    document["fact"]["sql"] = "marts/nope.sql"  # missing SQL file
    document["dimensions"].append(dict(document["dimensions"][1]))  # duplicate table name
    document["dimensions"][2]["key"] = ["song_ident"]  # key not a column of sql/ddl/songs.sql

    errors = _import_errors(tmp_path, document)
    dags = REPO_ROOT / "dags"
    names = ("staging", "transform", "rollups", "sweep")
    assert set(map(Path, errors)) == {dags / f"sparkify_{name}.py" for name in names}
    for message in errors.values():
        assert message.count("invalid config") == 1  # one error per file, listing them all
        for fragment in (
            "$.source.bucket: unknown key",
            "$.source.wait_timeout_hours: 'six' is not of type 'number'",
            "$.warehouse.schema: 'Public; DROP' is not a valid identifier",
            "$.fact.sql: SQL file not found",
            "$.dimensions[4].name: duplicate table name 'songs'",
            "$.dimensions[2].key[0]: column 'song_ident' is not in table 'artists'",
        ):
            assert fragment in message, (fragment, message)
