"""Find the recently staged days whose log objects changed since they were staged (the late-data sweep)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from sparkify.operators.base import WarehouseOperator
from sparkify.sources import source_for
from sparkify.sweep import find_changes

#: XCom key of the changes by day (added / replaced / removed object keys), for the publish step.
CHANGES_XCOM = "changes"


class FindChangedPartitionsOperator(WarehouseOperator):
    """Compare event_manifest with the source for the staged days of the lookback window.

    Returns one ``{"partition_key": day}`` per day to re-stage (what the mapped ``stage_events``
    expands over: Airflow maps only over return values) and pushes the changes by day (added /
    replaced / removed object keys) as the ``changes`` XCom, for the asset events' extras.

    Skipped when nothing changed, and so is everything downstream of it (all_success): a sweep
    that finds nothing writes nothing and emits no asset event. Reads only (one query for the
    DDL digest, two on event_manifest, one LIST per staged day of the window).
    A day whose objects are all gone, where source.allow_empty_partitions is false, is logged as
    a warning and left alone: staging it would fail the same way every hour.
    """

    ui_color = "#e8daef"

    def execute(self, context: Any) -> list[dict[str, str]]:
        config = self.config
        self.ensure_declared_tables()
        today = dt.datetime.now(dt.UTC).date()
        result = find_changes(config, self.warehouse, source_for(config.source), today)
        window = "..".join(result.window) if result.window else "none (nothing staged yet)"
        self.log.info(
            "sweep window %s: %d staged day(s) compared, %d object(s) listed (%d LIST prefix(es))",
            window,
            len(result.days_compared),
            result.objects_listed,
            len(result.days_compared),
        )
        for change in result.left_alone:
            self.log.warning(
                "%s: every object is gone (%s) and source.allow_empty_partitions is false: not re-staged, "
                "its staged rows stay (see docs/operations.md, Late and corrected files)",
                change.partition_key,
                change.summary(),
            )
        changes = result.to_stage
        if not changes:
            raise AirflowSkipException(f"nothing to re-stage in the sweep window {window}")
        for change in changes:
            self.log.info("re-stage %s: %s", change.partition_key, change.summary())
        context["ti"].xcom_push(key=CHANGES_XCOM, value={c.partition_key: c.summary() for c in changes})
        return [{"partition_key": change.partition_key} for change in changes]
