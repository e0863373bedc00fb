"""What every warehouse operator shares: the config and the warehouse, resolved once per task."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.config import Config, load_config
from sparkify.project import ensure_tables, open_warehouse
from sparkify.warehouse import Warehouse


class WarehouseOperator(BaseOperator):
    """Base of the operators that read config.json and work on the warehouse.

    ``__init__`` only assigns (Airflow builds operators at every DAG parse); the config and the
    adapter are resolved on first use in ``execute`` and kept for the rest of the task, so no
    operator loads config.json or looks up the connection twice.
    """

    def __init__(self, *, config_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        """The validated config.json (or the file named by config_path)."""
        return load_config(self.config_path)

    @cached_property
    def warehouse(self) -> Warehouse:
        """The adapter of the configured warehouse connection."""
        return open_warehouse(self.config)

    def post_execute(self, context: Any, result: Any = None) -> None:
        """Close the warehouse connection the task kept open across its transactions."""
        super().post_execute(context, result)
        if "warehouse" in self.__dict__:  # resolved by this task (cached_property)
            self.warehouse.close()

    def ensure_declared_tables(self) -> None:
        """Create the config's tables when their declared DDL changed (else one query).

        Every task that writes tables calls it first, so a table added to config.json works
        whichever DAG or task runs first, and no run needs a setup task of its own.
        """
        if ensure_tables(self.config, self.warehouse):
            self.log.info("schema %s: tables ensured (declared DDL changed)", self.config.warehouse.schema)
