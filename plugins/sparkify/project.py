"""Bind config.json to the warehouse at run time: DDL to run and the Jinja context of models.

Operators call these instead of assembling table names themselves, so the mapping from a
config entry to a quoted, schema-qualified table exists in exactly one place.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sparkify.config import SQL_DIR, Config
from sparkify.sqlfiles import quote_ident, render

if TYPE_CHECKING:
    from sparkify.warehouse import Warehouse

MANIFEST_TABLE = "load_manifest"
#: The objects (key + version) each staged day was staged from (sql/ddl/event_manifest.sql), written
#: with the day's partition; the late-data sweep (sparkify.sweep) compares it with the source.
EVENT_MANIFEST_TABLE = "event_manifest"
REJECTED_TABLE = "rejected_lines"
#: The catalogue's match key -> winning song (sql/ddl/song_lookup.sql), kept by song staging.
SONG_LOOKUP_TABLE = "song_lookup"
#: Temporary table of one song-staging transaction (sql/staging/song_changes_table.sql).
SONG_CHANGES_TABLE = "_song_changes"
#: Months a rollup run has started for (sql/ddl/rollup_months.sql): a day re-published after its
#: month was rolled up asks for the month again (sparkify.operators.request_rollup).
ROLLUP_MONTHS_TABLE = "rollup_months"
#: Each day's published version (its last transform run) and the versions each month's latest
#: rollup run read (sql/ddl/published_days.sql, rollup_reads.sql): a day asks for its month again
#: only when the month's rollup has not read its current version (sparkify.rollup_tracking).
PUBLISHED_DAYS_TABLE = "published_days"
ROLLUP_READS_TABLE = "rollup_reads"
#: Append-only audit log of data-quality results (not part of the idempotency contract).
RESULTS_TABLE = "dq_results"
#: Airflow pool of every task that writes to the warehouse (scripts/airflow.sh creates it): caps
#: concurrent warehouse writes across both DAGs, whatever the executor's parallelism.
WAREHOUSE_POOL = "warehouse"
#: default_args of both DAGs. Transient faults (a dropped warehouse connection, an S3 outage, a
#: killed worker) are retried with exponential backoff: 15 s, 30 s, 60 s, capped at 10 min.
#: Failures that retrying cannot fix raise AirflowFailException and skip the retries.
DEFAULT_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": dt.timedelta(seconds=15),
    "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3.3: True (= 1.0) means constant delay
    "max_retry_delay": dt.timedelta(minutes=10),
}


def open_warehouse(config: Config) -> Warehouse:
    """The adapter for the configured warehouse connection."""
    from sparkify.warehouse import warehouse_for  # the adapters import this module's table names

    return warehouse_for(config.warehouse)


def all_tables(config: Config) -> list[str]:
    """Every table the pipeline owns: bookkeeping, staging (and its song lookup), fact, dimensions, rollups."""
    bookkeeping = [
        MANIFEST_TABLE, EVENT_MANIFEST_TABLE, REJECTED_TABLE, RESULTS_TABLE, SONG_LOOKUP_TABLE, ROLLUP_MONTHS_TABLE,
        PUBLISHED_DAYS_TABLE, ROLLUP_READS_TABLE,
    ]
    return [*bookkeeping, *config.table_names()]


def model_context(config: Config, warehouse: Warehouse, this: str | None = None) -> dict[str, str]:
    """Jinja context for sql/ files: each table name -> its qualified name, plus `this`."""
    context = {name: warehouse.table(name) for name in all_tables(config)}
    if this is not None:
        context["this"] = warehouse.table(this)
    return context


def render_for(config: Config, warehouse: Warehouse, table: str, relative_path: str, **extra: Any) -> str:
    """sql/<relative_path> rendered for one table: `this` is that table, every table is named."""
    return render(relative_path, **model_context(config, warehouse, table), **extra)


def index_statements(config: Config, warehouse: Warehouse) -> list[str]:
    """CREATE INDEX IF NOT EXISTS from sql/ddl/indexes/<table>.sql (';'-separated), where the warehouse has indexes.

    Why: per-partition statements on tables keyed by something else (songplays by songplay_id)
    and song staging's per-batch maintenance would scan whole tables, so their cost would grow
    with history or with the catalogue. ``index_name('col')`` in a file names an index
    ``<table>_<col>_idx``. Redshift has no indexes (sort keys instead): nothing to create there.
    """
    if not warehouse.supports_indexes:
        return []
    statements = []
    for name in all_tables(config):
        if (SQL_DIR / "ddl" / "indexes" / f"{name}.sql").is_file():
            text = render_for(
                config, warehouse, name, f"ddl/indexes/{name}.sql",
                index_name=lambda column, table=name: quote_ident(f"{table}_{column}_idx"),
            )
            statements.extend(s.strip() for s in text.split(";") if s.strip())
    return statements


def ddl_statements(config: Config, warehouse: Warehouse) -> list[str]:
    """CREATE TABLE IF NOT EXISTS for every table, from sql/ddl/<table>.sql."""
    return [render_for(config, warehouse, name, f"ddl/{name}.sql") for name in all_tables(config)]


def ensure_tables(config: Config, warehouse: Warehouse) -> bool:
    """Create every table and index of the config if the declared DDL changed; returns whether it ran.

    Every task that writes tables calls it first (stage_events, stage_songs, load_fact), so a
    table added to config.json works whichever DAG runs first.
    """
    return warehouse.ensure_schema_once(ddl_statements(config, warehouse) + index_statements(config, warehouse))
