"""Stage one day's log events: replace exactly that partition in the staging table."""

from __future__ import annotations

from itertools import chain
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import load_config
from sparkify.parsing import EVENT_COLUMNS, REJECT_COLUMNS, Rejection, iter_lines, parse_events
from sparkify.project import REJECTED_TABLE, open_warehouse
from sparkify.sources import partition_prefix, source_for


class StageEventsOperator(BaseOperator):
    """Delete the partition and COPY its parsed lines in, in one transaction.

    Other partitions are never touched, so runs for different days can go in any order or
    at the same time. Returns counts that the publish step puts into the asset event.
    """

    template_fields = ("partition_key",)
    ui_color = "#fdebd0"

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.partition_key = partition_key
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        config = load_config(self.config_path)
        source = source_for(config.source)
        prefix = partition_prefix(config.source.events_prefix, self.partition_key)
        objects = source.list(prefix)
        if not objects:
            raise AirflowFailException(f"no log objects under {config.source.uri}/{prefix}")
        rejected: list[Rejection] = []
        rows = chain.from_iterable(
            parse_events(self.partition_key, obj.key, iter_lines(source.read(obj.key)), rejected) for obj in objects
        )
        warehouse = open_warehouse(config)
        loaded = warehouse.replace_partition(
            config.staging.events_table,
            self.partition_key,
            EVENT_COLUMNS,
            rows,
            REJECTED_TABLE,
            (r.row(self.partition_key) for r in rejected),
            REJECT_COLUMNS,
        )
        for rejection in rejected[:20]:
            self.log.warning("rejected %s line %d: %s", rejection.source_key, rejection.line_number, rejection.reason)
        self.log.info(
            "partition %s: %d object(s), %d rows loaded, %d rejected",
            self.partition_key,
            len(objects),
            loaded,
            len(rejected),
        )
        return {
            "partition_key": self.partition_key,
            "objects": len(objects),
            "rows_loaded": loaded,
            "rejected": len(rejected),
        }
