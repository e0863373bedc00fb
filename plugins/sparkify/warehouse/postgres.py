"""The PostgreSQL adapter: the embedded default warehouse (and any managed PostgreSQL).

Writers serialise on transaction-scoped advisory locks named after what they write (a table, or
a table + partition); dimension merges use INSERT … ON CONFLICT (sparkify.warehouse.sql).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter

from sparkify.config import Config
from sparkify.source_schema import LOAD_SEQ_COLUMN, PARTITION_COLUMN
from sparkify.sqlfiles import quote_ident, render
from sparkify.staging import StagedPartition, stage_events_with_parser, stage_songs_with_parser
from sparkify.sweep import ManifestEntry
from sparkify.warehouse.base import SongCatalogueChanges, Warehouse, timeout_ms
from sparkify.warehouse.sql import (
    build_copy_sql,
    build_delete_partition_sql,
    build_schema_comment_sql,
    build_upsert_sql,
)

#: A load that changes at least this share of a table's rows refreshes its statistics at once
#: (autovacuum's default autovacuum_analyze_scale_factor); smaller ones leave it to autoanalyze.
ANALYZE_SHARE = 0.1


class PostgresWarehouse(Warehouse):
    """The PostgreSQL adapter (embedded default): stages through the Python parser and binary COPY.

    Connections come from the postgres provider's PostgresHook, so every extra of the Airflow
    connection (sslmode, sslrootcert, options, keepalives, IAM authentication) reaches psycopg.
    """

    dialect = "postgres"

    def __init__(self, conn_id: str, schema: str, connect: Callable[[], psycopg.Connection[Any]] | None = None) -> None:
        self.conn_id = conn_id
        self.schema = schema
        self._connect = connect
        self._conn: psycopg.Connection[Any] | None = None

    @cached_property
    def _hook(self) -> Any:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        # No options of our own: an explicit options parameter would override libpq's PGOPTIONS.
        # Session settings (application_name, options, sslmode, …) come from the connection's extra.
        return PostgresHook(postgres_conn_id=self.conn_id)

    def connect(self) -> psycopg.Connection[Any]:
        """A new psycopg connection (autocommit off) through the provider's hook."""
        if self._connect is not None:
            return self._connect()
        return self._hook.get_conn()

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[Any]]:
        """The adapter's connection, opened on first use and kept for its next transactions.

        Why: a task runs several short transactions (the DDL digest, its work, the audit row), and
        each new connection paid a TCP connect, SCRAM authentication on both ends and the hook's
        connection lookup, more than the statements themselves. Any error discards the connection
        (a lost server or a killed backend must not poison the next transaction); close() ends it.
        """
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._conn = self.connect()
        try:
            yield conn
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the kept connection, if any (the next transaction opens a new one)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        with self.session() as conn:
            conn.autocommit = False
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor

    @contextmanager
    def read_only_transaction(self, timeout_seconds: float) -> Iterator[psycopg.Cursor[Any]]:
        """READ ONLY + SET LOCAL statement_timeout, always rolled back (a check has nothing to commit)."""
        with self.session() as conn:
            conn.autocommit = False
            with conn.transaction(force_rollback=True), conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms(timeout_seconds)}")
                yield cursor

    def _execute_one(self, cursor: Any, sql: str, params: dict[str, Any]) -> None:
        """prepare=True: psycopg sends a query without bind values by the simple-query protocol,
        which runs every ';'-separated statement in it; a prepared statement holds exactly one."""
        cursor.execute(sql, params, prepare=True)

    def constraint_proof(
        self, table: str, check_type: str, columns: Sequence[str], partition_column: str | None = None
    ) -> str | None:
        """PostgreSQL enforces unique indexes and NOT NULL: read them from the catalog (sql/catalog)."""
        params = {"table": self.table(table), "columns": list(columns)}
        if check_type == "unique":
            if partition_column is not None:
                params["columns"] = [*columns, partition_column]
            row = self.fetch_one(render("catalog/unique_proof.sql"), params)
            return f"unique index {row[0]}" if row else None
        if check_type == "not_null":
            row = self.fetch_one(render("catalog/not_null_proof.sql"), params)
            return "NOT NULL constraints" if row and row[0] else None
        return None

    def stage_events(self, config: Config, partition_key: str) -> StagedPartition:
        """Parse the day's log objects in Python and stream the rows in with binary COPY (sparkify.staging)."""
        return stage_events_with_parser(self, config, partition_key)

    def stage_songs(self, config: Config) -> dict[str, Any]:
        """Parse the new or changed song objects in Python and COPY them in batches (sparkify.staging)."""
        return stage_songs_with_parser(self, config)

    @staticmethod
    def lock(cursor: psycopg.Cursor[Any], name: str) -> None:
        """Serialise writers of the same object until the transaction ends."""
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"sparkify:{name}",))

    def ensure_schema(self, ddl_statements: Iterable[str], digest: str | None = None) -> None:
        """Create the schema and every table if missing (idempotent; safe from concurrent runs).

        The digest is kept as the schema's comment (PostgreSQL's place for such a note: no
        bookkeeping table to create first); COMMENT takes no bind parameter, so it is validated.
        Checked again once the lock is held: runs that found the digest stale together apply the
        DDL once. Why: CREATE INDEX IF NOT EXISTS takes a SHARE lock on its table even when the
        index exists, so a second pass while the first run's tasks already write those tables
        could deadlock with them (two concurrent first runs did, in the order property test).
        """
        with self.transaction() as cursor:
            self.lock(cursor, "ddl")
            if digest is not None:
                cursor.execute(render("catalog/schema_comment.sql"), {"schema": self.schema})
                current = cursor.fetchone()
                if current is not None and current[0] == digest:
                    return
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
            for statement in ddl_statements:
                cursor.execute(statement)
            if digest is not None:
                cursor.execute(build_schema_comment_sql(self.schema, digest))

    def schema_version(self) -> str | None:
        """The schema's comment (see ensure_schema); None when the schema does not exist yet."""
        row = self.fetch_one(render("catalog/schema_comment.sql"), {"schema": self.schema})
        return row[0] if row else None

    def replace_partition(
        self,
        table: str,
        partition_key: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        rejected_table: str,
        rejected_rows: Iterable[Sequence[Any]] | None = None,
        reject_columns: Sequence[str] = (),
        manifest: Iterable[ManifestEntry] | None = None,
    ) -> int:
        """Delete one partition and stream its rows in with COPY, in one transaction.

        ``rows`` is consumed lazily inside the COPY, so a partition is never held in memory.
        ``rejected_rows`` and ``manifest`` (the day's objects, for event_manifest) are read after
        ``rows`` is exhausted (a parser fills them as it goes). Returns the number of rows copied.
        """
        target = self.table(table)
        rejects = self.table(rejected_table)
        copied = 0
        with self.transaction() as cursor:
            self.lock(cursor, f"{table}:{partition_key}")
            cursor.execute(build_delete_partition_sql(target, PARTITION_COLUMN), {"partition_key": partition_key})
            cursor.execute(build_delete_partition_sql(rejects, PARTITION_COLUMN), {"partition_key": partition_key})
            # QueuedLibpqWriter sends from a worker thread (GIL released while the socket waits),
            # so Python keeps parsing while the server ingests; bounded queue, memory stays flat.
            # Binary format: psycopg packs a row faster than as text, and the Python side is
            # staging's bottleneck (figures: bench/RESULTS.md); typed by the live table's columns.
            types = self._column_types(cursor, target, columns)
            with cursor.copy(build_copy_sql(target, columns, binary=True), writer=QueuedLibpqWriter(cursor)) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
                    copied += 1
            if rejected_rows is not None:
                with cursor.copy(build_copy_sql(rejects, reject_columns)) as copy:
                    for row in rejected_rows:
                        copy.write_row(row)
            if manifest is not None:
                self.record_event_manifest(cursor, partition_key, manifest)
        self.analyze(table, copied)
        return copied

    @staticmethod
    def _column_types(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str]) -> list[int]:
        """Type OIDs of the table's columns, in the given order (binary COPY needs exact types)."""
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped",
            (table,),
        )
        oids = dict(cursor.fetchall())
        missing = [c for c in columns if c not in oids]
        if missing:
            raise ValueError(f"table {table} has no column(s) {missing}: run ensure_schema / check sql/ddl")
        return [oids[c] for c in columns]

    def analyze(self, table: str, changed_rows: int | None = None) -> bool:
        """Refresh planner statistics after a load that changed a sizeable share of the table.

        Why: right after a COPY the planner still sees the old (or no) statistics; the songplays
        model then picked a nested loop over the catalogue and ran orders of magnitude slower
        (bench/bench.py). Once the table holds many partitions, one more day
        barely moves the statistics but ANALYZE still reads a 30k-row sample of an ever larger
        table (the bench saw it dominate staging cost growth), so it runs only when the table was
        never analysed or the load changed at least ANALYZE_SHARE of its rows - the threshold
        autovacuum's own autoanalyze uses, which covers the rest. Runs after the commit to hold
        no lock across the load. Returns whether it ran.
        """
        with self.session() as conn:
            conn.autocommit = True
            if changed_rows is not None:
                row = conn.execute(
                    "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (self.table(table),)
                ).fetchone()
                estimated = row[0] if row else -1
                if estimated > 0 and changed_rows < ANALYZE_SHARE * estimated:
                    return False
            conn.execute(f"ANALYZE {self.table(table)}")
            return True

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
        unit of change is an object rather than a day. Objects already at their version when the
        lock is granted are skipped (concurrent runs stage each object once, in one numbered batch).
        The batch's rows carry its load_seq and song_lookup is recomputed for the match keys it
        removed or added (SongCatalogueChanges), so the cost follows the batch, not the catalogue.
        """
        target, manifest, rejects = self.table(table), self.table(manifest_table), self.table(rejected_table)
        copied = 0
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(render("staging/loaded_versions_of.sql", this=manifest), {"keys": [o[0] for o in objects]})
            staged = dict(cursor.fetchall())
            objects = [o for o in objects if staged.get(o[0]) != o[1]]
            if not objects:  # a concurrent run staged them while this one waited for the lock
                return 0
            changes = SongCatalogueChanges.begin(self, cursor, table)
            for key, version, rows, rejected in objects:
                changes.record_removed(source_key=key)
                cursor.execute(f"DELETE FROM {target} WHERE source_key = %s", (key,))
                cursor.execute(f"DELETE FROM {rejects} WHERE source_key = %s", (key,))
                cursor.execute(
                    f"INSERT INTO {manifest} (source_key, version, rows_loaded, rejected, load_seq)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source_key) DO UPDATE SET version = EXCLUDED.version,"
                    " rows_loaded = EXCLUDED.rows_loaded, rejected = EXCLUDED.rejected, load_seq = EXCLUDED.load_seq",
                    (key, version, len(rows), len(rejected), changes.load_seq),
                )
                if rows:
                    with cursor.copy(build_copy_sql(target, [*columns, LOAD_SEQ_COLUMN])) as copy:
                        for row in rows:
                            copy.write_row((*row, changes.load_seq))
                if rejected:
                    with cursor.copy(build_copy_sql(rejects, reject_columns)) as copy:
                        for row in rejected:
                            copy.write_row(row)
                copied += len(rows)
            changes.apply()
        self.analyze(table, copied)
        return copied

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
