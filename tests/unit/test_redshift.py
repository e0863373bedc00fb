"""The Redshift adapter without a cluster: every statement it sends, for the shipped config.

The adapter runs against a recording fake connection; each method's statements (with bind
parameter names) are compared with a snapshot under tests/unit/snapshots/redshift/, parsed with
sqlglot's redshift dialect, and checked for secrets. Regenerate the snapshots after an
intended change with ``SPARKIFY_UPDATE_SNAPSHOTS=1 make test ARGS=tests/unit/test_redshift.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlglot
from sqlglot import exp

from sparkify.config import Config, load_config
from sparkify.project import ddl_statements, model_context
from sparkify.sqlfiles import render
from sparkify.sweep import ManifestEntry
from sparkify.warehouse.base import QueryRefused, timeout_ms
from sparkify.warehouse.redshift import RedshiftWarehouse
from sparkify.warehouse.redshift_sql import (
    EVENT_JSON_FIELDS,
    SONG_JSON_FIELDS,
    CopyOptions,
    build_copy_manifest,
    build_jsonpaths,
    build_redshift_copy_sql,
    build_redshift_upsert_sql,
    copy_options,
    redshift_table_ddl,
)

SNAPSHOTS = Path(__file__).parent / "snapshots" / "redshift"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ROLE = "arn:aws:iam::123456789012:role/sparkify-redshift-copy"
OPTIONS = CopyOptions(iam_role=ROLE, region="us-west-2", maxerror=10)
SOURCE = "s3://udacity-dend"
SECRET_MARKERS = ("ACCESS_KEY", "SECRET", "CREDENTIALS", "SESSION_TOKEN", "PASSWORD", "aws_access_key_id")


class RecordingCursor:
    """DB-API cursor that records (sql, params) and answers with canned rows."""

    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.paramstyle = "format"
        self.rowcount = 0
        self.description: list[tuple[str]] = []
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        assert self.paramstyle == "pyformat", "adapter must switch the cursor to pyformat before executing"
        self.log.append((sql, params))
        self.rowcount = 3
        if sql.startswith("SELECT * FROM _model LIMIT 0"):
            self.description = [(c,) for c in MODEL_COLUMNS[-1]]
        self._rows = [("song_data/A/x.json", "etag")] if "load_manifest" in sql and sql.startswith("SELECT") else []

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else (0,)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class RecordingConnection:
    def __init__(self, log: list[tuple[str, Any]], events: list[str]) -> None:
        self.log, self.events, self.autocommit = log, events, True

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self.log)

    def commit(self) -> None:
        self.events.append("commit")

    def rollback(self) -> None:
        self.events.append("rollback")

    def close(self) -> None:
        self.events.append("close")


MODEL_COLUMNS: list[list[str]] = [[]]


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.delenv("SPARKIFY_SOURCE", raising=False)
    monkeypatch.delenv("SPARKIFY_CONFIG", raising=False)
    return load_config()


@pytest.fixture
def recorded() -> tuple[RedshiftWarehouse, list[tuple[str, Any]], list[str]]:
    log: list[tuple[str, Any]] = []
    events: list[str] = []
    warehouse = RedshiftWarehouse(
        "redshift_default", "sparkify", OPTIONS, connect=lambda: RecordingConnection(log, events)
    )
    return warehouse, log, events


def ddl_columns(config: Config, warehouse: RedshiftWarehouse, table: str) -> list[str]:
    """Column names of a table from its sql/ddl file (what the model's SELECT produces)."""
    statement = render(f"ddl/{table}.sql", **model_context(config, warehouse, table))
    create = sqlglot.parse_one(statement, dialect="postgres")
    return [col.name for col in create.find_all(exp.ColumnDef)]


def as_text(log: list[tuple[str, Any]]) -> str:
    """Statements as the snapshot stores them: SQL, then the bind parameters' names and values."""
    parts = []
    for sql, params in log:
        bound = f"\n-- params: {json.dumps(params, sort_keys=True)}" if params else ""
        parts.append(f"{sql};{bound}")
    return "\n\n".join(parts) + "\n"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.sql"
    if os.environ.get("SPARKIFY_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}: run with SPARKIFY_UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(), f"{name}: rendered SQL differs from {path} (update it if intended)"


def check_redshift_sql(log: list[tuple[str, Any]]) -> None:
    """Every statement parses as Redshift SQL; no credential ever appears in text or params."""
    for sql, params in log:
        literal_sql = PLACEHOLDER.sub("'x'", sql)
        parsed = sqlglot.parse(literal_sql, dialect="redshift", error_level=sqlglot.ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None, sql
        if isinstance(parsed[0], exp.Command):  # sqlglot has no LOCK node; it must be exactly LOCK <table>
            assert re.fullmatch(r'LOCK "sparkify"\."[a-z_]+"', sql), sql
        blob = sql + json.dumps(params)
        for marker in SECRET_MARKERS:
            assert marker.lower() not in blob.lower(), f"{marker} in {sql}"
        for name in PLACEHOLDER.findall(sql):
            assert params and name in params, f"unbound %({name})s in {sql}"
    check_no_table_used_after_drop(log)


def check_no_table_used_after_drop(log: list[tuple[str, Any]]) -> None:
    """No statement names a table an earlier statement dropped (unless it was created again):
    Redshift would fail the transaction with 'relation does not exist'."""
    dropped: set[str] = set()
    for sql, _ in log:
        for table in sqlglot.parse_one(PLACEHOLDER.sub("'x'", sql), dialect="redshift").find_all(exp.Table):
            name = table.name
            if isinstance(table.parent, exp.Create) or (
                isinstance(table.parent, exp.Schema) and isinstance(table.parent.parent, exp.Create)
            ):
                dropped.discard(name)
            elif isinstance(table.parent, exp.Drop):
                dropped.add(name)
            else:
                assert name not in dropped, f"{name} used after DROP TABLE {name}: {sql}"


class TestStatementsForShippedConfig:
    def test_ensure_schema(self, config: Config, recorded: Any) -> None:
        warehouse, log, events = recorded
        warehouse.ensure_schema(ddl_statements(config, warehouse))
        assert events == ["commit", "close"]
        text = as_text(log)
        assert "DISTKEY (song_id) SORTKEY (partition_key, start_time)" in text
        check_redshift_sql(log)
        check_snapshot("ensure_schema", text)

    def test_copy_events_partition(self, config: Config, recorded: Any) -> None:
        warehouse, log, events = recorded
        jsonpaths = warehouse.jsonpaths_location(SOURCE, "staging_events")
        prefix = f"{SOURCE}/log_data/2018/11/2018-11-05"
        manifest = f"{SOURCE}/_sparkify/manifests/staging_events-2018-11-05.json"
        objects = [ManifestEntry(f"log_data/2018/11/2018-11-05-{n}.json", f"etag{n}") for n in (1, 2)]
        warehouse.copy_events_partition(
            "staging_events", "rejected_lines", "2018-11-05", prefix, jsonpaths, copy_manifest_uri=manifest,
            objects=objects,
        )
        statements = [sql for sql, _ in log]
        assert f"FROM '{manifest}'" in statements[2] and "MANIFEST" in statements[2]
        # one transaction: lock, COPY into temp, delete partition, insert, rejects, the day's
        # event_manifest (delete, one row per object); then commit
        expected = ["LOCK", "CREATE", "COPY", "DELETE", "DELETE", "INSERT", "INSERT", "DELETE", "INSERT", "INSERT"]
        expected.append("DROP")
        verbs = [next(line for line in s.splitlines() if not line.startswith("--")).split()[0] for s in statements]
        assert verbs == expected
        recorded = [params for sql, params in log if "event_manifest" in sql and "INSERT" in sql]
        assert [(p["source_key"], p["version"], p["rows_loaded"]) for p in recorded] == [
            (o.source_key, o.version, None) for o in objects
        ]
        assert events == ["commit", "close"]
        assert f"IAM_ROLE '{ROLE}'" in statements[2] and "TIMEFORMAT 'epochmillisecs'" in statements[2]
        check_redshift_sql(log)
        check_snapshot("copy_events_partition", as_text(log))

    def test_empty_partition_is_recorded_as_staged_from_no_object(self, config: Config, recorded: Any) -> None:
        warehouse, log, events = recorded
        warehouse.clear_partition("staging_events", "rejected_lines", "2018-11-05")
        assert events == ["commit", "close"]  # one transaction: the day's rows go, its manifest says "empty"
        recorded_rows = [params for sql, params in log if "event_manifest" in sql and "INSERT" in sql]
        assert [(p["source_key"], p["version"]) for p in recorded_rows] == [("", "")]
        check_redshift_sql(log)
        check_snapshot("clear_partition", as_text(log))

    def test_sweep_reads(self, config: Config, recorded: Any) -> None:
        """The late-data sweep only reads: the newest staged day, then the window's manifest rows."""
        warehouse, log, _ = recorded
        warehouse.newest_staged_day("2018-12-01")
        warehouse.staged_objects("2018-11-24", "2018-11-30")
        verbs = [next(line for line in sql.splitlines() if not line.startswith("--")).split()[0] for sql, _ in log]
        assert verbs == ["SELECT", "SELECT"]
        assert [sorted(params) for _, params in log] == [["today"], ["first_day", "last_day"]]
        check_redshift_sql(log)
        check_snapshot("sweep_reads", as_text(log))

    def test_copy_song_objects(self, config: Config, recorded: Any) -> None:
        warehouse, log, _ = recorded
        jsonpaths = warehouse.jsonpaths_location(SOURCE, "staging_songs")
        manifest = f"{SOURCE}/_sparkify/manifests/staging_songs-abc-2.json"
        objects = [("song_data/A/A/A/TRAAAAW128F429D538.json", "e1"), ("song_data/A/B/C/TRABCEI128F424C983.json", "e2")]
        warehouse.copy_song_objects("staging_songs", "load_manifest", objects, manifest, jsonpaths)
        copies = [sql for sql, _ in log if sql.startswith("COPY")]
        assert len(copies) == 1 and "MANIFEST" in copies[0]
        # the catalogue changes run inside the batch's transaction: removed rows are noted before
        # the delete, song_lookup is refreshed before the temp table is dropped
        verbs = [sql.split("\n")[-1].split()[0] if sql.startswith("--") else sql.split()[0] for sql, _ in log]
        noted = next(i for i, (sql, _) in enumerate(log) if "_song_changes" in sql and "INSERT" in sql)
        assert verbs.index("DELETE") > noted
        assert any("song_lookup" in sql and "INSERT" in sql for sql, _ in log[: verbs.index("DROP")])
        check_redshift_sql(log)
        check_snapshot("copy_song_objects", as_text(log))

    def test_load_fact(self, config: Config, recorded: Any) -> None:
        warehouse, log, _ = recorded
        MODEL_COLUMNS.append(ddl_columns(config, warehouse, config.fact.name))
        select_sql = render(config.fact.sql, **model_context(config, warehouse, config.fact.name))
        warehouse.replace_partition_from_select(
            config.fact.name, config.fact.partition_column, select_sql, {"partition_key": "2018-11-05"}
        )
        check_redshift_sql(log)
        check_snapshot("load_fact_songplays", as_text(log))

    def test_load_dimensions(self, config: Config, recorded: Any) -> None:
        warehouse, log, _ = recorded
        for dim in config.dimensions:
            MODEL_COLUMNS.append(ddl_columns(config, warehouse, dim.name))
            select_sql = render(dim.sql, **model_context(config, warehouse, dim.name))
            start = len(log)
            warehouse.upsert_from_select(
                dim.name, select_sql, {"partition_key": "2018-11-05"}, dim.key, dim.mode, dim.version_columns
            )
            check_redshift_sql(log[start:])
            check_snapshot(f"load_dimension_{dim.name}", as_text(log[start:]))
        assert not any("ON CONFLICT" in sql for sql, _ in log)

    def test_rollback_on_error(self, recorded: Any) -> None:
        warehouse, _, events = recorded
        with pytest.raises(RuntimeError), warehouse.transaction():
            raise RuntimeError("boom")
        assert events == ["rollback", "close"]


class TestBuilders:
    def test_jsonpaths_follow_copy_columns(self) -> None:
        doc = build_jsonpaths(EVENT_JSON_FIELDS)
        assert doc["jsonpaths"][0] == "$['artist']"
        assert doc["jsonpaths"][-1] == "$['userId']"
        assert len(doc["jsonpaths"]) == len(EVENT_JSON_FIELDS) == 18
        assert len(build_jsonpaths(SONG_JSON_FIELDS)["jsonpaths"]) == 10
        check_snapshot("jsonpaths_staging_events", json.dumps(doc, indent=2) + "\n")

    def test_copy_manifest(self) -> None:
        assert build_copy_manifest(["s3://b1b/k"]) == {"entries": [{"url": "s3://b1b/k", "mandatory": True}]}

    @pytest.mark.parametrize(
        "bad",
        [
            {"location": "s3://bkt/x' CREDENTIALS 'aws_access_key_id=AK"},
            {"role": "arn:aws:iam::123:role/x"},
            {"role": "AKIAIOSFODNN7EXAMPLE"},
            {"region": "us-west-2' --"},
        ],
    )
    def test_copy_rejects_injection(self, bad: dict[str, str]) -> None:
        options = CopyOptions(iam_role=bad.get("role", ROLE), region=bad.get("region", "us-west-2"))
        with pytest.raises(ValueError):
            location = bad.get("location", "s3://bkt/x")
            build_redshift_copy_sql('"s"."t"', ["a"], location, "s3://bkt/j.json", options)

    def test_maxerror_bounds(self) -> None:
        with pytest.raises(ValueError):
            options = CopyOptions(ROLE, "us-east-1", -1)
            build_redshift_copy_sql('"s"."t"', ["a"], "s3://bkt/x", "s3://bkt/j.json", options)

    def test_upsert_modes(self) -> None:
        cols, key = ["user_id", "level", "last_event_ts"], ["user_id"]
        (insert,) = build_redshift_upsert_sql('"s"."u"', "_model", cols, key, "insert_missing")
        assert insert.startswith('INSERT INTO "s"."u"') and "WHERE NOT EXISTS" in insert
        (merge,) = build_redshift_upsert_sql('"s"."u"', "_model", cols, key, "upsert")
        assert merge.startswith("MERGE INTO")
        versions = ["last_event_ts", "level"]
        prune, merge = build_redshift_upsert_sql('"s"."u"', "_model", cols, key, "upsert_latest", versions)
        assert prune.startswith("DELETE FROM _model USING")
        assert '(_model."last_event_ts" = target."last_event_ts" AND _model."level" > target."level")' in prune
        with pytest.raises(ValueError):
            build_redshift_upsert_sql('"s"."u"', "_model", cols, key, "upsert_latest")
        with pytest.raises(ValueError):
            build_redshift_upsert_sql('"s"."u"', "_model", cols, key, "replace")

    def test_ddl_attributes_only_for_known_tables(self) -> None:
        users = 'CREATE TABLE IF NOT EXISTS "s"."users" (a INT)'
        other = 'CREATE TABLE IF NOT EXISTS "s"."other" (a INT)'
        assert redshift_table_ddl(users).endswith("DISTSTYLE ALL SORTKEY (user_id)")
        assert redshift_table_ddl(other) == other

    def test_copy_options_from_config(self) -> None:
        options = copy_options({"iam_role": ROLE, "region": "eu-west-1", "maxerror": 5}, "rs")
        assert options == CopyOptions(ROLE, "eu-west-1", 5, "")
        assert copy_options({"iam_role": ROLE}, "rs") == CopyOptions(ROLE, "us-east-1", 1000, "")
        for missing in (None, {}):
            with pytest.raises(ValueError, match=r"warehouse\.redshift_copy\.iam_role"):
                copy_options(missing, "rs")


def test_redshift_never_treats_constraints_as_proof(recorded) -> None:
    """Redshift's PRIMARY KEY / UNIQUE are informational: unique/not_null checks always run their query."""
    warehouse, log, _ = recorded
    assert warehouse.constraint_proof("songplays", "unique", ["songplay_id"]) is None
    assert warehouse.constraint_proof("songplays", "not_null", ["songplay_id"]) is None
    assert log == []  # not even a catalog query


class TestReadOnlyChecks:
    """Check queries run as one statement in a READ ONLY transaction with a statement timeout."""

    def test_statements_around_a_check_query(self, recorded: Any) -> None:
        warehouse, log, events = recorded
        query = 'SELECT COUNT(*) AS observed FROM "sparkify"."users" WHERE "level" = %(p)s'
        warehouse.fetch_read_only(query, {"p": "x"}, timeout_seconds=2.5)
        assert log == [
            ("SET statement_timeout TO 2500", None),
            ("BEGIN READ ONLY", None),
            (query, {"p": "x"}),
            ("ROLLBACK", None),
        ]
        assert events == ["close"]  # nothing committed

    def test_autocommit_keeps_the_driver_from_opening_a_read_write_transaction(self, recorded: Any) -> None:
        """redshift_connector sends its own BEGIN before the first statement unless autocommit is on."""
        warehouse, _, _ = recorded
        opened: list[RecordingConnection] = []
        original = warehouse._connect
        warehouse._connect = lambda: opened.append(original()) or opened[-1]
        with warehouse.read_only_transaction(60) as cursor:
            assert opened[0].autocommit is True
            assert cursor.paramstyle == "pyformat"

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [
            ({"C": "25006", "M": "cannot execute DROP TABLE in a read-only transaction"},
             "it tried to write, and a check may only read"),
            ({"C": "57014", "M": "Query (123) cancelled on user's request"},
             "it ran past the statement timeout of 1.5 s (quality.statement_timeout_seconds)"),
            ({"C": "42601", "M": "cannot insert multiple commands into a prepared statement"},
             "it holds more than one SQL statement"),
        ],
    )
    def test_server_refusals_become_query_refused(self, recorded: Any, fields: dict[str, str], reason: str) -> None:
        import redshift_connector

        warehouse, log, events = recorded

        def refusing_connect() -> RecordingConnection:
            conn = RecordingConnection(log, events)
            cursor = conn.cursor()

            def execute(sql: str, params: Any = None) -> None:
                log.append((sql, params))
                if sql.startswith("SELECT"):
                    raise redshift_connector.ProgrammingError({"S": "ERROR", **fields})

            cursor.execute = execute  # type: ignore[method-assign]
            conn.cursor = lambda: cursor  # type: ignore[method-assign]
            return conn

        warehouse._connect = refusing_connect
        with pytest.raises(QueryRefused, match=f"^query refused: {re.escape(reason)}"):
            warehouse.fetch_read_only("SELECT 1", None, timeout_seconds=1.5)
        assert [sql for sql, _ in log] == ["SET statement_timeout TO 1500", "BEGIN READ ONLY", "SELECT 1"]
        assert events == ["close"]  # closing the session ends the aborted transaction

    def test_other_errors_pass_through(self, recorded: Any) -> None:
        import redshift_connector

        warehouse, log, events = recorded
        conn = RecordingConnection(log, events)
        cursor = conn.cursor()
        error = redshift_connector.ProgrammingError({"S": "ERROR", "C": "42703", "M": 'column "x" does not exist'})
        cursor.execute = lambda sql, params=None: (_ for _ in ()).throw(error) if sql == "SELECT x" else None
        conn.cursor = lambda: cursor  # type: ignore[method-assign]
        warehouse._connect = lambda: conn
        with pytest.raises(redshift_connector.ProgrammingError):
            warehouse.fetch_read_only("SELECT x", None, timeout_seconds=1)


def test_timeout_is_whole_milliseconds_never_zero() -> None:
    assert timeout_ms(60) == 60000
    assert timeout_ms(0.0001) == 1  # 0 would mean no limit


class TestPermanentErrors:
    """SQLSTATE class 42 (undefined object, syntax, permission) fails at once; the rest is retried."""

    @pytest.mark.parametrize(
        ("error", "permanent"),
        [
            (RuntimeError({"C": "42P01", "M": 'relation "x" does not exist'}), True),
            (RuntimeError({"C": "42601", "M": "syntax error"}), True),
            (RuntimeError({"C": "40001", "M": "serializable isolation violation"}), False),
            (RuntimeError({"C": "57014", "M": "canceling statement"}), False),
            (ConnectionError("connection reset"), False),
        ],
    )
    def test_redshift_error_fields(self, recorded, error: BaseException, permanent: bool) -> None:
        warehouse, _, _ = recorded
        assert warehouse.permanent_error(error) is permanent

    @pytest.mark.parametrize(
        ("error", "permanent"),
        [
            (psycopg.errors.UndefinedTable("no table"), True),
            (psycopg.errors.UndefinedColumn("no column"), True),
            (psycopg.errors.SyntaxError("syntax"), True),
            (psycopg.errors.InsufficientPrivilege("denied"), True),
            (psycopg.errors.LockNotAvailable("lock timeout"), False),
            (psycopg.errors.SerializationFailure("retry me"), False),
            (psycopg.OperationalError("server closed the connection"), False),
        ],
    )
    def test_psycopg_errors(self, recorded, error: BaseException, permanent: bool) -> None:
        warehouse, _, _ = recorded
        assert warehouse.permanent_error(error) is permanent

    def test_failing_fast_names_what_failed_and_keeps_transient_errors(self, recorded) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        warehouse, _, _ = recorded
        with pytest.raises(AirflowFailException, match=r"load of users from sql/marts/users\.sql: UndefinedTable"):
            with warehouse.failing_fast("load of users from sql/marts/users.sql"):
                raise psycopg.errors.UndefinedTable('relation "users" does not exist')
        with pytest.raises(psycopg.errors.LockNotAvailable):
            with warehouse.failing_fast("load of users"):
                raise psycopg.errors.LockNotAvailable("lock timeout")
