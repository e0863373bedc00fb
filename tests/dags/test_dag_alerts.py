"""The DAGs carry config.json's alerts where each event happens, and nothing when alerts are absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization

from sparkify.config import REPO_ROOT
from sparkify.notifier import SparkifyNotifier

DAGS = ("sparkify_staging", "sparkify_transform", "sparkify_rollups")
#: The late-data sweep's runs have no partition (no deadline) and check several days at once (no
#: per-partition digest): only its failures alert.
EVERY_DAG = (*DAGS, "sparkify_sweep")
ALERTS = {
    "conn_id": "sparkify_alerts",
    "to": ["oncall@sparkify.example"],
    "events": ["task_failed", "partition_skipped", "deadline_missed", "check_warned"],
    "deadline": {"hours_after_partition_end": 6},
}


def _events(callbacks: object) -> list[str]:
    return [c.event for c in callbacks or () if isinstance(c, SparkifyNotifier)]


def _callbacks(task: object, kind: str) -> object:
    """A task's callbacks of one kind; a mapped task keeps them in its partial kwargs."""
    partial = getattr(task, "partial_kwargs", None)
    return partial.get(kind) if partial is not None else getattr(task, kind)


@pytest.fixture(scope="module")
def alerting_dagbag(tmp_path_factory: pytest.TempPathFactory) -> DagBag:
    document = json.loads((REPO_ROOT / "config.json").read_text(encoding="utf-8"))
    document["alerts"] = ALERTS
    path: Path = tmp_path_factory.mktemp("alerts") / "config.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARKIFY_CONFIG", str(path))
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag


def test_every_task_alerts_when_it_fails(alerting_dagbag: DagBag) -> None:
    assert set(alerting_dagbag.dag_ids) == set(EVERY_DAG)
    for dag_id in EVERY_DAG:
        for task in alerting_dagbag.dags[dag_id].tasks:
            assert _events(_callbacks(task, "on_failure_callback")) == ["task_failed"], (dag_id, task.task_id)
            assert _events(_callbacks(task, "on_retry_callback")) == [], (dag_id, task.task_id)  # a retry is not news


def test_only_the_staging_sensor_alerts_on_skip(alerting_dagbag: DagBag) -> None:
    skipping = {
        (dag_id, task.task_id)
        for dag_id in EVERY_DAG
        for task in alerting_dagbag.dags[dag_id].tasks
        if _events(_callbacks(task, "on_skipped_callback"))
    }
    assert skipping == {("sparkify_staging", "wait_for_partition")}  # request_rollup skips by design


def test_each_publish_sends_the_check_digest(alerting_dagbag: DagBag) -> None:
    digests = {
        (dag_id, task.task_id, getattr(c, "checks_task_id", None))
        for dag_id in EVERY_DAG
        for task in alerting_dagbag.dags[dag_id].tasks
        for c in _callbacks(task, "on_success_callback") or ()
    }
    assert digests == {(dag_id, "publish", "check") for dag_id in DAGS}


def test_each_dag_has_the_partition_deadline_serialised_for_the_scheduler(alerting_dagbag: DagBag) -> None:
    assert not alerting_dagbag.dags["sparkify_sweep"].deadline
    for dag_id in DAGS:
        [alert] = DagSerialization.to_dict(alerting_dagbag.dags[dag_id])["dag"]["deadline"]
        assert alert["reference"] == {
            "reference_type": "PartitionEndDeadline",
            "watch_seconds": 30 * 3600.0,
            "__class_path": "sparkify.deadline.PartitionEndDeadline",
        }
        assert alert["interval"]["__data__"] == 6 * 3600
        assert alert["callback"]["__data__"]["path"] == "sparkify.notifier.SparkifyNotifier"


def test_without_alerts_no_dag_carries_any() -> None:
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    for dag_id in EVERY_DAG:
        dag = bag.dags[dag_id]
        assert not dag.deadline
        for task in dag.tasks:
            for kind in ("on_failure_callback", "on_skipped_callback", "on_success_callback"):
                assert not _callbacks(task, kind), (dag_id, task.task_id, kind)
