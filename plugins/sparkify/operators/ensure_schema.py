"""Create the warehouse schema and tables if they do not exist yet."""

from __future__ import annotations

from typing import Any

from sparkify.operators.base import WarehouseOperator
from sparkify.project import ensure_tables


class EnsureSchemaOperator(WarehouseOperator):
    """Run every sql/ddl file (CREATE ... IF NOT EXISTS) when the declared DDL changed.

    A fresh warehouse needs no setup step; an unchanged one costs a single query.
    """

    ui_color = "#d6eaf8"

    def execute(self, context: Any) -> None:
        ran = ensure_tables(self.config, self.warehouse)
        self.log.info("schema %s: %s", self.config.warehouse.schema, "tables ensured" if ran else "DDL unchanged")
