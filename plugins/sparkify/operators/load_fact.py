"""Load the fact table for one partition."""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import Config
from sparkify.operators.base import WarehouseOperator
from sparkify.partitions import is_manual_run, validate_partition_key
from sparkify.project import render_for
from sparkify.sqlfiles import render


class LoadFactOperator(WarehouseOperator):
    """Replace the partition's fact rows with the fact model's output (delete + insert, one transaction).

    A manual run (UI trigger form, REST API, `make backfill DAG=transform`) first checks that its
    key is a day and that the day is staged: deriving marts from an empty partition would
    silently delete that day's fact rows, so it fails fast with a message instead.

    ``select_sql`` is rendered from the fact model (``model_sql``) so the UI's Rendered Template
    tab shows the SELECT the load runs; the partition key stays a bind parameter.
    """

    template_fields = ("partition_key", "select_sql")
    ui_color = "#d5f5e3"

    def __init__(
        self,
        *,
        partition_key: str = "{{ partition_key }}",
        select_sql: str = "{{ task.model_sql() }}",
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config_path=config_path, **kwargs)
        self.partition_key = partition_key
        self.select_sql = select_sql

    def model_sql(self) -> str:
        """The fact model's SELECT, as this task runs it (also rendered into ``select_sql``)."""
        return render_for(self.config, self.warehouse, self.config.fact.name, self.config.fact.sql)

    def execute(self, context: Any) -> int:
        config, warehouse = self.config, self.warehouse
        fact = config.fact
        validate_partition_key(self.partition_key)
        if is_manual_run(context):
            self._require_staged(config, warehouse)
        # The transform writes the fact, the dimensions and dq_results: it ensures their tables.
        self.ensure_declared_tables()
        select_sql = self.model_sql()
        with warehouse.failing_fast(f"load of {fact.name} from sql/{fact.sql}"):
            rows = warehouse.replace_partition_from_select(
                fact.name, fact.partition_column, select_sql, {"partition_key": self.partition_key}
            )
        self.log.info("%s: %d rows for partition %s", fact.name, rows, self.partition_key)
        return rows

    def _require_staged(self, config: Config, warehouse: Any) -> None:
        """Fail unless staging_events holds rows for this partition."""
        table = config.staging.events_table
        # A warehouse nothing was ever staged into has no staging table yet: same answer, no retry.
        exists = warehouse.fetch_one(
            render("catalog/table_exists.sql"), {"schema": config.warehouse.schema, "table": table}
        )
        row = None
        if exists and exists[0]:
            staged_sql = render("staging/partition_rows.sql", this=warehouse.table(table))
            row = warehouse.fetch_one(staged_sql, {"partition_key": self.partition_key})
        if not row or not row[0]:
            raise AirflowFailException(
                f"partition {self.partition_key} has nothing staged in {table}: stage it first "
                f"(make backfill DAG=staging START={self.partition_key} END={self.partition_key}, or trigger "
                "sparkify_staging with this Partition Key); the transform then follows through the assets"
            )
