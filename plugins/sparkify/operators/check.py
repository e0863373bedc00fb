"""Run one configured data-quality check; mapped once per config.json check."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import load_config
from sparkify.project import model_context, open_warehouse
from sparkify.quality import build_check_sql, judge


class DataQualityCheckOperator(BaseOperator):
    """Query the check's observed value and fail (without retry) when an error-severity check fails.

    A failing 'warn' check logs a warning and succeeds, so it never blocks the pipeline.
    """

    template_fields = ("partition_key",)
    ui_color = "#fcf3cf"

    def __init__(
        self,
        *,
        name: str,
        table: str,
        check_type: str,
        severity: str = "error",
        scope: str = "table",
        check_params: dict[str, Any] | None = None,
        partition_key: str = "{{ partition_key }}",
        config_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.table = table
        self.check_type = check_type
        self.severity = severity
        self.scope = scope
        self.check_params = check_params or {}
        self.partition_key = partition_key
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        config = load_config(self.config_path)
        warehouse = open_warehouse(config)
        partition_column = self._partition_column(config) if self.scope == "partition" else None
        query = build_check_sql(
            self.check_type,
            warehouse.table(self.table),
            self.check_params,
            partition_column=partition_column,
            partition_key=self.partition_key,
            tables=model_context(config, warehouse),
        )
        row = warehouse.fetch_one(query.sql, query.params)
        observed = None if row is None or row[0] is None else float(row[0])
        verdict = judge(self.check_type, observed, self.check_params)
        status = "passed" if verdict.passed else "failed"
        scope = f"partition {self.partition_key}" if partition_column else "whole table"
        message = (
            f"check {self.name} ({self.check_type} on {self.table}, {scope}): {status}, "
            f"observed={observed}, expected {verdict.threshold}"
        )
        if verdict.passed:
            self.log.info(message)
        elif self.severity == "warn":
            self.log.warning(message)
        else:
            raise AirflowFailException(message)
        return {"name": self.name, "status": status, "observed": observed, "threshold": verdict.threshold}

    def _partition_column(self, config: Any) -> str:
        if self.table == config.fact.name:
            return config.fact.partition_column
        return "partition_key"
