"""A deadline reference for partitioned runs: the end of the run's partition (a day, a month).

Why a custom one: Airflow 3.3's deadline alerts (airflow.sdk.DeadlineAlert) evaluate a reference
when a run is created and add the alert's interval. The built-in references are the run's
logical date (DAGRUN_LOGICAL_DATE: None for asset-triggered and partition-keyed manual runs, so
no deadline would ever be created for sparkify_transform or sparkify_rollups), when it was queued
(DAGRUN_QUEUED_AT: "within N hours of starting", not "day D by 06:00 on D+1"), a fixed datetime
and an average runtime. None of them is the partition. A reference registered through a plugin
(``AirflowPlugin.deadline_references``; sparkify_plugin) is evaluated in the scheduler and the
API server, which create runs, and gets the run's dag_id and run_id: from those it reads the
run's partition key.

The reference also decides which runs are watched: a run created more than ``watch_seconds``
after its partition ended (a backfill of last year, a re-run of last month) gets no deadline,
since it would be late the moment it exists and every partition of a backfill would alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from airflow.sdk import BaseDeadlineReference

from sparkify.partitions import partition_end

#: The serialised reference's type field (airflow.sdk.definitions.deadline.REFERENCE_TYPE_FIELD).
REFERENCE_TYPE_FIELD = "reference_type"


def watched_partition_end(key: str | None, created: dt.datetime, watch: dt.timedelta) -> dt.datetime | None:
    """The end of the partition ``key``, or None when it has no period or is no longer watched at ``created``."""
    end = partition_end(key)
    if end is None or created > end + watch:
        return None
    return end


@dataclass
class PartitionEndDeadline(BaseDeadlineReference):
    """The run's partition end (sparkify.partitions.partition_end); the alert's interval comes on top.

    ``watch_seconds``: how long after the partition's end a new run still gets a deadline
    (sparkify.alerts sets it to the deadline's hours plus alerts.deadline.lookback_hours).
    A dataclass whose fields have defaults, as Airflow requires of registered references.
    """

    watch_seconds: float = 86400.0
    required_kwargs: ClassVar[set[str]] = {"dag_id", "run_id"}

    def serialize_reference(self) -> dict[str, Any]:
        return {REFERENCE_TYPE_FIELD: self.reference_name, "watch_seconds": self.watch_seconds}

    @classmethod
    def deserialize_reference(cls, reference_data: dict[str, Any]) -> PartitionEndDeadline:
        return cls(watch_seconds=float(reference_data.get("watch_seconds", 86400.0)))

    def _evaluate_with(self, *, session: Any, dag_id: str, run_id: str, **kwargs: Any) -> dt.datetime | None:
        """Runs in the scheduler or API server while the run is created (the core's DagRun is there)."""
        from airflow.models.dagrun import DagRun  # core: only where runs are created, never in a task

        run = DagRun.find_duplicate(dag_id=dag_id, run_id=run_id, session=session)  # the run by its id
        key = run.partition_key if run is not None else None
        return watched_partition_end(key, dt.datetime.now(dt.UTC), dt.timedelta(seconds=self.watch_seconds))
