"""Create the warehouse schema and tables if they do not exist yet."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from sparkify.config import load_config
from sparkify.project import ensure_tables, open_warehouse


class EnsureSchemaOperator(BaseOperator):
    """Run every sql/ddl file (CREATE ... IF NOT EXISTS) when the declared DDL changed.

    A fresh warehouse needs no setup step; an unchanged one costs a single query.
    """

    ui_color = "#d6eaf8"

    def __init__(self, *, config_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path

    def execute(self, context: Any) -> None:
        config = load_config(self.config_path)
        ran = ensure_tables(config, open_warehouse(config))
        self.log.info("schema %s: %s", config.warehouse.schema, "tables ensured" if ran else "DDL unchanged")
