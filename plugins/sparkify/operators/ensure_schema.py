"""Create the warehouse schema and tables if they do not exist yet."""

from __future__ import annotations

from typing import Any

from sparkify.operators.base import WarehouseOperator


class EnsureSchemaOperator(WarehouseOperator):
    """Run every sql/ddl file (CREATE ... IF NOT EXISTS) when the declared DDL changed.

    A fresh warehouse needs no setup step; an unchanged one costs a single query. The DAGs do
    not need it (every writing task ensures the tables itself); it is the one-call setup for
    scripts and tests.
    """

    ui_color = "#d6eaf8"

    def execute(self, context: Any) -> None:
        self.ensure_declared_tables()
