"""config.json's ``alerts`` as what the DAGs attach: task callbacks and a deadline alert.

The DAG files stay wiring: each asks this module for its default_args, its deadline and the
callbacks of the two tasks an alert is specific to, and gets nothing extra when ``alerts`` is
absent (no callback objects, no deadline rows, no cost). Which Airflow hook carries which event:

=================== ======================================================================
task_failed         ``on_failure_callback`` in default_args: every task, once it is FAILED (after
                    its retries, or at once for AirflowFailException); a retry is not a failure
partition_skipped   ``on_skipped_callback`` of ``wait_for_partition`` only: its soft_fail timeout
                    is the one skip that means "the file never arrived" (request_rollup skips
                    by design)
deadline_missed     the DAG's ``deadline``: Airflow's DeadlineAlert, referenced to the partition's
                    end (sparkify.deadline), its callback awaited in the triggerer
check_warned        ``on_success_callback`` of ``publish``: one digest of the run's warned checks
=================== ======================================================================
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import AsyncCallback, BaseNotifier, DeadlineAlert

from sparkify.config import AlertsConfig, Config
from sparkify.deadline import PartitionEndDeadline
from sparkify.notifier import SparkifyNotifier
from sparkify.project import DEFAULT_ARGS


def default_args(config: Config) -> dict[str, Any]:
    """DEFAULT_ARGS, plus the task_failed notifier when that event is on."""
    args = dict(DEFAULT_ARGS)
    if _wants(config, "task_failed"):
        args["on_failure_callback"] = [_notifier(config, "task_failed")]
    return args


def on_partition_skipped(config: Config) -> list[BaseNotifier]:
    """The staging sensor's on_skipped_callback: its timeout skip is the partition_skipped event."""
    return [_notifier(config, "partition_skipped")] if _wants(config, "partition_skipped") else []


def on_checks_warned(config: Config, checks_task_id: str) -> list[BaseNotifier]:
    """publish's on_success_callback: a digest of the warned results of ``checks_task_id``, if any warned."""
    if not _wants(config, "check_warned"):
        return []
    return [_notifier(config, "check_warned", checks_task_id=checks_task_id)]


def deadline(config: Config) -> DeadlineAlert | None:
    """The DAG's deadline alert: a run not successful ``hours_after_partition_end`` after its partition's end.

    The reference is the partition's end (sparkify.deadline), the interval the configured hours;
    runs created more than lookback_hours after their deadline are not watched.
    """
    alerts = config.alerts
    if alerts is None or alerts.deadline is None or "deadline_missed" not in alerts.events:
        return None
    after = dt.timedelta(hours=alerts.deadline.hours_after_partition_end)
    watch = after + dt.timedelta(hours=alerts.deadline.lookback_hours)
    return DeadlineAlert(
        reference=PartitionEndDeadline(watch_seconds=watch.total_seconds()),
        interval=after,
        callback=AsyncCallback(SparkifyNotifier, kwargs=notifier_kwargs(alerts, config, "deadline_missed")),
        name="partition deadline",
    )


def notifier_kwargs(alerts: AlertsConfig, config: Config, event: str, **extra: str) -> dict[str, str]:
    """The notifier's settings as plain strings (a deadline's callback kwargs are serialised and hashed).

    secret_conn_ids: the connections whose passwords a message must never show: the mail
    server's and the two the tasks use (warehouse, source), whose drivers put DSNs in errors.
    """
    secret_conn_ids = sorted({alerts.conn_id, config.warehouse.conn_id, config.source.aws_conn_id})
    return {
        "event": event,
        "conn_id": alerts.conn_id,
        "to": ", ".join(alerts.to),
        **({"from_email": alerts.from_email} if alerts.from_email else {}),
        "secret_conn_ids": ",".join(secret_conn_ids),
        **extra,
    }


def _wants(config: Config, event: str) -> bool:
    return config.alerts is not None and event in config.alerts.events


def _notifier(config: Config, event: str, **extra: str) -> SparkifyNotifier:
    assert config.alerts is not None  # _wants() said so
    return SparkifyNotifier(**notifier_kwargs(config.alerts, config, event, **extra))
