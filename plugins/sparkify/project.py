"""Bind config.json to the warehouse at run time: DDL to run and the Jinja context of models.

Operators call these instead of assembling table names themselves, so the mapping from a
config entry to a quoted, schema-qualified table exists in exactly one place.
"""

from __future__ import annotations

from sparkify.config import Config
from sparkify.sqlfiles import render
from sparkify.warehouse import PostgresWarehouse, warehouse_for

MANIFEST_TABLE = "load_manifest"
REJECTED_TABLE = "rejected_lines"


def open_warehouse(config: Config) -> PostgresWarehouse:
    """The adapter for the configured warehouse connection."""
    return warehouse_for(config.warehouse.conn_id, config.warehouse.schema)


def all_tables(config: Config) -> list[str]:
    """Every table the pipeline owns: bookkeeping, staging, fact and dimensions."""
    return [MANIFEST_TABLE, REJECTED_TABLE, *config.table_names()]


def model_context(config: Config, warehouse: PostgresWarehouse, this: str | None = None) -> dict[str, str]:
    """Jinja context for sql/ files: each table name -> its qualified name, plus `this`."""
    context = {name: warehouse.table(name) for name in all_tables(config)}
    if this is not None:
        context["this"] = warehouse.table(this)
    return context


def ddl_statements(config: Config, warehouse: PostgresWarehouse) -> list[str]:
    """CREATE TABLE IF NOT EXISTS for every table, from sql/ddl/<table>.sql."""
    return [render(f"ddl/{name}.sql", **model_context(config, warehouse, name)) for name in all_tables(config)]
