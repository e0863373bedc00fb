"""What the warehouse holds per partition key, for the status report (make status, the health page).

One reader for both: it runs the statements in sql/status/ through the project's warehouse
adapter (sparkify.warehouse.warehouse_for: the configured Airflow connection, PostgreSQL or
Redshift), so the CLI and the page inside the API server count the same rows the same way.
"""

from __future__ import annotations

from typing import Any

from sparkify.config import Config
from sparkify.partition_status import PartitionCounts, counts_by_key
from sparkify.project import REJECTED_TABLE, RESULTS_TABLE
from sparkify.sqlfiles import quote_ident, render
from sparkify.warehouse.base import Warehouse


def key_range(start: str | None, end: str | None) -> dict[str, str]:
    """The statements' bounds for days start..end: from the start's month, so its rollup checks
    (recorded under the month key, which sorts before its days) are read too."""
    return {"start": (start or "0000")[:7], "end": end or "9999"}


def read_counts(warehouse: Warehouse, config: Config, start: str | None, end: str | None) -> dict[str, PartitionCounts]:
    """key -> staged rows, rejected lines, fact rows and the checks that failed or warned, for days start..end.

    Tables not created yet (a warehouse before its first run) count 0.
    """
    params = key_range(start, end)
    counted = {
        "staged": (config.staging.events_table, "partition_key"),
        "rejected": (REJECTED_TABLE, "partition_key"),
        "fact": (config.fact.name, config.fact.partition_column),
    }

    def exists(table: str) -> bool:
        found = warehouse.fetch_one(render("catalog/table_exists.sql"), {"schema": warehouse.schema, "table": table})
        return bool(found and found[0])

    rows: dict[str, Any] = {}
    for label, (table, column) in counted.items():
        if exists(table):
            sql = render("status/key_counts.sql", this=warehouse.table(table), partition_column=quote_ident(column))
            rows[label] = warehouse.fetch_all(sql, params)[1]
    if exists(RESULTS_TABLE):
        sql = render("status/check_results.sql", dq_results=warehouse.table(RESULTS_TABLE))
        rows["checks"] = warehouse.fetch_all(sql, params)[1]
    return counts_by_key(**rows)
