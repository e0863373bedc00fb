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
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter

from sparkify.parsing import LINEAGE_COLUMNS, SONG_COLUMNS
from sparkify.sqlfiles import qualified, quote_ident, render

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


def build_copy_sql(table: str, columns: Sequence[str], binary: bool = False) -> str:
    """COPY ... FROM STDIN for psycopg's streaming copy (no temp files, no newline traps).

    binary: PostgreSQL's binary COPY format; the caller must set the columns' types.
    """
    sql = f"COPY {table} ({', '.join(quote_ident(c) for c in columns)}) FROM STDIN"
    return sql + " (FORMAT BINARY)" if binary else sql


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


class QueryRefused(RuntimeError):
    """The warehouse stopped a read-only query: it tried to write, held several statements or ran too long.

    Raised by :meth:`SqlWarehouse.fetch_read_only` in place of the driver's error, with a message
    that says which guard stopped it; retrying the same SQL cannot succeed.
    """


#: SQLSTATE -> why the read-only guard stopped the query (same codes on PostgreSQL and Redshift).
_REFUSALS = {
    "25006": "it tried to write, and a check may only read",  # read_only_sql_transaction
    "57014": "it ran past the statement timeout of {timeout:g} s (quality.statement_timeout_seconds)",
}
#: The server's words for several statements sent as one prepared (extended-protocol) statement.
_MULTIPLE_COMMANDS = "cannot insert multiple commands into a prepared statement"


def timeout_ms(timeout_seconds: float) -> int:
    """statement_timeout in whole milliseconds, at least 1 (0 would mean no limit at all)."""
    return max(1, round(timeout_seconds * 1000))


def refusal_reason(exc: BaseException, timeout_seconds: float) -> str | None:
    """Why the read-only guard stopped a query, or None for any other error (bad SQL, lost connection).

    psycopg errors carry ``sqlstate``; redshift_connector raises with the server's error fields
    (``C`` code, ``M`` message) as a dict in ``args[0]``.
    """
    state = getattr(exc, "sqlstate", None)
    message = str(exc)
    fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    state = state or fields.get("C")
    message = str(fields.get("M", message))
    if state in _REFUSALS:
        return _REFUSALS[state].format(timeout=timeout_seconds)
    if _MULTIPLE_COMMANDS in message:
        return "it holds more than one SQL statement (a ';' outside quotes), and a check must be one statement"
    return None


#: A load that changes at least this share of a table's rows refreshes its statistics at once
#: (autovacuum's default autovacuum_analyze_scale_factor); smaller ones leave it to autoanalyze.
ANALYZE_SHARE = 0.1


class SqlWarehouse:
    """What both adapters do the same way through a DB-API cursor (psycopg, redshift_connector).

    Subclasses provide transaction() (a pyformat cursor inside one transaction) and schema.
    Kept in one place so a fix to reads or audit inserts reaches both warehouses.
    """

    schema: str

    def transaction(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def table(self, name: str) -> str:
        """Schema-qualified quoted name of a warehouse table."""
        return qualified(self.schema, name)

    @staticmethod
    def _columns_of(cursor: Any, relation: str) -> list[str]:
        cursor.execute(f"SELECT * FROM {relation} LIMIT 0")
        return [d[0] for d in cursor.description or ()]

    def loaded_versions(self, manifest_table: str) -> dict[str, str]:
        """source_key -> version of every object already staged."""
        with self.transaction() as cursor:
            cursor.execute(f"SELECT source_key, version FROM {self.table(manifest_table)}")
            return {key: version for key, version in cursor.fetchall()}

    def fetch_one(self, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
        """Run a read-only query and return its first row."""
        with self.transaction() as cursor:
            cursor.execute(sql, params or {})
            row = cursor.fetchone()
            return tuple(row) if row is not None else None

    def fetch_all(self, sql: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a read-only query; return its column names and all rows (callers LIMIT it)."""
        with self.transaction() as cursor:
            cursor.execute(sql, params or {})
            return [d[0] for d in cursor.description or ()], [tuple(r) for r in cursor.fetchall()]

    def read_only_transaction(self, timeout_seconds: float) -> Any:  # pragma: no cover - abstract
        """A cursor in a READ ONLY transaction whose statements stop after timeout_seconds; rolled back at the end."""
        raise NotImplementedError

    def _execute_one(self, cursor: Any, sql: str, params: dict[str, Any]) -> None:
        """Send sql as exactly one statement (extended query protocol: a ';' inside cannot stack a second)."""
        cursor.execute(sql, params)

    def fetch_read_only(
        self, sql: str, params: dict[str, Any] | None, *, timeout_seconds: float
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one query that must only read (a data-quality check); return its column names and rows.

        Why: checks run SQL written in config.json and sql/ (``expression``, ``sql``), by people who
        should not be able to change the warehouse through a check. The query runs as ONE statement
        in a READ ONLY transaction with a statement timeout, so a write (also one hidden in a
        function), a stacked ``; DROP TABLE …`` or a query that never ends is stopped by the
        warehouse itself and raised as :class:`QueryRefused` with the reason.
        """
        try:
            with self.read_only_transaction(timeout_seconds) as cursor:
                self._execute_one(cursor, sql, params or {})
                columns = [d[0] for d in cursor.description or ()]
                return columns, [tuple(row) for row in cursor.fetchall()]
        except Exception as exc:
            reason = refusal_reason(exc, timeout_seconds)
            if reason is None:
                raise
            raise QueryRefused(f"query refused: {reason} ({type(exc).__name__}: {exc})") from exc

    def constraint_proof(
        self, table: str, check_type: str, columns: Sequence[str], partition_column: str | None = None
    ) -> str | None:
        """The constraint that makes a unique/not_null check on columns unable to fail, or None.

        partition_column: set for a partition-scoped check. All its rows share that column's
        value, so a unique key on (partition_column, columns) proves columns unique within it.

        Why: a whole-table unique or not_null check scans a table that grows every day (the
        bench saw checks cost 3.7x more by day 365), while a constraint the database enforces
        already guarantees the result. Only enforced constraints count; the base adapter knows
        none (Redshift's PRIMARY KEY and UNIQUE are informational), so the check query runs.
        """
        return None

    def insert_row(self, table: str, row: dict[str, Any]) -> None:
        """Append one row (an audit record such as a check result); values are bind parameters."""
        columns = ", ".join(quote_ident(c) for c in row)
        values = ", ".join(f"%({c})s" for c in row)
        with self.transaction() as cursor:
            cursor.execute(f"INSERT INTO {self.table(table)} ({columns}) VALUES ({values})", row)


class PostgresWarehouse(SqlWarehouse):
    """The PostgreSQL adapter (embedded default)."""

    dialect = "postgres"

    def __init__(self, params: ConnectionParams, schema: str) -> None:
        self.params = params
        self.schema = schema

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        with psycopg.connect(**self.params.kwargs(), autocommit=False, application_name="sparkify") as conn:
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor

    @contextmanager
    def read_only_transaction(self, timeout_seconds: float) -> Iterator[psycopg.Cursor[Any]]:
        """READ ONLY + SET LOCAL statement_timeout, always rolled back (a check has nothing to commit)."""
        with psycopg.connect(**self.params.kwargs(), autocommit=False, application_name="sparkify") as conn:
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
            # Binary format: psycopg packs a row in ~0.8 us instead of ~2.1 us as text (the Python
            # side is staging's bottleneck; bench/bench.py), typed by the live table's columns.
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
        model then picked a nested loop over the catalogue and took 25-40 s instead of 0.1 s per
        20k-event partition (bench/bench.py). Once the table holds many partitions, one more day
        barely moves the statistics but ANALYZE still reads a 30k-row sample of an ever larger
        table (the bench saw it dominate staging cost growth), so it runs only when the table was
        never analysed or the load changed at least ANALYZE_SHARE of its rows - the threshold
        autovacuum's own autoanalyze uses, which covers the rest. Runs after the commit to hold
        no lock across the load. Returns whether it ran.
        """
        with psycopg.connect(**self.params.kwargs(), autocommit=True, application_name="sparkify") as conn:
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
        if objects:
            self.analyze(table)
        return copied

    def replace_partition_from_select(
        self, table: str, partition_column: str, select_sql: str, params: dict[str, Any]
    ) -> int:
        """Fact load: delete the partition's rows and insert the model's rows, one transaction."""
        target = self.table(table)
        with self.transaction() as cursor:
            self.lock(cursor, f"{table}:{params['partition_key']}")
            # The fact model joins a day of events to the deduplicated catalogue (a derived table,
            # no index to probe): a hash join is right at every size, but a planner that estimates
            # a not-yet-analysed partition at ~1 row picks a nested loop and a 0.3 s load takes
            # 10-40 s (bench/bench.py). Statistics are not refreshed after every load (see
            # analyze), so the join method is pinned for this transaction instead.
            cursor.execute("SET LOCAL enable_nestloop = off")
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


# =========================================================================== Amazon Redshift
#
# Production warehouse. Differences from PostgreSQL, all handled below:
# - staging: COPY … FROM 's3://…' IAM_ROLE … FORMAT AS JSON '<jsonpaths>' straight from the
#   bucket into a temp table, then delete + insert the partition in the same transaction (the
#   Python parser is not in the path; bad lines are skipped up to MAXERROR and copied from
#   STL_LOAD_ERRORS into rejected_lines);
# - no advisory locks: LOCK <table> serialises writers (Redshift transactions are serializable);
# - no INSERT … ON CONFLICT: MERGE (upsert, upsert_latest) and INSERT … WHERE NOT EXISTS;
# - no ON COMMIT DROP temp tables: temp tables are dropped explicitly;
# - DDL gets distribution and sort keys (REDSHIFT_TABLE_ATTRIBUTES).
# Lineage on Redshift: COPY cannot say which object or line a row came from, so staged events
# carry source_key = the partition's S3 prefix and line_number = the row's rank by
# (ts, session_id, item_in_session, user_id) within the partition (deterministic, not the file
# line); rejected lines keep the real object key and line number from STL_LOAD_ERRORS.
# Mojibake repair (song_clean/artist_clean) needs byte-level Latin-1 re-decoding that Redshift
# SQL has no function for (and new Python UDFs are no longer supported): on Redshift the clean
# columns hold the raw strings, so double-encoded titles do not match the catalogue.

#: JSON field of a log event -> staging_events column, in COPY column order.
EVENT_JSON_FIELDS: tuple[tuple[str, str], ...] = (
    ("artist", "artist"),
    ("auth", "auth"),
    ("firstName", "first_name"),
    ("gender", "gender"),
    ("itemInSession", "item_in_session"),
    ("lastName", "last_name"),
    ("length", "length"),
    ("level", "level"),
    ("location", "location"),
    ("method", "method"),
    ("page", "page"),
    ("registration", "registration"),
    ("sessionId", "session_id"),
    ("song", "song"),
    ("status", "status"),
    ("ts", "ts"),
    ("userAgent", "user_agent"),
    ("userId", "user_id"),
)
#: JSON field of a song record -> staging_songs column (same names).
SONG_JSON_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (name, name) for name in SONG_COLUMNS if name not in LINEAGE_COLUMNS
)
#: Distribution and sort keys per table. Dimensions that every songplay joins are small: ALL
#: copies them to every node; the fact and songs share song_id as DISTKEY so their join is local.
REDSHIFT_TABLE_ATTRIBUTES: dict[str, str] = {
    "staging_events": "DISTSTYLE EVEN SORTKEY (partition_key, ts)",
    "staging_songs": "DISTKEY (song_id) SORTKEY (song_id)",
    "songplays": "DISTKEY (song_id) SORTKEY (partition_key, start_time)",
    "songs": "DISTKEY (song_id) SORTKEY (song_id)",
    "users": "DISTSTYLE ALL SORTKEY (user_id)",
    "artists": "DISTSTYLE ALL SORTKEY (artist_id)",
    "time": "DISTKEY (start_time) SORTKEY (start_time)",
    "load_manifest": "DISTSTYLE ALL",
    "rejected_lines": "DISTSTYLE EVEN SORTKEY (partition_key)",
}
#: Keys of the warehouse connection's extra that configure COPY (not passed to the driver).
COPY_EXTRA_KEYS = ("copy_iam_role", "copy_region", "copy_maxerror", "jsonpaths_prefix")
DEFAULT_MAXERROR = 1000
_CREATE_TABLE = re.compile(r'^\s*CREATE TABLE IF NOT EXISTS "[a-z_][a-z0-9_]*"\."([a-z_][a-z0-9_]*)"', re.MULTILINE)
_IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_S3_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_.=/+-]*)?$")


def build_jsonpaths(fields: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """The JSONPaths document mapping JSON fields to COPY columns, in column order.

    Bracket notation so field names are taken literally (no dots or wildcards interpreted).
    """
    return {"jsonpaths": [f"$['{json_field}']" for json_field, _ in fields]}


def _literal(value: str, pattern: re.Pattern[str], what: str) -> str:
    """A quoted SQL literal for a value COPY cannot take as a bind parameter, after validation."""
    if not pattern.fullmatch(value):
        raise ValueError(f"invalid {what} {value!r}")
    return "'" + value + "'"


@dataclass(frozen=True, slots=True)
class CopyOptions:
    """How COPY reaches S3: the cluster's IAM role (never keys), region and error budget."""

    iam_role: str
    region: str
    maxerror: int = DEFAULT_MAXERROR
    jsonpaths_prefix: str = ""


def build_redshift_copy_sql(
    table: str,
    columns: Sequence[str],
    s3_location: str,
    jsonpaths_location: str,
    options: CopyOptions,
    manifest: bool = False,
) -> str:
    """COPY JSON from S3 with a JSONPaths file; credentials are the IAM role only, never keys."""
    if not 0 <= options.maxerror <= 100000:
        raise ValueError(f"MAXERROR must be within 0..100000, got {options.maxerror}")
    cols = ", ".join(quote_ident(c) for c in columns)
    return (
        f"COPY {table} ({cols})\n"
        f"FROM {_literal(s3_location, _S3_LOCATION, 'S3 location')}\n"
        f"IAM_ROLE {_literal(options.iam_role, _IAM_ROLE_ARN, 'IAM role ARN')}\n"
        f"FORMAT AS JSON {_literal(jsonpaths_location, _S3_LOCATION, 'JSONPaths location')}\n"
        + ("MANIFEST\n" if manifest else "")
        + "TIMEFORMAT 'epochmillisecs'\n"
        f"REGION {_literal(options.region, _REGION, 'region')}\n"
        f"MAXERROR {int(options.maxerror)}\n"
        "COMPUPDATE OFF STATUPDATE OFF"
    )


def build_temp_like_sql(temp: str, table: str, columns: Sequence[str]) -> str:
    """An empty temp table with the staging table's column types (CTAS copies the types)."""
    cols = ", ".join(quote_ident(c) for c in columns)
    return f"CREATE TEMP TABLE {temp} AS SELECT {cols} FROM {table} WHERE 1 = 0"


def build_insert_events_sql(table: str, temp: str, fields: Sequence[tuple[str, str]]) -> str:
    """Move COPYed events into the partition, adding lineage the Python path gets from the parser.

    line_number: rank by event order (deterministic); artist_clean/song_clean: raw strings
    (no mojibake repair in Redshift SQL).
    """
    raw = [quote_ident(column) for _, column in fields]
    target = [
        "partition_key", "source_key", "line_number", "record_in_line", *[c for _, c in fields],
        "artist_clean", "song_clean",
    ]  # fmt: skip
    order = "ts, session_id, item_in_session, user_id, page, song, artist"
    return (
        f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in target)})\n"
        f"SELECT %(partition_key)s, %(source_key)s,\n"
        f"       ROW_NUMBER() OVER (ORDER BY {order}), 1,\n"
        f"       {', '.join(raw)}, artist, song\n"
        f"FROM {temp}"
    )


def build_copy_rejects_sql(rejected_table: str) -> str:
    """Lines the last COPY skipped (MAXERROR) into rejected_lines, with their real object and line.

    STL_LOAD_ERRORS keeps at most 1024 characters of a line: byte_length and raw_sha256 describe
    that logged text, not necessarily the whole line.
    """
    return (
        f"INSERT INTO {rejected_table} (partition_key, source_key, line_number, record_in_line, reason,"
        " byte_length, raw_sha256, raw_line)\n"
        "SELECT %(partition_key)s, TRIM(filename), line_number, 1,\n"
        "       LEFT(TRIM(colname) || ': ' || TRIM(err_reason), 1024),\n"
        "       OCTET_LENGTH(TRIM(raw_line)), SHA2(TRIM(raw_line), 256), LEFT(TRIM(raw_line), 4000)\n"
        "FROM stl_load_errors\n"
        "WHERE query = pg_last_copy_id()"
    )


def build_insert_songs_sql(table: str, temp: str, fields: Sequence[tuple[str, str]]) -> str:
    """Move COPYed song records into staging_songs; source_key is the batch's manifest object."""
    cols = [c for _, c in fields]
    target = ["source_key", "line_number", *cols]
    return (
        f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in target)})\n"
        f"SELECT %(source_key)s, ROW_NUMBER() OVER (ORDER BY song_id, artist_id, title),\n"
        f"       {', '.join(quote_ident(c) for c in cols)}\n"
        f"FROM {temp}"
    )


def build_delete_songs_sql(table: str, temp: str) -> str:
    """Drop staged rows of the songs about to be reloaded (COPY gives no per-row object key)."""
    return f"DELETE FROM {table} WHERE song_id IN (SELECT song_id FROM {temp})"


def _newer(new: str, old: str, columns: Sequence[str]) -> str:
    """(n1, n2, …) > (o1, o2, …) spelled out: Redshift has no row-value comparison."""
    terms = []
    for i, column in enumerate(columns):
        equal = [f"{new}.{quote_ident(c)} = {old}.{quote_ident(c)}" for c in columns[:i]]
        terms.append(" AND ".join([*equal, f"{new}.{quote_ident(column)} > {old}.{quote_ident(column)}"]))
    return " OR ".join(f"({t})" for t in terms)


def build_redshift_upsert_sql(
    table: str,
    source: str,
    columns: Sequence[str],
    key: Sequence[str],
    mode: str,
    version_columns: Sequence[str] = (),
) -> list[str]:
    """Statements merging source (a temp table) into table; the Redshift form of build_upsert_sql.

    - insert_missing: INSERT … WHERE NOT EXISTS.
    - upsert: MERGE (matched rows are updated, also when unchanged: same result, more writes).
    - upsert_latest: first drop source rows that are not newer than the stored row (Redshift's
      MERGE allows no condition on WHEN MATCHED), then MERGE — the latest version wins in any order.
    """
    if mode not in UPSERT_MODES:
        raise ValueError(f"unknown load mode {mode!r}; expected one of {UPSERT_MODES}")
    if not key or not set(key) <= set(columns):
        raise ValueError(f"key {list(key)} must be a non-empty subset of columns {list(columns)}")
    cols = ", ".join(quote_ident(c) for c in columns)
    match = " AND ".join(f"target.{quote_ident(c)} = source.{quote_ident(c)}" for c in key)
    updates = [c for c in columns if c not in key]
    if mode == "insert_missing" or not updates:
        return [
            f"INSERT INTO {table} ({cols})\nSELECT {cols} FROM {source} AS source\n"
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS target WHERE {match})"
        ]
    statements = []
    if mode == "upsert_latest":
        if not version_columns or not set(version_columns) <= set(columns):
            raise ValueError(f"upsert_latest needs version_columns within {list(columns)}")
        statements.append(
            f"DELETE FROM {source} USING {table} AS target\n"
            f"WHERE {match.replace('source.', f'{source}.')}\n"
            f"  AND NOT ({_newer(source, 'target', version_columns)})"
        )
    assignments = ", ".join(f"{quote_ident(c)} = source.{quote_ident(c)}" for c in updates)
    values = ", ".join(f"source.{quote_ident(c)}" for c in columns)
    # The target is named in full: Redshift's MERGE takes no alias for it.
    on = " AND ".join(f"{table}.{quote_ident(c)} = source.{quote_ident(c)}" for c in key)
    statements.append(
        f"MERGE INTO {table} USING {source} AS source\nON {on}\n"
        f"WHEN MATCHED THEN UPDATE SET {assignments}\n"
        f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})"
    )
    return statements


def redshift_table_ddl(statement: str) -> str:
    """Append the table's DISTKEY/SORTKEY attributes to a rendered sql/ddl statement.

    The sql/ddl files are shared with PostgreSQL (their types exist in both); only the table
    attributes after the closing parenthesis are Redshift's.
    """
    found = _CREATE_TABLE.search(statement)
    attributes = REDSHIFT_TABLE_ATTRIBUTES.get(found.group(1), "") if found else ""
    return f"{statement.rstrip()}\n{attributes}" if attributes else statement


class RedshiftWarehouse(SqlWarehouse):
    """The Amazon Redshift adapter: same surface as PostgresWarehouse, COPY from S3 for staging.

    Driver: redshift_connector through the amazon provider's RedshiftSQLHook connection rules
    (already installed with the provider; supports IAM authentication with ``"iam": true`` in
    the connection extra, so no password needs to exist anywhere). COPY authenticates with the
    cluster's IAM role from the connection extra (``copy_iam_role``): no keys in SQL or logs.
    """

    dialect = "redshift"
    copies_from_s3 = True

    def __init__(self, conn_id: str, schema: str, options: CopyOptions, connect: Any = None) -> None:
        self.conn_id = conn_id
        self.schema = schema
        self.options = options
        self._connect = connect

    def _open(self) -> Any:
        if self._connect is not None:
            return self._connect()
        import redshift_connector
        from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

        hook = RedshiftSQLHook(redshift_conn_id=self.conn_id)
        extra = {k: v for k, v in hook.conn.extra_dejson.items() if k not in COPY_EXTRA_KEYS}
        return redshift_connector.connect(**hook._get_conn_params(), **extra)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A pyformat cursor in one transaction: committed on success, rolled back on error."""
        conn = self._open()
        try:
            conn.autocommit = False
            cursor = conn.cursor()
            cursor.paramstyle = "pyformat"
            yield cursor
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    @contextmanager
    def read_only_transaction(self, timeout_seconds: float) -> Iterator[Any]:
        """SET statement_timeout, BEGIN READ ONLY, the caller's query, ROLLBACK; the session then closes.

        autocommit is on so that redshift_connector does not open a read-write transaction
        itself before the first statement (it sends its own BEGIN when autocommit is off); the
        transaction is ours and read-only. redshift_connector only speaks the extended query
        protocol, so a query with a stacked second statement is refused by the server.
        """
        conn = self._open()
        try:
            conn.autocommit = True
            cursor = conn.cursor()
            cursor.paramstyle = "pyformat"
            cursor.execute(f"SET statement_timeout TO {timeout_ms(timeout_seconds)}")
            cursor.execute("BEGIN READ ONLY")
            yield cursor
            cursor.execute("ROLLBACK")
        finally:
            conn.close()

    def lock(self, cursor: Any, table: str) -> None:
        """Serialise writers of a table until commit (no advisory locks on Redshift)."""
        cursor.execute(f"LOCK {self.table(table)}")

    def ensure_schema(self, ddl_statements: Iterable[str]) -> None:
        """Create the schema and every table with distribution/sort keys (idempotent)."""
        with self.transaction() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
            for statement in ddl_statements:
                cursor.execute(redshift_table_ddl(statement))

    def jsonpaths_location(self, source_uri: str, table: str) -> str:
        """Where the pipeline uploads the table's JSONPaths file (next to the source by default)."""
        base = self.options.jsonpaths_prefix or f"{source_uri.rstrip('/')}/_sparkify/jsonpaths"
        return f"{base.rstrip('/')}/{table}.json"

    def copy_events_partition(
        self,
        table: str,
        rejected_table: str,
        partition_key: str,
        partition_uri: str,
        jsonpaths_uri: str,
        copy_manifest_uri: str | None = None,
    ) -> int:
        """Replace one partition from S3: COPY to temp, delete, insert, rejects; one transaction.

        copy_manifest_uri: a COPY manifest naming exactly the day's log objects (other objects
        under the prefix are not loaded); without it COPY reads everything under partition_uri.
        Staged rows carry partition_uri as their source_key.
        """
        temp = "_copy_events"
        target, rejects = self.table(table), self.table(rejected_table)
        raw_columns = [c for _, c in EVENT_JSON_FIELDS]
        params = {"partition_key": partition_key, "source_key": partition_uri}
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(build_temp_like_sql(temp, target, raw_columns))
            cursor.execute(
                build_redshift_copy_sql(
                    temp,
                    raw_columns,
                    copy_manifest_uri or partition_uri,
                    jsonpaths_uri,
                    self.options,
                    manifest=copy_manifest_uri is not None,
                )
            )
            cursor.execute(build_delete_partition_sql(target, "partition_key"), params)
            cursor.execute(build_delete_partition_sql(rejects, "partition_key"), params)
            cursor.execute(build_insert_events_sql(target, temp, EVENT_JSON_FIELDS), params)
            loaded = int(cursor.rowcount)
            cursor.execute(build_copy_rejects_sql(rejects), params)
            cursor.execute(f"DROP TABLE {temp}")
        return loaded

    def clear_partition(self, table: str, rejected_table: str, partition_key: str) -> None:
        """An allowed empty partition: its old rows and rejections go, nothing comes in."""
        params = {"partition_key": partition_key}
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(build_delete_partition_sql(self.table(table), "partition_key"), params)
            cursor.execute(build_delete_partition_sql(self.table(rejected_table), "partition_key"), params)

    def copy_song_objects(
        self,
        table: str,
        manifest_table: str,
        objects: Sequence[tuple[str, str]],
        copy_manifest_uri: str,
        jsonpaths_uri: str,
    ) -> int:
        """Reload the songs of the listed objects (key, version) from a COPY manifest; record them."""
        temp = "_copy_songs"
        target, manifest = self.table(table), self.table(manifest_table)
        columns = [c for _, c in SONG_JSON_FIELDS]
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(build_temp_like_sql(temp, target, columns))
            cursor.execute(
                build_redshift_copy_sql(temp, columns, copy_manifest_uri, jsonpaths_uri, self.options, manifest=True)
            )
            cursor.execute(build_delete_songs_sql(target, temp))
            cursor.execute(build_insert_songs_sql(target, temp, SONG_JSON_FIELDS), {"source_key": copy_manifest_uri})
            loaded = int(cursor.rowcount)
            for key, version in objects:
                cursor.execute(f"DELETE FROM {manifest} WHERE source_key = %(key)s", {"key": key})
                cursor.execute(
                    f"INSERT INTO {manifest} (source_key, version, rows_loaded, rejected)"
                    " VALUES (%(key)s, %(version)s, 0, 0)",
                    {"key": key, "version": version},
                )
            cursor.execute(f"DROP TABLE {temp}")
        return loaded

    def replace_partition_from_select(
        self, table: str, partition_column: str, select_sql: str, params: dict[str, Any]
    ) -> int:
        """Fact load: the shared marts SQL into a temp table, then delete + insert the partition."""
        target = self.table(table)
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(f"CREATE TEMP TABLE _model AS {select_sql}", params)
            columns = ", ".join(quote_ident(c) for c in self._columns_of(cursor, "_model"))
            cursor.execute(build_delete_partition_sql(target, partition_column), params)
            cursor.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM _model")
            rows = int(cursor.rowcount)
            cursor.execute("DROP TABLE _model")
            return rows

    def upsert_from_select(
        self,
        table: str,
        select_sql: str,
        params: dict[str, Any],
        key: Sequence[str],
        mode: str,
        version_columns: Sequence[str] = (),
    ) -> int:
        """Dimension load: materialise the shared model, then MERGE / INSERT WHERE NOT EXISTS."""
        rows = 0
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(f"CREATE TEMP TABLE _model AS {select_sql}", params)
            columns = self._columns_of(cursor, "_model")
            target = self.table(table)
            for statement in build_redshift_upsert_sql(target, "_model", columns, key, mode, version_columns):
                cursor.execute(statement)
                rows = int(cursor.rowcount)
            cursor.execute("DROP TABLE _model")
        return rows


def copy_options_from_extra(conn_id: str, extra: dict[str, Any], region_default: str = "us-east-1") -> CopyOptions:
    """COPY settings from the warehouse connection's extra; the IAM role is required."""
    role = extra.get("copy_iam_role")
    if not role:
        raise ValueError(
            f"connection {conn_id!r}: extra 'copy_iam_role' (the cluster's IAM role ARN for COPY) is required"
        )
    return CopyOptions(
        iam_role=str(role),
        region=str(extra.get("copy_region") or region_default),
        maxerror=int(extra.get("copy_maxerror", DEFAULT_MAXERROR)),
        jsonpaths_prefix=str(extra.get("jsonpaths_prefix") or ""),
    )


def warehouse_for(conn_id: str, schema: str) -> PostgresWarehouse | RedshiftWarehouse:
    """The adapter for an Airflow connection, chosen by its conn_type (redshift or postgres)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type == "redshift":
        return RedshiftWarehouse(conn_id, schema, copy_options_from_extra(conn_id, conn.extra_dejson))
    if conn.conn_type not in ("postgres", "postgresql"):
        raise ValueError(f"connection {conn_id!r} has type {conn.conn_type!r}; supported: postgres, redshift")
    params = ConnectionParams(
        host=conn.host or "127.0.0.1",
        port=int(conn.port or 5432),
        dbname=conn.schema or "postgres",
        user=conn.login or "postgres",
        password=conn.password,
    )
    return PostgresWarehouse(params, schema)
