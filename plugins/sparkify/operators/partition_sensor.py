"""Wait for a partition's log objects to arrive before staging them."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import load_config
from sparkify.partitions import data_range, describe_range, is_manual_run, validate_partition_key
from sparkify.sources import list_partition, partition_prefix, source_for


class PartitionObjectsSensor(BaseSensorOperator):
    """Succeeds once at least one object exists under the day's prefix.

    A run for a day that is not over, or whose file is late, waits here (in reschedule mode it
    holds no worker slot) instead of failing; with soft_fail it ends skipped after the timeout.
    A source with ``allow_empty_partitions`` does not wait: an empty day stages 0 rows.

    Manual runs (the UI's trigger form, the REST API) are validated first and fail fast,
    without retries and without the soft-fail skip: a malformed key, or a day the source has no
    objects for, is a typo to fix, not a file to wait six hours for.
    """

    template_fields = ("partition_key",)

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.partition_key = partition_key
        self.config_path = config_path

    def execute(self, context: Any) -> Any:
        # Validation happens here, outside poke(): the base class turns any exception raised in
        # poke() into a skip when soft_fail is set, which would hide the operator's mistake.
        validate_partition_key(self.partition_key)
        if is_manual_run(context):
            self._require_data_for_manual_run()
        return super().execute(context)

    def _require_data_for_manual_run(self) -> None:
        """Fail unless the source has the day (or, for sparse sources, the day is within its range)."""
        config = load_config(self.config_path)
        source = source_for(config.source)
        prefix = partition_prefix(config.source, self.partition_key)
        if list_partition(source, config.source, self.partition_key).objects:
            return
        found = data_range(source, config.source)
        if config.source.allow_empty_partitions and found and found[0] <= self.partition_key <= found[1]:
            return
        raise AirflowFailException(
            f"partition {self.partition_key} has no data: no log objects under "
            f"{config.source.uri.rstrip('/')}/{prefix}*; {describe_range(found, config.source.uri)}. "
            "Pick a day in that range."
        )

    def poke(self, context: Any) -> bool:
        config = load_config(self.config_path)
        if config.source.allow_empty_partitions:
            # Empty days are legitimate for this source: nothing to wait for, stage what is there.
            self.log.info("source.allow_empty_partitions: not waiting for objects")
            return True
        prefix = partition_prefix(config.source, self.partition_key)
        listing = list_partition(source_for(config.source), config.source, self.partition_key)
        self.log.info(
            "%d log object(s) under %s/%s (%d other object(s) ignored)",
            len(listing.objects),
            config.source.uri,
            prefix,
            len(listing.ignored),
        )
        return bool(listing.objects)
