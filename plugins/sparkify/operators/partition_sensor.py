"""Wait for a partition's log objects to arrive before staging them."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator

from sparkify.config import load_config
from sparkify.sources import partition_prefix, source_for


class PartitionObjectsSensor(BaseSensorOperator):
    """Succeeds once at least one object exists under the day's prefix.

    A run for a day that is not over, or whose file is late, waits here (in reschedule mode it
    holds no worker slot) instead of failing; with soft_fail it ends skipped after the timeout.
    A source with ``allow_empty_partitions`` does not wait: an empty day stages 0 rows.
    """

    template_fields = ("partition_key",)

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.partition_key = partition_key
        self.config_path = config_path

    def poke(self, context: Any) -> bool:
        config = load_config(self.config_path)
        if config.source.allow_empty_partitions:
            # Empty days are legitimate for this source: nothing to wait for, stage what is there.
            self.log.info("source.allow_empty_partitions: not waiting for objects")
            return True
        prefix = partition_prefix(config.source.events_prefix, self.partition_key)
        found = source_for(config.source).list(prefix)
        self.log.info("%d object(s) under %s/%s", len(found), config.source.uri, prefix)
        return bool(found)
