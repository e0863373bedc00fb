"""Load the fact table for one partition."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from sparkify.config import load_config
from sparkify.project import model_context, open_warehouse
from sparkify.sqlfiles import render


class LoadFactOperator(BaseOperator):
    """Replace the partition's fact rows with the fact model's output (delete + insert, one transaction)."""

    template_fields = ("partition_key",)
    ui_color = "#d5f5e3"

    def __init__(
        self, *, partition_key: str = "{{ partition_key }}", config_path: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.partition_key = partition_key
        self.config_path = config_path

    def execute(self, context: Any) -> int:
        config = load_config(self.config_path)
        fact = config.fact
        warehouse = open_warehouse(config)
        select_sql = render(fact.sql, **model_context(config, warehouse, fact.name))
        rows = warehouse.replace_partition_from_select(
            fact.name, fact.partition_column, select_sql, {"partition_key": self.partition_key}
        )
        self.log.info("%s: %d rows for partition %s", fact.name, rows, self.partition_key)
        return rows
