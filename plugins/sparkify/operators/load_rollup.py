"""Load one monthly rollup; mapped once per config.json rollup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sparkify.operators.base import WarehouseOperator
from sparkify.partitions import validate_month_key
from sparkify.project import render_for
from sparkify.rollup_tracking import note_rollup_start


class LoadRollupOperator(WarehouseOperator):
    """Replace a rollup's rows for one month with its model's output (delete + insert, one transaction).

    The run's partition key is the month (YYYY-MM, from the RollupMapper), passed to the model as
    ``%(partition_key)s``. Replacing the whole month makes a re-run idempotent whichever of its
    days changed since the last one. ``select_sql`` is rendered from the model (``model_sql``)
    so the UI's Rendered Template tab shows the SELECT the load runs.
    """

    template_fields = ("partition_key", "select_sql")
    ui_color = "#d6eaf8"

    def __init__(
        self,
        *,
        name: str,
        sql: str,
        key: Sequence[str],
        partition_column: str,
        partition_key: str = "{{ partition_key }}",
        select_sql: str = "{{ task.model_sql() }}",
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config_path=config_path, **kwargs)
        self.name = name
        self.sql = sql
        self.key = key
        self.partition_column = partition_column
        self.partition_key = partition_key
        self.select_sql = select_sql

    def model_sql(self) -> str:
        """The rollup model's SELECT, as this task runs it (also rendered into ``select_sql``)."""
        return render_for(self.config, self.warehouse, self.name, self.sql)

    def execute(self, context: Any) -> int:
        month = validate_month_key(self.partition_key)
        # A rollup table added to config.json is created by the first rollup run that needs it.
        self.ensure_declared_tables()
        warehouse = self.warehouse
        # Committed before the model reads the fact: a day published from now on asks for the
        # month again unless this run read its version (sparkify.rollup_tracking).
        note_rollup_start(self.config, warehouse, month)
        with warehouse.failing_fast(f"load of {self.name} from sql/{self.sql}"):
            rows = warehouse.replace_partition_from_select(
                self.name, self.partition_column, self.model_sql(), {"partition_key": month}
            )
        self.log.info("%s: %d rows for month %s", self.name, rows, month)
        return rows
