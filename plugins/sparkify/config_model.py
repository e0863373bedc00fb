"""The shape of config.json, declared once: the frozen dataclasses the pipeline reads.

Each dataclass field that is a key of config.json says so with :func:`config_key`: its JSON name (when
it differs from the field's), its JSON Schema, and how the JSON value becomes the field's value.
The JSON Schema that validates config.json (:func:`config_schema`) and the construction of the
dataclasses from a validated document (:func:`from_document`) are both derived from these
declarations, so a key added to a dataclass is validated, documented and read with no second
place to edit. Cross-field rules live in sparkify.config; the check types' parameters in
sparkify.checks (one module per type), whose generated branches become ``$defs.check`` here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from sparkify.checks import CHECK_TYPES, COMMON_KEYS, check_schema
from sparkify.paths import SQL_DIR
from sparkify.source_schema import PARTITION_COLUMN

#: How a dimension's rows are merged on its key (sparkify.warehouse.sql builds each).
LOAD_MODES = ("upsert", "upsert_latest", "insert_missing")
#: The column of a rollup table holding its month (YYYY-MM), unless config.json names another.
DEFAULT_ROLLUP_PARTITION_COLUMN = "month"
#: Rejected share of a partition's lines above which staging fails (Redshift MAXERROR-like).
DEFAULT_MAX_REJECTED_SHARE = 0.01
#: Seconds a check's query (or its failing-rows sample) may run before the warehouse stops it.
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 60.0
#: Days the late-data sweep compares (ending at the newest staged day), and when it runs (cron, UTC).
DEFAULT_SWEEP_LOOKBACK_DAYS = 7
DEFAULT_SWEEP_SCHEDULE = "0 * * * *"
#: A day's log objects in the Udacity layout: log_data/2018/11/2018-11-05-events.json.
DEFAULT_EVENTS_PARTITION_PREFIX = "{{ events_prefix }}/{{ year }}/{{ month }}/{{ ds }}"
#: What alerts.events can name: each is one situation that sends one message (sparkify.alerts).
ALERT_EVENTS = ("task_failed", "partition_skipped", "deadline_missed", "check_warned")
#: Hours after its deadline a new run is still watched: older partitions (a backfill of history, a
#: re-run of last month) would otherwise each send a "missed" alert the moment their run is created.
DEFAULT_DEADLINE_LOOKBACK_HOURS = 24.0

#: Reusable value shapes, referenced as "#/$defs/<name>" by the fields below.
DEFS: dict[str, dict[str, Any]] = {
    "identifier": {"description": "identifier", "type": "string", "pattern": "^[a-z_][a-z0-9_]*\\Z"},
    "conn_id": {"description": "connection id", "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*\\Z"},
    "prefix": {
        "description": "key prefix (relative, no leading '/' and no '..')",
        "type": "string",
        "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_.=/-]*$",
    },
    "sql_path": {
        "description": "SQL file path relative to sql/ (no leading '/' and no '..', ending in .sql)",
        "type": "string",
        "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_./-]+\\.sql$",
    },
    "email": {
        "description": "e-mail address",
        "type": "string",
        "pattern": "^[^@\\s,;<>\"]+@[^@\\s,;<>\"]+\\.[^@\\s,;<>\"]+\\Z",
    },
    "column_list": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"$ref": "#/$defs/identifier"}},
    "staging_table": {
        "type": "object",
        "additionalProperties": False,
        "required": ["table"],
        "properties": {"table": {"$ref": "#/$defs/identifier"}},
    },
    "threshold": {
        "description": (
            'a threshold is {"count_gt": N} (more than N failing rows, N an integer >= 0) or {"share_gt": F} '
            "(failing rows / rows checked above F, 0 <= F < 1)"
        ),
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "count_gt": {"type": "integer", "minimum": 0},
            "share_gt": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        },
    },
    "no_threshold": {
        "description": (
            "warn_if/error_if judge failing rows, and this check type has none (it measures one number: use "
            "min/max/tolerance or max_age_hours, with severity)"
        ),
        "not": {},
    },
}


def ref(name: str) -> dict[str, str]:
    """A reference to DEFS[name] (or to a generated definition: dimension, check)."""
    return {"$ref": f"#/$defs/{name}"}


def config_key(
    schema: Mapping[str, Any] | str,
    *,
    json: str | None = None,
    read: Callable[[Any], Any] | None = None,
    default: Any = MISSING,
    **options: Any,
) -> Any:
    """Declare a dataclass field as a key of config.json.

    schema: its JSON Schema, or the name of a DEFS entry. json: its name in config.json when it
    differs from the field's. read: how the validated JSON value becomes the field's value
    (default: the value as is). A field with a default is optional in config.json. options:
    the other arguments of dataclasses.field (hash=False for a dict value).
    """
    metadata = {"schema": ref(schema) if isinstance(schema, str) else dict(schema), "json": json, "read": read}
    if default is not MISSING:
        options["default"] = default
    return field(metadata=metadata, **options)


def _keys(cls: type) -> list[tuple[str, Any]]:
    """(JSON name, dataclass field) of every field of cls that is a config.json key."""
    return [(f.metadata.get("json") or f.name, f) for f in fields(cls) if "schema" in f.metadata]


def object_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema of one dataclass's object: its keys, the ones without a default required,
    nothing else allowed."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False}
    required = [name for name, f in _keys(cls) if f.default is MISSING and f.default_factory is MISSING]
    if required:
        schema["required"] = required
    schema["properties"] = {name: f.metadata["schema"] for name, f in _keys(cls)}
    schema.update(getattr(cls, "SCHEMA_RULES", {}))
    return schema


def from_document(cls: type, document: Mapping[str, Any], **given: Any) -> Any:
    """The dataclass cls from its validated JSON object: each key read as declared, absent optional
    keys left to their defaults; ``given`` supplies fields that are not keys (the config's path)."""
    values: dict[str, Any] = {}
    for name, f in _keys(cls):
        if name in document:
            read = f.metadata["read"]
            values[f.name] = read(document[name]) if read is not None else document[name]
    return cls(**values, **given)


def section(cls: type, default: Any = MISSING) -> Any:
    """A key of config.json holding one of the dataclasses below, written out in place."""
    return config_key(object_schema(cls), read=partial(from_document, cls), default=default)


def read_dimensions(value: Iterable[Mapping[str, Any]]) -> tuple[DimensionConfig, ...]:
    """config.json's dimensions, in order (the order of the mapped load_dimension tasks)."""
    return tuple(from_document(DimensionConfig, dimension) for dimension in value)


def read_rollups(value: Iterable[Mapping[str, Any]]) -> tuple[RollupConfig, ...]:
    """config.json's rollups, in order (the order of the mapped load_rollup tasks)."""
    return tuple(from_document(RollupConfig, rollup) for rollup in value)


def read_checks(value: Iterable[Mapping[str, Any]]) -> tuple[CheckConfig, ...]:
    """config.json's checks, in order; each one's shape is its type's (sparkify.checks)."""
    return tuple(read_check(check) for check in value)


def read_check(check: Mapping[str, Any]) -> CheckConfig:
    """Split common keys from type parameters (normalised by the type, e.g. ints written as 1.0)."""
    params = {name: copy.deepcopy(value) for name, value in check.items() if name not in COMMON_KEYS}
    params = CHECK_TYPES[check["type"]].normalise(params)
    return CheckConfig(
        name=check["name"],
        table=check["table"],
        type=check["type"],
        severity=check.get("severity", threshold_severity(check)),
        scope=check.get("scope", "table"),
        params=params,
    )


def threshold_severity(check: Mapping[str, Any]) -> str:
    """The severity a check without one gets: the worst status its thresholds can give.

    A check with error_if can fail ("error"); one with only warn_if can at most warn ("warn");
    one with neither keeps today's default, "error". dq_results.severity then says, for every
    check, whether it can block the pipeline.
    """
    return "warn" if "warn_if" in check and "error_if" not in check else "error"


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class SweepConfig:
    """The late-data sweep (sparkify_sweep): when it runs and how many recent days it compares.

    Why configurable: each sweep LISTs one prefix per staged day of its window, so the window
    and the schedule set what catching late or corrected files costs, and how late they can be.
    """

    lookback_days: int = config_key(
        {
            "description": (
                "how many days the sweep compares, ending at the newest staged day (never after today); "
                f"default {DEFAULT_SWEEP_LOOKBACK_DAYS}"
            ),
            "type": "integer",
            "minimum": 1,
            "maximum": 366,
        },
        default=DEFAULT_SWEEP_LOOKBACK_DAYS,
    )
    schedule: str = config_key(
        {
            "description": f"cron expression (UTC) of the sweep's runs; default {DEFAULT_SWEEP_SCHEDULE!r} (hourly)",
            "type": "string",
            "minLength": 1,
        },
        default=DEFAULT_SWEEP_SCHEDULE,
    )


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Where raw JSON lands. ``uri`` is already resolved (env override, absolute path)."""

    uri: str = config_key(
        {
            "description": "source location (folder path, absolute or relative to the repo root, or s3://bucket/prefix)",
            "type": "string",
            "minLength": 1,
        }
    )
    aws_conn_id: str = config_key("conn_id")
    events_prefix: str = config_key("prefix")
    songs_prefix: str = config_key("prefix")
    wait_timeout_hours: float = config_key({"type": "number", "exclusiveMinimum": 0}, read=float)
    #: A partition prefix without objects stages 0 rows instead of failing (sparse sources).
    allow_empty_partitions: bool = config_key(
        {
            "description": (
                "true: a partition with no objects under its prefix stages 0 rows and emits its assets; "
                "false (default): it fails naming the prefix"
            ),
            "type": "boolean",
        },
        read=bool,
        default=False,
    )
    #: Where a day's log objects are (sparkify.source_layout renders and validates it).
    events_partition_prefix: str = config_key(
        {
            "description": (
                "Jinja template of a day's object key prefix; variables: ds and partition_key (YYYY-MM-DD), year, "
                "month, day, events_prefix. A day's objects are the *.json objects directly after it (end it with "
                f"'/' for a folder per day); default {DEFAULT_EVENTS_PARTITION_PREFIX!r} (the Udacity layout)"
            ),
            "type": "string",
            "minLength": 1,
        },
        default=DEFAULT_EVENTS_PARTITION_PREFIX,
    )
    #: The late-data sweep re-staging days whose objects changed after they were staged (sparkify.sweep).
    sweep: SweepConfig = section(SweepConfig, default=SweepConfig())

    @property
    def is_s3(self) -> bool:
        """True for ``s3://`` sources; False for a local (absolute) folder."""
        return self.uri.startswith("s3://")


#: warehouse.redshift_copy: what a Redshift warehouse needs to COPY from S3.
REDSHIFT_COPY_SCHEMA: dict[str, Any] = {
    "description": (
        "how a Redshift warehouse COPYs from S3 (ignored on PostgreSQL): the cluster's IAM role, region, "
        "error budget, where JSONPaths/manifests go"
    ),
    "type": "object",
    "additionalProperties": False,
    "required": ["iam_role"],
    "properties": {
        "iam_role": {
            "description": "IAM role ARN attached to the cluster (arn:aws:iam::<account>:role/<name>)",
            "type": "string",
            "pattern": "^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$",
        },
        "region": {
            "description": "AWS region of the source bucket (e.g. us-west-2)",
            "type": "string",
            "pattern": "^[a-z]{2}(-[a-z]+)+-\\d$",
        },
        "maxerror": {"type": "integer", "minimum": 0, "maximum": 100000},
        "jsonpaths_prefix": {
            "description": (
                "s3:// location the pipeline may write JSONPaths files and COPY manifests to "
                "(default: next to the source)"
            ),
            "type": "string",
            "pattern": "^s3://",
        },
    },
}


@dataclass(frozen=True, slots=True)
class WarehouseConfig:
    """Airflow connection of the warehouse and the schema all tables live in.

    ``redshift_copy``: COPY settings (iam_role, region, maxerror, jsonpaths_prefix) a Redshift
    warehouse needs; None on PostgreSQL.
    """

    conn_id: str = config_key("conn_id")
    schema: str = config_key("identifier")
    redshift_copy: dict[str, Any] | None = config_key(
        REDSHIFT_COPY_SCHEMA, read=copy.deepcopy, default=None, hash=False
    )


def _table_of(value: Mapping[str, Any]) -> str:
    return value["table"]


@dataclass(frozen=True, slots=True)
class StagingConfig:
    """Names of the two staging tables (events are partitioned, songs are not).

    ``max_rejected_share``: an events partition whose rejected records exceed this share of its
    records fails (after its rows and rejections are committed, so they can be inspected).
    """

    events_table: str = config_key("staging_table", json="events", read=_table_of)
    songs_table: str = config_key("staging_table", json="songs", read=_table_of)
    max_rejected_share: float = config_key(
        {
            "description": (
                "a partition fails when rejected records / records exceed this share (like Redshift MAXERROR); "
                "blank lines are not records; default 0.01"
            ),
            "type": "number",
            "minimum": 0,
            "maximum": 1,
        },
        read=float,
        default=DEFAULT_MAX_REJECTED_SHARE,
    )


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """How data-quality checks run: each query is stopped after ``statement_timeout_seconds``.

    Checks run SQL from config.json and sql/ in a read-only transaction; the timeout keeps a
    runaway or hostile query from holding a warehouse slot (and a worker) indefinitely.
    """

    statement_timeout_seconds: float = config_key(
        {
            "description": (
                "seconds each check query (and its failing-rows sample) may run in its read-only transaction "
                "before the warehouse stops it; default 60"
            ),
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 86400,
        },
        read=float,
        default=DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    )


@dataclass(frozen=True, slots=True)
class FactConfig:
    """The fact table, built per partition from ``sql`` (relative to ``sql/``)."""

    name: str = config_key("identifier")
    sql: str = config_key("sql_path")
    key: tuple[str, ...] = config_key("column_list", read=tuple)
    partition_column: str = config_key("identifier")


@dataclass(frozen=True, slots=True)
class DimensionConfig:
    """One dimension: its SQL (relative to ``sql/``), key and load mode.

    ``version_columns`` only matters for ``upsert_latest`` (it orders competing rows to
    keep the newest one) and is empty for the other modes.
    """

    #: Beyond the keys: upsert_latest needs version_columns (the schema's if/then).
    SCHEMA_RULES: ClassVar[dict[str, Any]] = {
        "if": {"required": ["mode"], "properties": {"mode": {"const": "upsert_latest"}}},
        "then": {"required": ["version_columns"]},
    }

    name: str = config_key("identifier")
    sql: str = config_key("sql_path")
    key: tuple[str, ...] = config_key("column_list", read=tuple)
    mode: str = config_key({"enum": list(LOAD_MODES)})
    version_columns: tuple[str, ...] = config_key("column_list", read=tuple, default=())


@dataclass(frozen=True, slots=True)
class RollupConfig:
    """One monthly rollup: its SQL (relative to ``sql/``), key and the column holding the month.

    A rollup run replaces the month's rows with the model's output (delete + insert, one
    transaction, like the fact's partitions), so re-running a month is idempotent whatever
    changed in its days. The model gets the month as ``%(partition_key)s`` (``YYYY-MM``).
    """

    name: str = config_key("identifier")
    sql: str = config_key("sql_path")
    key: tuple[str, ...] = config_key("column_list", read=tuple)
    partition_column: str = config_key("identifier", default=DEFAULT_ROLLUP_PARTITION_COLUMN)


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """One data-quality check; ``params`` holds the type-specific keys only.

    ``params`` includes ``warn_if``/``error_if`` when set (they apply to failing-row types only);
    ``severity`` is then derived from them (see sparkify.config).

    ``params`` is a plain dict (JSON-serialisable) so it can be handed to Airflow task
    mapping; it is excluded from hashing because dicts are unhashable. A check's shape is its
    type's (sparkify.checks): the config reads checks with sparkify.config's own builder.
    """

    name: str
    table: str
    type: str
    severity: str = "error"
    scope: str = "table"
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class DeadlineConfig:
    """When a partition is late: ``hours_after_partition_end`` after its period (a day, a month) ends.

    Day D's deadline with 6 is D+1 06:00 UTC; month M's, the 1st of the next month 06:00 UTC.
    Every run of the three DAGs for that partition that has not succeeded by then sends one
    deadline_missed alert (Airflow's deadline alerts, sparkify.deadline). A run created more than
    ``lookback_hours`` after its deadline is not watched: its lateness is history, not news.
    """

    hours_after_partition_end: float = config_key(
        {
            "description": (
                "hours after the partition's period (UTC day or month) ends by which its runs must have "
                "succeeded; 6 means day D by 06:00 UTC on D+1"
            ),
            "type": "number",
            "minimum": 0,
            "maximum": 24 * 62,
        },
        read=float,
    )
    lookback_hours: float = config_key(
        {
            "description": (
                "a run created more than this many hours after its deadline gets none (backfills and re-runs "
                f"of history do not alert); default {DEFAULT_DEADLINE_LOOKBACK_HOURS:g}"
            ),
            "type": "number",
            "exclusiveMinimum": 0,
        },
        read=float,
        default=DEFAULT_DEADLINE_LOOKBACK_HOURS,
    )


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """Who is told what, through which Airflow connection (sparkify.alerts wires it into the DAGs).

    Only the connection's id is here: its host, login and password live in Airflow
    (``AIRFLOW_CONN_<ID>`` or a secrets backend), so config.json holds nothing secret.
    """

    conn_id: str = config_key("conn_id")
    to: tuple[str, ...] = config_key(
        {"type": "array", "minItems": 1, "uniqueItems": True, "items": ref("email")}, read=tuple
    )
    events: tuple[str, ...] = config_key(
        {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(ALERT_EVENTS)}}, read=tuple
    )
    #: The sender; None: the connection's ``from_email`` extra.
    from_email: str | None = config_key("email", default=None)
    deadline: DeadlineConfig | None = section(DeadlineConfig, default=None)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration plus the file it came from."""

    source: SourceConfig = section(SourceConfig)
    warehouse: WarehouseConfig = section(WarehouseConfig)
    staging: StagingConfig = section(StagingConfig)
    fact: FactConfig = section(FactConfig)
    dimensions: tuple[DimensionConfig, ...] = config_key(
        {"type": "array", "minItems": 1, "items": ref("dimension")}, read=read_dimensions
    )
    checks: tuple[CheckConfig, ...] = config_key({"type": "array", "items": ref("check")}, read=read_checks)
    path: Path
    #: Monthly tables rebuilt by sparkify_rollups once every day of a month is published.
    rollups: tuple[RollupConfig, ...] = config_key(
        {"type": "array", "items": ref("rollup")}, read=read_rollups, default=()
    )
    #: Directory the ``sql`` paths were validated against (SQL_DIR unless overridden).
    sql_dir: Path = SQL_DIR
    quality: QualityConfig = section(QualityConfig, default=QualityConfig())
    #: Alert e-mails (absent: none, and no callback is attached to any task).
    alerts: AlertsConfig | None = section(AlertsConfig, default=None)

    def table_names(self) -> tuple[str, ...]:
        """All managed tables: staging events, staging songs, fact, dimensions, then rollups."""
        return (
            self.staging.events_table,
            self.staging.songs_table,
            self.fact.name,
            *(dim.name for dim in self.dimensions),
            *(rollup.name for rollup in self.rollups),
        )

    def partition_column_of(self, table: str) -> str | None:
        """The column holding the partition key in a table, or None for tables loaded whole.

        The fact's comes from config.json; staging events carry it as the first lineage column.
        """
        if table == self.fact.name:
            return self.fact.partition_column
        if table == self.staging.events_table:
            return PARTITION_COLUMN
        for rollup in self.rollups:
            if table == rollup.name:
                return rollup.partition_column
        return None

    def staging_checks(self) -> tuple[CheckConfig, ...]:
        """Checks on staging tables: they gate the transform step."""
        staging = {self.staging.events_table, self.staging.songs_table}
        return tuple(check for check in self.checks if check.table in staging)

    def transform_checks(self) -> tuple[CheckConfig, ...]:
        """Checks on the fact and dimensions: they run after the transform."""
        elsewhere = {self.staging.events_table, self.staging.songs_table, *(r.name for r in self.rollups)}
        return tuple(check for check in self.checks if check.table not in elsewhere)

    def rollup_checks(self) -> tuple[CheckConfig, ...]:
        """Checks on rollup tables: they run in sparkify_rollups after the month's rollups load."""
        rollups = {rollup.name for rollup in self.rollups}
        return tuple(check for check in self.checks if check.table in rollups)

    def dimension_kwargs(self) -> list[dict[str, Any]]:
        """One plain dict per dimension, for ``expand_kwargs`` (must be JSON-serialisable)."""
        return [
            {
                "name": dim.name,
                "sql": dim.sql,
                "key": list(dim.key),
                "mode": dim.mode,
                "version_columns": list(dim.version_columns),
            }
            for dim in self.dimensions
        ]

    def rollup_kwargs(self) -> list[dict[str, Any]]:
        """One plain dict per rollup, for ``expand_kwargs`` (must be JSON-serialisable)."""
        return [
            {"name": r.name, "sql": r.sql, "key": list(r.key), "partition_column": r.partition_column}
            for r in self.rollups
        ]

    def check_kwargs(self, checks: Iterable[CheckConfig] | None = None) -> list[dict[str, Any]]:
        """One plain dict per check (default: all checks), for ``expand_kwargs``.

        ``params`` is deep-copied so a task mutating its kwargs cannot alter the config.
        """
        selected = self.checks if checks is None else checks
        return [
            {
                "name": check.name,
                "table": check.table,
                "check_type": check.type,
                "severity": check.severity,
                "scope": check.scope,
                "check_params": copy.deepcopy(check.params),
            }
            for check in selected
        ]


# --------------------------------------------------------------------------- derived: schema


def config_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of config.json, generated from the model above."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sparkify.example/config.schema.json",
        "title": "Sparkify pipeline configuration",
        "description": (
            "Shape of config.json. Cross-field rules (SQL files exist, names unique, tables known, partition "
            "scope) are checked in sparkify.config after this schema passes."
        ),
        **object_schema(Config),
    }
    schema["$defs"] = {
        **DEFS,
        "dimension": object_schema(DimensionConfig),
        "rollup": object_schema(RollupConfig),
        "check": check_schema(),
    }
    return schema


if __name__ == "__main__":  # python -m sparkify.config_model > config.schema.json (for an editor)
    import json

    print(json.dumps(config_schema(), indent=2))
