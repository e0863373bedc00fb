"""Warehouse adapters: every SQL dialect and driver difference lives in this package.

``warehouse_for`` picks the adapter from the Airflow connection's type, so DAG code and the
operators never branch on it: base.Warehouse declares every operation they use, postgres and
redshift implement it, sql and redshift_sql hold the pure statement builders.
"""

from __future__ import annotations

from sparkify.config import WarehouseConfig
from sparkify.warehouse.base import QueryRefused, Warehouse

__all__ = ["QueryRefused", "Warehouse", "warehouse_for"]


def warehouse_for(config: WarehouseConfig) -> Warehouse:
    """The adapter for the configured Airflow connection, chosen by its conn_type (postgres or redshift)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(config.conn_id)
    if conn.conn_type == "redshift":
        from sparkify.warehouse.redshift import RedshiftWarehouse
        from sparkify.warehouse.redshift_sql import copy_options

        return RedshiftWarehouse(config.conn_id, config.schema, copy_options(config.redshift_copy, config.conn_id))
    if conn.conn_type not in ("postgres", "postgresql"):
        raise ValueError(f"connection {config.conn_id!r} has type {conn.conn_type!r}; supported: postgres, redshift")
    from sparkify.warehouse.postgres import PostgresWarehouse

    return PostgresWarehouse(config.conn_id, config.schema)
