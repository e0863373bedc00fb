"""Ask for a month's rollup again when one of its days is re-published after the month was rolled up."""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from sparkify.assets import ROLLUP_REQUESTS
from sparkify.operators.base import WarehouseOperator
from sparkify.partitions import month_of
from sparkify.rollup_tracking import request_needed


class RequestRollupOperator(WarehouseOperator):
    """Emit a ``rollup_requests`` event for this day's month if it was rolled up without this day's rows.

    Why: sparkify_rollups fires a month once every day has published ``warehouse_marts``
    (RollupMapper + WaitForAll). Airflow 3.3 then treats a re-published day of that month as the
    first day of a new wait for the whole month, so a corrected day would never reach the
    rollup. This task closes the gap: the request event (partition key = the month) joins that
    new wait and fires it, so the month is rolled up again once. A month whose rollup has not
    started yet, or whose latest rollup run read this version of the day (the run the day's own
    event fired, say), needs nothing: the task is skipped (sparkify.rollup_tracking).

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
        reason = request_needed(config, self.warehouse, self.partition_key)
        if reason is None:
            raise AirflowSkipException(
                f"month {month}: not rolled up yet (sparkify_rollups runs it once every day is published), "
                f"or its latest rollup run already read this version of {self.partition_key}"
            )
        context["outlet_events"][ROLLUP_REQUESTS].add_partitions(month)
        self.log.info("%s: requested the month's rollup again", reason)
        return month
