"""What the DAGs attach for config.json's alerts (sparkify.alerts), and the partition deadline (sparkify.deadline)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from airflow.sdk import AsyncCallback

from sparkify import alerts
from sparkify.config import REPO_ROOT, AlertsConfig, Config, DeadlineConfig, load_config
from sparkify.deadline import PartitionEndDeadline, watched_partition_end
from sparkify.notifier import SparkifyNotifier
from sparkify.partitions import partition_end
from sparkify.project import DEFAULT_ARGS
from tests.conftest import load_script

EVERY_EVENT = ("task_failed", "partition_skipped", "deadline_missed", "check_warned")


#: The shipped config.json, whatever SPARKIFY_CONFIG says (the e2e session points it at its own,
#: which has alerts).
SHIPPED = REPO_ROOT / "config.json"


def with_alerts(events: tuple[str, ...] = EVERY_EVENT, deadline: DeadlineConfig | None = None) -> Config:
    config = load_config(SHIPPED)
    if "deadline_missed" in events and deadline is None:
        deadline = DeadlineConfig(hours_after_partition_end=6.0)
    settings = AlertsConfig(conn_id="sparkify_alerts", to=("a@x.example", "b@x.example"), events=events,
                            from_email="airflow@x.example", deadline=deadline)  # fmt: skip
    return dataclasses.replace(config, alerts=settings)


def test_without_alerts_nothing_is_attached() -> None:
    config = load_config(SHIPPED)
    assert config.alerts is None
    assert alerts.default_args(config) == DEFAULT_ARGS
    assert alerts.deadline(config) is None
    assert alerts.on_partition_skipped(config) == []
    assert alerts.on_checks_warned(config, "check") == []


def test_each_event_is_attached_where_it_happens() -> None:
    config = with_alerts()
    args = alerts.default_args(config)
    assert {k: v for k, v in args.items() if k != "on_failure_callback"} == DEFAULT_ARGS
    [failed] = args["on_failure_callback"]
    [skipped] = alerts.on_partition_skipped(config)
    [warned] = alerts.on_checks_warned(config, "check")
    assert [type(n) for n in (failed, skipped, warned)] == [SparkifyNotifier] * 3
    assert (failed.event, skipped.event, warned.event) == ("task_failed", "partition_skipped", "check_warned")
    assert warned.checks_task_id == "check"
    assert failed.to == "a@x.example, b@x.example" and failed.conn_id == "sparkify_alerts"
    assert failed.from_email == "airflow@x.example"
    # The passwords a message must never show: the mail server's, the warehouse's and the source's.
    assert failed.secret_conn_ids == "aws_default,sparkify_alerts,sparkify_warehouse"


def test_only_the_configured_events() -> None:
    config = with_alerts(events=("partition_skipped",))
    assert "on_failure_callback" not in alerts.default_args(config)
    assert alerts.deadline(config) is None
    assert alerts.on_checks_warned(config, "check") == []
    assert len(alerts.on_partition_skipped(config)) == 1


def test_the_deadline_is_the_partition_end_plus_the_configured_hours() -> None:
    config = with_alerts(deadline=DeadlineConfig(hours_after_partition_end=6.0, lookback_hours=24.0))
    alert = alerts.deadline(config)
    assert alert is not None and alert.name == "partition deadline"
    assert alert.interval == dt.timedelta(hours=6)
    assert alert.reference == PartitionEndDeadline(watch_seconds=30 * 3600)
    assert isinstance(alert.callback, AsyncCallback)  # awaited in the triggerer
    assert alert.callback.path == "sparkify.notifier.SparkifyNotifier"
    assert alert.callback.kwargs["event"] == "deadline_missed"
    # Serialised and hashed by Airflow: plain strings only.
    assert all(isinstance(v, str) for v in alert.callback.kwargs.values())
    hash(alert)


def test_partition_end_of_a_day_and_a_month() -> None:
    assert partition_end("2018-11-05") == dt.datetime(2018, 11, 6, tzinfo=dt.UTC)
    assert partition_end("2018-12-31") == dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    assert partition_end("2018-11") == dt.datetime(2018, 12, 1, tzinfo=dt.UTC)
    assert partition_end("2018-12") == dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    for key in ("2018-13-45", "2018-13", "2018-00", "2018-11-3x", "", None):
        assert partition_end(key) is None, key


@pytest.mark.parametrize(
    ("created", "watched"),
    [
        (dt.datetime(2018, 11, 6, 0, 0, tzinfo=dt.UTC), True),  # the scheduled run, at the day's end
        (dt.datetime(2018, 11, 7, 12, 0, tzinfo=dt.UTC), True),  # late, but within the watch
        (dt.datetime(2018, 11, 7, 12, 0, 1, tzinfo=dt.UTC), False),  # a re-run of history
        (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), False),  # a backfill years later
    ],
)
def test_runs_created_long_after_their_deadline_are_not_watched(created: dt.datetime, watched: bool) -> None:
    end = watched_partition_end("2018-11-05", created, dt.timedelta(hours=36))
    assert end == (dt.datetime(2018, 11, 6, tzinfo=dt.UTC) if watched else None)


def test_the_reference_survives_serialisation_and_is_registered() -> None:
    reference = PartitionEndDeadline(watch_seconds=1234.5)
    data = reference.serialize_reference()
    assert data == {"reference_type": "PartitionEndDeadline", "watch_seconds": 1234.5}
    assert PartitionEndDeadline.deserialize_reference(data) == reference
    assert PartitionEndDeadline.required_kwargs == {"dag_id", "run_id"}
    plugin = load_script("sparkify_plugin", folder="plugins")
    assert PartitionEndDeadline in plugin.SparkifyPlugin.deadline_references
