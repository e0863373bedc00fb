"""Stage one day's log events: replace exactly that partition in the staging table."""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.operators.base import WarehouseOperator
from sparkify.staging import quarantine_failure


class StageEventsOperator(WarehouseOperator):
    """Replace one day's partition of staging_events (and its rejections) from the source.

    Other partitions are never touched, so runs for different days can go in any order or at
    the same time. The warehouse adapter stages (sparkify.staging on PostgreSQL, COPY from S3
    on Redshift) and checks that every record is loaded or rejected. A partition whose rejected
    share passes config's staging.max_rejected_share fails *after* the commit: its rejections
    stay queryable, and the failed task keeps the partition from being published to the
    transform. It raises AirflowFailException because a retry would read the same bytes.
    Returns the counts that the publish step puts into the asset event.
    """

    template_fields = ("partition_key",)
    ui_color = "#fdebd0"

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(config_path=config_path, **kwargs)
        self.partition_key = partition_key

    def execute(self, context: Any) -> dict[str, Any]:
        config = self.config
        self.ensure_declared_tables()
        staged = self.warehouse.stage_events(config, self.partition_key)
        failure = quarantine_failure(
            self.partition_key,
            staged.records,
            staged.rows_loaded,
            staged.first_rejections,
            config.staging.max_rejected_share,
            staged.rejected,
        )
        if failure:
            raise AirflowFailException(failure)
        return staged.extras()
