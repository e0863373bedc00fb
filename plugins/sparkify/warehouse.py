"""Warehouse adapters: every SQL dialect and driver difference lives in this module.

The operators speak in intentions (replace a partition, upsert a dimension, count rows) and
the adapter turns them into statements for its warehouse. PostgreSQL is the embedded default;
the adapter is picked from the Airflow connection's type so DAG code never branches on it.

Concurrency: every write takes a transaction-scoped advisory lock named after what it writes
(a table, or a table + partition), so concurrent partition runs never race on unique keys and
two runs of the same partition serialise instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter

from sparkify.sqlfiles import qualified, quote_ident

log = logging.getLogger(__name__)

UPSERT_MODES = ("upsert", "upsert_latest", "insert_missing")


def build_upsert_sql(
    table: str,
    source: str,
    columns: Sequence[str],
    key: Sequence[str],
    mode: str,
    version_columns: Sequence[str] = (),
) -> str:
    """PostgreSQL INSERT ... ON CONFLICT moving rows from source (a temp table) into table.

    - insert_missing: keep existing rows (time: a timestamp's attributes never change).
    - upsert: overwrite changed rows; unchanged rows are not rewritten.
    - upsert_latest: overwrite only when the incoming version tuple is greater, which makes the
      result independent of the order partitions load in ("latest level wins").
    """
    if mode not in UPSERT_MODES:
        raise ValueError(f"unknown load mode {mode!r}; expected one of {UPSERT_MODES}")
    if not key or not set(key) <= set(columns):
        raise ValueError(f"key {list(key)} must be a non-empty subset of columns {list(columns)}")
    cols = ", ".join(quote_ident(c) for c in columns)
    keys = ", ".join(quote_ident(c) for c in key)
    sql = f"INSERT INTO {table} AS target ({cols})\nSELECT {cols} FROM {source}\nON CONFLICT ({keys}) DO "
    updates = [c for c in columns if c not in key]
    if mode == "insert_missing" or not updates:
        return sql + "NOTHING"
    assignments = ", ".join(f"{quote_ident(c)} = EXCLUDED.{quote_ident(c)}" for c in updates)
    if mode == "upsert":
        old = ", ".join(f"target.{quote_ident(c)}" for c in updates)
        new = ", ".join(f"EXCLUDED.{quote_ident(c)}" for c in updates)
        guard = f"ROW({old}) IS DISTINCT FROM ROW({new})"
    else:
        if not version_columns or not set(version_columns) <= set(columns):
            raise ValueError(f"upsert_latest needs version_columns within {list(columns)}")
        old = ", ".join(f"target.{quote_ident(c)}" for c in version_columns)
        new = ", ".join(f"EXCLUDED.{quote_ident(c)}" for c in version_columns)
        guard = f"ROW({new}) > ROW({old})"
    return sql + f"UPDATE SET {assignments}\nWHERE {guard}"


def build_delete_partition_sql(table: str, partition_column: str) -> str:
    """DELETE of exactly one partition; the key is a bind parameter."""
    return f"DELETE FROM {table} WHERE {quote_ident(partition_column)} = %(partition_key)s"


def build_copy_sql(table: str, columns: Sequence[str]) -> str:
    """COPY ... FROM STDIN for psycopg's streaming copy (no temp files, no newline traps)."""
    return f"COPY {table} ({', '.join(quote_ident(c) for c in columns)}) FROM STDIN"


@dataclass(frozen=True, slots=True)
class ConnectionParams:
    """Where the warehouse is; the password never appears in repr or logs."""

    host: str
    port: int
    dbname: str
    user: str
    password: str | None = None

    def __repr__(self) -> str:
        return f"ConnectionParams(host={self.host!r}, port={self.port}, dbname={self.dbname!r}, user={self.user!r})"

    def kwargs(self) -> dict[str, Any]:
        """psycopg.connect keyword arguments."""
        params: dict[str, Any] = {"host": self.host, "port": self.port, "dbname": self.dbname, "user": self.user}
        if self.password:
            params["password"] = self.password
        return params


class PostgresWarehouse:
    """The PostgreSQL adapter (embedded default)."""

    dialect = "postgres"

    def __init__(self, params: ConnectionParams, schema: str) -> None:
        self.params = params
        self.schema = schema

    def table(self, name: str) -> str:
        """Schema-qualified quoted name of a warehouse table."""
        return qualified(self.schema, name)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        with psycopg.connect(**self.params.kwargs(), autocommit=False, application_name="sparkify") as conn:
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor

    @staticmethod
    def lock(cursor: psycopg.Cursor[Any], name: str) -> None:
        """Serialise writers of the same object until the transaction ends."""
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"sparkify:{name}",))

    def ensure_schema(self, ddl_statements: Iterable[str]) -> None:
        """Create the schema and every table if missing (idempotent; safe from concurrent runs)."""
        with self.transaction() as cursor:
            self.lock(cursor, "ddl")
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
            for statement in ddl_statements:
                cursor.execute(statement)

    def replace_partition(
        self,
        table: str,
        partition_key: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        rejected_table: str,
        rejected_rows: Iterable[Sequence[Any]] | None = None,
        reject_columns: Sequence[str] = (),
    ) -> int:
        """Delete one partition and stream its rows in with COPY, in one transaction.

        ``rows`` is consumed lazily inside the COPY, so a partition is never held in memory.
        ``rejected_rows`` is read after ``rows`` is exhausted (a parser fills it as it goes).
        Returns the number of rows copied.
        """
        target = self.table(table)
        rejects = self.table(rejected_table)
        copied = 0
        with self.transaction() as cursor:
            self.lock(cursor, f"{table}:{partition_key}")
            cursor.execute(build_delete_partition_sql(target, "partition_key"), {"partition_key": partition_key})
            cursor.execute(build_delete_partition_sql(rejects, "partition_key"), {"partition_key": partition_key})
            # QueuedLibpqWriter sends from a worker thread (GIL released while the socket waits),
            # so Python keeps parsing while the server ingests; bounded queue, memory stays flat.
            with cursor.copy(build_copy_sql(target, columns), writer=QueuedLibpqWriter(cursor)) as copy:
                for row in rows:
                    copy.write_row(row)
                    copied += 1
            if rejected_rows is not None:
                with cursor.copy(build_copy_sql(rejects, reject_columns)) as copy:
                    for row in rejected_rows:
                        copy.write_row(row)
        return copied

    def loaded_versions(self, manifest_table: str) -> dict[str, str]:
        """source_key -> version of every object already staged."""
        with self.transaction() as cursor:
            cursor.execute(f"SELECT source_key, version FROM {self.table(manifest_table)}")
            return dict(cursor.fetchall())

    def replace_objects(
        self,
        table: str,
        manifest_table: str,
        rejected_table: str,
        objects: Sequence[tuple[str, str, list[Sequence[Any]], list[Sequence[Any]]]],
        columns: Sequence[str],
        reject_columns: Sequence[str],
    ) -> int:
        """Replace the rows of whole source objects and record them in the manifest, atomically.

        objects: (source_key, version, rows, rejected_rows). Used for the song catalogue, whose
        unit of change is an object rather than a day.
        """
        target, manifest, rejects = self.table(table), self.table(manifest_table), self.table(rejected_table)
        copied = 0
        with self.transaction() as cursor:
            self.lock(cursor, table)
            for key, version, rows, rejected in objects:
                cursor.execute(f"DELETE FROM {target} WHERE source_key = %s", (key,))
                cursor.execute(f"DELETE FROM {rejects} WHERE source_key = %s", (key,))
                cursor.execute(
                    f"INSERT INTO {manifest} (source_key, version, rows_loaded, rejected) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (source_key) DO UPDATE SET version = EXCLUDED.version,"
                    " rows_loaded = EXCLUDED.rows_loaded, rejected = EXCLUDED.rejected",
                    (key, version, len(rows), len(rejected)),
                )
                if rows:
                    with cursor.copy(build_copy_sql(target, columns)) as copy:
                        for row in rows:
                            copy.write_row(row)
                if rejected:
                    with cursor.copy(build_copy_sql(rejects, reject_columns)) as copy:
                        for row in rejected:
                            copy.write_row(row)
                copied += len(rows)
        return copied

    def _columns_of(self, cursor: psycopg.Cursor[Any], relation: str) -> list[str]:
        cursor.execute(f"SELECT * FROM {relation} LIMIT 0")
        return [d.name for d in cursor.description or ()]

    def replace_partition_from_select(
        self, table: str, partition_column: str, select_sql: str, params: dict[str, Any]
    ) -> int:
        """Fact load: delete the partition's rows and insert the model's rows, one transaction."""
        target = self.table(table)
        with self.transaction() as cursor:
            self.lock(cursor, f"{table}:{params['partition_key']}")
            cursor.execute(f"CREATE TEMP TABLE _model ON COMMIT DROP AS {select_sql}", params)
            columns = ", ".join(quote_ident(c) for c in self._columns_of(cursor, "_model"))
            cursor.execute(build_delete_partition_sql(target, partition_column), params)
            cursor.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM _model")
            return cursor.rowcount

    def upsert_from_select(
        self,
        table: str,
        select_sql: str,
        params: dict[str, Any],
        key: Sequence[str],
        mode: str,
        version_columns: Sequence[str] = (),
    ) -> int:
        """Dimension load: materialise the model, then merge it into the table under a table lock."""
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(f"CREATE TEMP TABLE _model ON COMMIT DROP AS {select_sql}", params)
            columns = self._columns_of(cursor, "_model")
            cursor.execute(build_upsert_sql(self.table(table), "_model", columns, key, mode, version_columns))
            return cursor.rowcount

    def fetch_one(self, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
        """Run a read-only query and return its first row."""
        with self.transaction() as cursor:
            cursor.execute(sql, params or {})
            return cursor.fetchone()


def warehouse_for(conn_id: str, schema: str) -> PostgresWarehouse:
    """The adapter for an Airflow connection, chosen by its conn_type."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type not in ("postgres", "postgresql"):
        raise ValueError(f"connection {conn_id!r} has type {conn.conn_type!r}; supported: postgres")
    params = ConnectionParams(
        host=conn.host or "127.0.0.1",
        port=int(conn.port or 5432),
        dbname=conn.schema or "postgres",
        user=conn.login or "postgres",
        password=conn.password,
    )
    return PostgresWarehouse(params, schema)
