"""The warehouse interface: the abstract base every adapter implements, and what they share.

Concurrency: every write takes a transaction-scoped lock named after what it writes (a table,
or a table + partition), so concurrent partition runs never race on unique keys and two runs of
the same partition serialise instead of failing.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.project import EVENT_MANIFEST_TABLE, MANIFEST_TABLE, SONG_CHANGES_TABLE, SONG_LOOKUP_TABLE
from sparkify.source_schema import PARTITION_COLUMN
from sparkify.sqlfiles import qualified, quote_ident, render
from sparkify.sweep import ManifestEntry, manifest_rows
from sparkify.warehouse.sql import build_delete_partition_sql

if TYPE_CHECKING:
    from sparkify.config import Config
    from sparkify.staging import StagedPartition

def ddl_digest(ddl_statements: Sequence[str]) -> str:
    """A short, stable name of a set of DDL statements: 'sparkify-ddl:<sha256 prefix>'."""
    return "sparkify-ddl:" + hashlib.sha256("\n;\n".join(ddl_statements).encode()).hexdigest()[:32]


class QueryRefused(RuntimeError):
    """The warehouse stopped a read-only query: it tried to write, held several statements or ran too long.

    Raised by :meth:`Warehouse.fetch_read_only` in place of the driver's error, with a message
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


class Warehouse(ABC):
    """Every operation the operators use, whichever warehouse is behind it.

    The operators speak in intentions (stage a partition, replace the fact's partition, upsert a
    dimension, run a read-only check) and never ask which adapter they hold. What both adapters
    do the same way through a DB-API cursor (psycopg, redshift_connector) is implemented here once,
    so a fix to reads or audit inserts reaches both; the rest is declared abstract and each
    adapter module (postgres, redshift) implements it.
    """

    schema: str
    #: Whether the warehouse has secondary indexes (sql/ddl/indexes); Redshift has sort keys instead.
    supports_indexes: bool = True

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """A pyformat cursor inside one transaction: committed on success, rolled back on any error."""

    @abstractmethod
    def read_only_transaction(self, timeout_seconds: float) -> AbstractContextManager[Any]:
        """A cursor in a READ ONLY transaction whose statements stop after timeout_seconds; rolled back."""

    @abstractmethod
    def ensure_schema(self, ddl_statements: Iterable[str], digest: str | None = None) -> None:
        """Create the schema and every table if missing (idempotent; safe from concurrent runs).

        digest: ddl_digest of the statements, recorded (where the warehouse can) for
        ensure_schema_once.
        """

    @abstractmethod
    def stage_events(self, config: Config, partition_key: str) -> StagedPartition:
        """Replace one day's partition of the staging events (and its rejections) from the source."""

    @abstractmethod
    def stage_songs(self, config: Config) -> dict[str, Any]:
        """Stage the song objects that are new or changed since the last load (load manifest)."""

    @abstractmethod
    def replace_partition_from_select(
        self, table: str, partition_column: str, select_sql: str, params: dict[str, Any]
    ) -> int:
        """Fact load: delete the partition's rows and insert the model's rows, in one transaction."""

    @abstractmethod
    def upsert_from_select(
        self,
        table: str,
        select_sql: str,
        params: dict[str, Any],
        key: Sequence[str],
        mode: str,
        version_columns: Sequence[str] = (),
    ) -> int:
        """Dimension load: materialise the model, then merge it into the table under a lock."""

    def close(self) -> None:  # noqa: B027 - an optional hook: an adapter that keeps nothing has nothing to close
        """Release what the adapter keeps between transactions (nothing by default)."""

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
            cursor.execute(render("staging/loaded_versions.sql", this=self.table(manifest_table)))
            return {key: version for key, version in cursor.fetchall()}

    def newest_staged_day(self, today: str) -> str | None:
        """The newest day in event_manifest not after today (YYYY-MM-DD), None when nothing is staged."""
        row = self.fetch_one(
            render("sweep/newest_staged_day.sql", event_manifest=self.table(EVENT_MANIFEST_TABLE)), {"today": today}
        )
        return row[0] if row else None

    def staged_objects(self, first_day: str, last_day: str) -> dict[str, dict[str, str]]:
        """day -> {source_key: version} of the days staged within first_day..last_day (event_manifest)."""
        _, rows = self.fetch_all(
            render("sweep/staged_objects.sql", event_manifest=self.table(EVENT_MANIFEST_TABLE)),
            {"first_day": first_day, "last_day": last_day},
        )
        staged: dict[str, dict[str, str]] = {}
        for day, key, version in rows:
            staged.setdefault(day, {})[key] = version
        return staged

    def record_event_manifest(self, cursor: Any, partition_key: str, entries: Iterable[ManifestEntry]) -> None:
        """Replace a day's event_manifest rows, inside the transaction that replaces the day's partition.

        Why the same transaction: the manifest must describe exactly the rows staging_events holds,
        else a sweep after a failed (rolled back) staging would find nothing to do.
        """
        manifest = self.table(EVENT_MANIFEST_TABLE)
        cursor.execute(build_delete_partition_sql(manifest, PARTITION_COLUMN), {"partition_key": partition_key})
        statement = render("staging/event_manifest_record.sql", event_manifest=manifest)
        for entry in manifest_rows(entries):
            cursor.execute(statement, entry.params(partition_key))

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

        Why: a whole-table unique or not_null check scans a table that grows every day (its
        cost grew with history in bench/bench.py), while a constraint the database enforces
        already guarantees the result. Only enforced constraints count; the base adapter knows
        none (Redshift's PRIMARY KEY and UNIQUE are informational), so the check query runs.
        """
        return None

    def permanent_error(self, exc: BaseException) -> bool:
        """Whether a database error is one retrying the same statement cannot fix.

        SQLSTATE class 42 (syntax error or access rule violation: undefined table or column,
        syntax, permissions) is; lost connections, lock timeouts and serialization failures are
        not. psycopg errors carry ``sqlstate``; redshift_connector passes the server's fields
        (``C`` = code) as a dict in ``args[0]``.
        """
        state = getattr(exc, "sqlstate", None)
        if not state and exc.args and isinstance(exc.args[0], dict):
            state = exc.args[0].get("C")
        return isinstance(state, str) and state.startswith("42")

    @contextmanager
    def failing_fast(self, what: str) -> Iterator[None]:
        """Turn a permanent SQL error inside the block into AirflowFailException naming ``what``.

        Why: Airflow retries every other exception, so an undefined table or a typo in a model
        burned its retries (minutes of backoff) before anyone saw the message.
        """
        try:
            yield
        except AirflowFailException:
            raise
        except Exception as exc:
            if not self.permanent_error(exc):
                raise
            raise AirflowFailException(
                f"{what}: {type(exc).__name__}: {str(exc).strip()} (retrying cannot fix this)"
            ) from exc

    def schema_version(self) -> str | None:
        """The DDL digest recorded by the last ensure_schema, or None when the warehouse keeps none."""
        return None

    def ensure_schema_once(self, ddl_statements: Sequence[str]) -> bool:
        """ensure_schema, skipped when the declared DDL is the one last applied; returns whether it ran.

        Why: every DAG that writes tables ensures them (a table added to config.json must work
        whichever DAG runs first), but running every CREATE … IF NOT EXISTS in each partition's
        run costs a transaction and a lock; comparing a digest costs one query.
        """
        digest = ddl_digest(ddl_statements)
        if self.schema_version() == digest:
            return False
        self.ensure_schema(ddl_statements, digest)
        return True

    def insert_row(self, table: str, row: dict[str, Any]) -> None:
        """Append one row (an audit record such as a check result); values are bind parameters."""
        columns = ", ".join(quote_ident(c) for c in row)
        values = ", ".join(f"%({c})s" for c in row)
        with self.transaction() as cursor:
            cursor.execute(f"INSERT INTO {self.table(table)} ({columns}) VALUES ({values})", row)


@dataclass
class SongCatalogueChanges:
    """One song-staging transaction's changes, carried into what depends on the catalogue.

    Why: the songplays model matches every event against the catalogue and the songs and artists
    models merge it; done over the whole catalogue they cost O(catalogue) for every partition.
    Instead each batch gets a load_seq, records the rows it removes and adds, and before commit
    (:meth:`apply`) gives rows sharing a removed row's song or artist its load_seq (the winning
    record may have changed) and recomputes song_lookup for the match keys it touched. Both
    adapters run it with the SQL in sql/staging/, inside their batch transaction and its lock.
    """

    cursor: Any
    context: dict[str, str]
    load_seq: int

    @classmethod
    def begin(cls, warehouse: Warehouse, cursor: Any, table: str) -> SongCatalogueChanges:
        """Create the batch's change table and take the next load_seq (the caller holds the table's lock)."""
        context = {
            "this": warehouse.table(table),
            "song_lookup": warehouse.table(SONG_LOOKUP_TABLE),
            "load_manifest": warehouse.table(MANIFEST_TABLE),
            "song_changes": quote_ident(SONG_CHANGES_TABLE),
        }
        cursor.execute(render("staging/song_changes_table.sql", **context))
        cursor.execute(render("staging/next_load_seq.sql", **context))
        return cls(cursor, context, int(cursor.fetchone()[0]))

    def record_removed(self, *, source_key: str | None = None, copied: str | None = None) -> None:
        """Before a delete: note the rows of one object (source_key) or of the songs a COPY reloads (copied)."""
        if source_key is not None:
            self._record("source_key", {"source_key": source_key})
        else:
            self._record("copied_song", {}, copied=copied)

    def apply(self) -> None:
        """After the batch's rows are in: note them, touch what shares a removed row's keys, refresh song_lookup.

        Ends with the change table dropped (a kept connection runs the next batch)."""
        self._record("load_seq", {"load_seq": self.load_seq})
        for column in ("song_id", "artist_id"):  # the keys of the songs and artists models
            self.cursor.execute(
                render("staging/song_changes_touch.sql", column=quote_ident(column), **self.context),
                {"load_seq": self.load_seq},
            )
        self.cursor.execute(render("staging/song_lookup_clear.sql", **self.context))
        self.cursor.execute(render("staging/song_lookup_fill.sql", **self.context))
        self.cursor.execute(render("staging/song_changes_drop.sql", **self.context))

    def _record(self, by: str, params: dict[str, Any], **extra: Any) -> None:
        self.cursor.execute(render("staging/song_changes_record.sql", by=by, **extra, **self.context), params)
