"""Ask for a month's rollup again when one of its days is re-published after the month was rolled up."""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from sparkify.assets import ROLLUP_REQUESTS
from sparkify.operators.base import WarehouseOperator
from sparkify.partitions import month_of
from sparkify.project import ROLLUP_MONTHS_TABLE, render_for


class RequestRollupOperator(WarehouseOperator):
    """Emit a ``rollup_requests`` event for this day's month if a rollup run has started for it.

    Why: sparkify_rollups fires a month once every day has published ``warehouse_marts``
    (RollupMapper + WaitForAll). Airflow 3.3 then treats a re-published day of that month as the
    first day of a new wait for the whole month, so a corrected day would never reach the
    rollup. This task closes the gap: the request event (partition key = the month) joins that
    new wait and fires it, so the month is rolled up again exactly once per re-published day. A
    month whose rollup has not started yet is left to the RollupMapper: the task is skipped.

    Declare it with ``outlets=[ROLLUP_REQUESTS]``: a skipped task emits no event.
    """

    template_fields = ("partition_key",)
    ui_color = "#d6eaf8"

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(config_path=config_path, **kwargs)
        self.partition_key = partition_key

    def execute(self, context: Any) -> str:
        config = self.config
        month = month_of(self.partition_key)
        if not config.rollups:
            raise AirflowSkipException("config.json declares no rollups")
        started_sql = render_for(config, self.warehouse, ROLLUP_MONTHS_TABLE, "rollup_months/started.sql")
        row = self.warehouse.fetch_one(started_sql, {"month": month})
        if not row or not row[0]:
            raise AirflowSkipException(
                f"month {month} has not been rolled up yet: sparkify_rollups runs it once every day is published"
            )
        context["outlet_events"][ROLLUP_REQUESTS].add_partitions(month)
        self.log.info("month %s was rolled up before: requested its rollup again", month)
        return month
