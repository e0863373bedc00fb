"""Load one dimension from its model; mapped once per config.json dimension."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sparkify.operators.base import WarehouseOperator
from sparkify.project import render_for


class LoadDimensionOperator(WarehouseOperator):
    """Merge a dimension model's rows into its table with the configured load mode.

    Modes (see sparkify.warehouse.sql.build_upsert_sql): insert_missing, upsert, upsert_latest. All are
    idempotent and independent of partition order; writers of one table are serialised by a lock.
    ``select_sql`` is rendered from the model (``model_sql``) so the UI's Rendered Template tab
    shows the SELECT the merge reads from.
    """

    template_fields = ("partition_key", "select_sql")
    ui_color = "#d5f5e3"

    def __init__(
        self,
        *,
        name: str,
        sql: str,
        key: Sequence[str],
        mode: str,
        version_columns: Sequence[str] = (),
        partition_key: str = "{{ partition_key }}",
        select_sql: str = "{{ task.model_sql() }}",
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config_path=config_path, **kwargs)
        self.name = name
        self.sql = sql
        self.key = key
        self.mode = mode
        self.version_columns = version_columns
        self.partition_key = partition_key
        self.select_sql = select_sql

    def model_sql(self) -> str:
        """The dimension model's SELECT, as this task runs it (also rendered into ``select_sql``)."""
        return render_for(self.config, self.warehouse, self.name, self.sql)

    def execute(self, context: Any) -> int:
        warehouse = self.warehouse
        select_sql = self.model_sql()
        with warehouse.failing_fast(f"load of {self.name} from sql/{self.sql}"):
            rows = warehouse.upsert_from_select(
                self.name, select_sql, {"partition_key": self.partition_key}, self.key, self.mode, self.version_columns
            )
        self.log.info("%s (%s): %d rows inserted or updated", self.name, self.mode, rows)
        return rows
