"""Create the warehouse schema and tables if they do not exist yet."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from sparkify.config import load_config
from sparkify.project import ddl_statements, index_statements, open_warehouse


class EnsureSchemaOperator(BaseOperator):
    """Run every sql/ddl file (CREATE ... IF NOT EXISTS), so a fresh warehouse needs no setup step."""

    ui_color = "#d6eaf8"

    def __init__(self, *, config_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path

    def execute(self, context: Any) -> None:
        config = load_config(self.config_path)
        warehouse = open_warehouse(config)
        statements = ddl_statements(config, warehouse) + index_statements(config, warehouse)
        warehouse.ensure_schema(statements)
        self.log.info("ensured %d tables and indexes in schema %s", len(statements), config.warehouse.schema)
