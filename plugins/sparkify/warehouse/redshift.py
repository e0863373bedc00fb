"""The Amazon Redshift adapter: the production warehouse (see sparkify.warehouse.redshift_sql).

Writers serialise on ``LOCK <table>`` (Redshift has no advisory locks; its transactions are
serializable); temp tables are dropped explicitly (no ON COMMIT DROP).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.config import Config
from sparkify.project import MANIFEST_TABLE, REJECTED_TABLE
from sparkify.source_schema import PARTITION_COLUMN
from sparkify.sources import S3Source, partition_objects, partition_prefix, source_for
from sparkify.sqlfiles import quote_ident, render
from sparkify.staging import StagedPartition
from sparkify.sweep import ManifestEntry
from sparkify.warehouse.base import SongCatalogueChanges, Warehouse, timeout_ms
from sparkify.warehouse.redshift_sql import (
    EVENT_JSON_FIELDS,
    SONG_JSON_FIELDS,
    CopyOptions,
    build_copy_manifest,
    build_copy_rejects_sql,
    build_delete_songs_sql,
    build_insert_events_sql,
    build_insert_songs_sql,
    build_jsonpaths,
    build_redshift_copy_sql,
    build_redshift_upsert_sql,
    build_temp_like_sql,
    redshift_table_ddl,
)
from sparkify.warehouse.sql import build_delete_partition_sql

#: Objects per COPY manifest: one COPY (one transaction) per batch keeps reruns cheap.
SONG_COPY_BATCH_OBJECTS = 5000


class RedshiftWarehouse(Warehouse):
    """The Amazon Redshift adapter: COPY from S3 for staging, MERGE for dimensions, LOCK for writers.

    Driver: redshift_connector through the amazon provider's RedshiftSQLHook (its extras reach
    the driver: ``"iam": true`` for IAM authentication, so no password needs to exist anywhere).
    COPY authenticates with the cluster's IAM role from config.json (``warehouse.redshift_copy``):
    no keys in SQL or logs. Auxiliary files (JSONPaths, COPY manifests) are uploaded with S3Hook.
    """

    dialect = "redshift"
    supports_indexes = False

    def __init__(self, conn_id: str, schema: str, options: CopyOptions, connect: Any = None) -> None:
        self.conn_id = conn_id
        self.schema = schema
        self.options = options
        self._connect = connect

    def _open(self) -> Any:
        if self._connect is not None:
            return self._connect()
        from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

        return RedshiftSQLHook(redshift_conn_id=self.conn_id).get_conn()

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

    def stage_events(self, config: Config, partition_key: str) -> StagedPartition:
        """Replace one partition with COPY of the day's log objects, named in a COPY manifest.

        The manifest names exactly the objects that match the day's pattern, so debris under the
        prefix (a .bak copy, a .tmp upload) is not loaded, as on the Python path.
        """
        source = _s3_source(config)
        listing = partition_objects(source, config.source, partition_key)
        table = config.staging.events_table
        # event_manifest: per-object counts are not known (COPY reports the day's totals only).
        objects = [ManifestEntry(obj.stored_key, obj.version) for obj in listing.objects]
        if not listing.objects:  # allowed empty partition: COPY would fail on an empty manifest
            self.clear_partition(table, REJECTED_TABLE, partition_key)
            return StagedPartition(partition_key, 0, len(listing.ignored), 0, 0)
        jsonpaths = self.jsonpaths_location(config.source.uri, table)
        _put_json(config, jsonpaths, build_jsonpaths(EVENT_JSON_FIELDS))
        root = config.source.uri.rstrip("/")
        manifest_uri = f"{jsonpaths.rsplit('/', 2)[0]}/manifests/{table}-{partition_key}.json"
        _put_json(config, manifest_uri, build_copy_manifest([f"{root}/{obj.key}" for obj in listing.objects]))
        prefix_uri = f"{root}/{partition_prefix(config.source, partition_key)}"
        loaded = self.copy_events_partition(
            table, REJECTED_TABLE, partition_key, prefix_uri, jsonpaths, copy_manifest_uri=manifest_uri, objects=objects
        )
        row = self.fetch_one(
            render("staging/partition_rows.sql", this=self.table(REJECTED_TABLE)), {"partition_key": partition_key}
        )
        return StagedPartition(
            partition_key, len(listing.objects), len(listing.ignored), loaded, int(row[0]) if row else 0
        )

    def stage_songs(self, config: Config) -> dict[str, Any]:
        """COPY the new or changed song objects (key + ETag vs load_manifest) in manifest batches."""
        source = _s3_source(config)
        listed = source.list(config.source.songs_prefix.strip("/") + "/")
        known = self.loaded_versions(MANIFEST_TABLE)
        pending = [obj for obj in listed if known.get(obj.stored_key) != obj.version]
        table = config.staging.songs_table
        jsonpaths = self.jsonpaths_location(config.source.uri, table)
        root = config.source.uri.rstrip("/")
        loaded = 0
        if pending:
            _put_json(config, jsonpaths, build_jsonpaths(SONG_JSON_FIELDS))
        for start in range(0, len(pending), SONG_COPY_BATCH_OBJECTS):
            batch = pending[start : start + SONG_COPY_BATCH_OBJECTS]
            manifest_uri = f"{jsonpaths.rsplit('/', 2)[0]}/manifests/{table}-{batch[0].version}-{len(batch)}.json"
            _put_json(config, manifest_uri, build_copy_manifest([f"{root}/{obj.key}" for obj in batch]))
            loaded += self.copy_song_objects(
                table, MANIFEST_TABLE, [(obj.stored_key, obj.version) for obj in batch], manifest_uri, jsonpaths
            )
        return {"objects_listed": len(listed), "objects_loaded": len(pending), "rows_loaded": loaded, "rejected": 0}

    def lock(self, cursor: Any, table: str) -> None:
        """Serialise writers of a table until commit (no advisory locks on Redshift)."""
        cursor.execute(f"LOCK {self.table(table)}")

    def ensure_schema(self, ddl_statements: Iterable[str], digest: str | None = None) -> None:
        """Create the schema and every table with distribution/sort keys (idempotent).

        Redshift has no COMMENT ON SCHEMA to keep the digest in: the statements run every time.
        """
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
        *,
        objects: Sequence[ManifestEntry],
    ) -> int:
        """Replace one partition from S3: COPY to temp, delete, insert, rejects, event_manifest; one transaction.

        copy_manifest_uri: a COPY manifest naming exactly the day's log objects (other objects
        under the prefix are not loaded); without it COPY reads everything under partition_uri.
        Staged rows carry partition_uri as their source_key. objects: the day's objects as
        event_manifest records them (the late-data sweep compares them with the source).
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
            cursor.execute(build_delete_partition_sql(target, PARTITION_COLUMN), params)
            cursor.execute(build_delete_partition_sql(rejects, PARTITION_COLUMN), params)
            cursor.execute(build_insert_events_sql(target, temp, EVENT_JSON_FIELDS), params)
            loaded = int(cursor.rowcount)
            cursor.execute(build_copy_rejects_sql(rejects), params)
            self.record_event_manifest(cursor, partition_key, objects)
            cursor.execute(f"DROP TABLE {temp}")
        return loaded

    def clear_partition(self, table: str, rejected_table: str, partition_key: str) -> None:
        """An allowed empty partition: its old rows and rejections go, nothing comes in (event_manifest
        records the day as staged from no object)."""
        params = {"partition_key": partition_key}
        with self.transaction() as cursor:
            self.lock(cursor, table)
            cursor.execute(build_delete_partition_sql(self.table(table), PARTITION_COLUMN), params)
            cursor.execute(build_delete_partition_sql(self.table(rejected_table), PARTITION_COLUMN), params)
            self.record_event_manifest(cursor, partition_key, ())

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
            changes = SongCatalogueChanges.begin(self, cursor, table)
            cursor.execute(build_temp_like_sql(temp, target, columns))
            cursor.execute(
                build_redshift_copy_sql(temp, columns, copy_manifest_uri, jsonpaths_uri, self.options, manifest=True)
            )
            changes.record_removed(copied=temp)
            cursor.execute(build_delete_songs_sql(target, temp))
            cursor.execute(
                build_insert_songs_sql(target, temp, SONG_JSON_FIELDS),
                {"source_key": copy_manifest_uri, "load_seq": changes.load_seq},
            )
            loaded = int(cursor.rowcount)
            for key, version in objects:
                cursor.execute(f"DELETE FROM {manifest} WHERE source_key = %(key)s", {"key": key})
                cursor.execute(
                    f"INSERT INTO {manifest} (source_key, version, rows_loaded, rejected, load_seq)"
                    " VALUES (%(key)s, %(version)s, 0, 0, %(load_seq)s)",
                    {"key": key, "version": version, "load_seq": changes.load_seq},
                )
            changes.apply()
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


def _s3_source(config: Config) -> S3Source:
    source = source_for(config.source)
    if not isinstance(source, S3Source):
        raise AirflowFailException(
            f"the warehouse COPYs from S3 but source.uri is {config.source.uri!r}: use an s3:// source"
        )
    return source


def _put_json(config: Config, uri: str, document: dict[str, Any]) -> None:
    """Upload a small JSON document (JSONPaths, COPY manifest) with the source's AWS connection."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    S3Hook(aws_conn_id=config.source.aws_conn_id).load_string(
        json.dumps(document), key=key, bucket_name=bucket, replace=True
    )
