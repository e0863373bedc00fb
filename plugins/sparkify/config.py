"""Load and validate ``config.json``, the single declaration of the Sparkify pipeline.

The DAG file builds its tasks from this configuration at parse time, so a mistake in
``config.json`` must fail loudly, early and completely: every problem (schema *and*
cross-field) is collected and raised once as :class:`ConfigError`, one line per problem,
each prefixed with the JSON path of the offending value. Fixing a config should take
one round trip, not one per error.

Loading is deliberately cheap and side-effect free (no network, no database) because the
scheduler re-parses the DAG file often. Each load sees the file as it is on disk now: a
validated config is reused only while the file's content is unchanged.

Validation happens in two stages:

1. The JSON Schema (Draft 2020-12) generated from the model (sparkify.config_model, with
   the check types' branches from sparkify.checks) checks shape, types, identifiers and
   per-check-type parameters.
2. Semantic rules that a schema cannot express: referenced SQL files exist, table and
   check names are unique, checks point at known tables and at columns those tables have
   (per ``sql/ddl/<table>.sql``), ``scope: partition`` is only used on partitioned tables,
   ``source.events_partition_prefix`` renders a usable layout (sparkify.source_layout).

Both stages always run (the semantic one tolerates malformed input) so that a single
message reports everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from sparkify.checks import CHECK_TYPES, THRESHOLD_KEYS
from sparkify.checks.base import CheckType, ConfigContext
from sparkify.config_model import (
    ALERT_EVENTS,
    DEFAULT_EVENTS_PARTITION_PREFIX,
    DEFAULT_MAX_REJECTED_SHARE,
    DEFAULT_ROLLUP_PARTITION_COLUMN,
    DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    LOAD_MODES,
    AlertsConfig,
    CheckConfig,
    Config,
    DeadlineConfig,
    DimensionConfig,
    FactConfig,
    QualityConfig,
    RollupConfig,
    SourceConfig,
    StagingConfig,
    WarehouseConfig,
    config_schema,
    from_document,
)
from sparkify.ddl import table_columns
from sparkify.paths import REPO_ROOT, SQL_DIR
from sparkify.source_layout import layout_problems

__all__ = [
    "ALERT_EVENTS",
    "DEFAULT_MAX_REJECTED_SHARE",
    "DEFAULT_STATEMENT_TIMEOUT_SECONDS",
    "LOAD_MODES",
    "REPO_ROOT",
    "SQL_DIR",
    "AlertsConfig",
    "CheckConfig",
    "Config",
    "ConfigError",
    "DeadlineConfig",
    "DimensionConfig",
    "FactConfig",
    "QualityConfig",
    "RollupConfig",
    "SourceConfig",
    "StagingConfig",
    "WarehouseConfig",
    "config_schema",
    "load_config",
]

CONFIG_ENV = "SPARKIFY_CONFIG"
SOURCE_ENV = "SPARKIFY_SOURCE"

_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(ValueError):
    """``config.json`` is missing, unreadable or invalid.

    A ``ValueError`` subclass so generic callers can treat it as bad input. The message
    starts with ``invalid config <path>:`` followed by one ``  $.json.path: reason`` line
    per problem; :attr:`problems` holds those lines for programmatic use (tests, CLIs).
    """

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems: tuple[str, ...] = tuple(problems)
        if len(self.problems) == 1 and not self.problems[0].startswith("$"):
            # File-level problems (not found, unreadable) read better on one line.
            message = f"invalid config {self.path}: {self.problems[0]}"
        else:
            lines = "\n".join(f"  {problem}" for problem in self.problems)
            message = f"invalid config {self.path}:\n{lines}"
        super().__init__(message)


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None = None, sql_dir: Path | None = None) -> Config:
    """Read, validate and return the pipeline configuration.

    ``path`` defaults to ``$SPARKIFY_CONFIG`` (a relative value is taken relative to the
    repo root, since the scheduler's CWD is arbitrary), else ``REPO_ROOT/config.json``.
    An explicit relative ``path`` argument follows normal Python semantics (CWD).
    ``sql_dir`` overrides where referenced SQL files must exist (tests use a temp dir).

    ``$SPARKIFY_SOURCE``, when set and non-empty, replaces ``source.uri`` so the same
    config can run against a local folder or S3 without editing the file.

    Raises :class:`ConfigError` listing every problem found.
    """
    config_path = _config_path(path)
    sql_root = Path(sql_dir) if sql_dir is not None else SQL_DIR
    text = _read_text(config_path)
    key = (str(config_path.resolve()), hashlib.sha256(text.encode()).hexdigest(), os.environ.get(SOURCE_ENV, ""),
           str(sql_root))  # fmt: skip
    if key in _LOADED:
        return _LOADED[key]
    config = _load(config_path, text, sql_root)
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.clear()
    _LOADED[key] = config
    return config


#: Validated configs by (path, content hash, environment override, sql dir). Why: a task process
#: parses the DAG file (which loads the config) and then runs execute() (which needs it again);
#: validating twice was measurable CPU per task. The file is still read on every load, so an
#: edited file is always seen; only successful loads are kept.
_LOADED: dict[tuple[str, ...], Config] = {}
_LOADED_MAX = 16


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read file: {exc}"]) from None


def _load(config_path: Path, text: str, sql_root: Path) -> Config:
    """load_config's work: parse, validate (every problem at once) and build."""
    document, json_problems, unreliable = _read_json(config_path, text)

    problems = [
        *json_problems,
        *_schema_problems(document, unreliable),
        *_semantic_problems(document, sql_root),
    ]
    source_uri, uri_problem = _resolve_source_uri(document)
    if uri_problem:
        problems.append(uri_problem)
    if problems:
        raise ConfigError(config_path, _dedupe(problems))

    assert source_uri is not None  # for type checkers: no problem implies a URI
    return _build(document, config_path, source_uri, sql_root)


def _config_path(path: str | Path | None) -> Path:
    """Pick the config file: explicit argument, then env var, then the repo default."""
    if path is not None:
        return Path(path)
    env_value = os.environ.get(CONFIG_ENV, "").strip()
    if env_value:
        env_path = Path(env_value).expanduser()
        return env_path if env_path.is_absolute() else REPO_ROOT / env_path
    return REPO_ROOT / "config.json"


def _read_json(path: Path, text: str) -> tuple[Any, list[str], set[str]]:
    """Parse the file strictly: (document, problems, JSON paths whose values are not trustworthy).

    I/O and syntax errors raise a ConfigError with their location at once (nothing else can be
    checked). Python's json also accepts what JSON forbids or cannot mean: NaN, Infinity and
    -Infinity, numbers too large for a float (``1e999`` becomes infinity), and repeated keys
    (the last one silently wins, so a config can say one thing and do another). Those are
    reported with their JSON paths among the other problems, so one round trip fixes them all.
    """
    try:
        raw = json.loads(
            text, parse_constant=_NonFinite, parse_float=_finite_float, object_pairs_hook=_object_keeping_duplicates
        )
    except json.JSONDecodeError as exc:
        raise ConfigError(
            path,
            [f"$: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"],
        ) from None
    problems: list[str] = []
    unreliable: set[str] = set()
    return _strict_values(raw, (), problems, unreliable), problems, unreliable


@dataclass(frozen=True, slots=True)
class _NonFinite:
    """A number token JSON does not allow (NaN, Infinity) or a float cannot hold (1e999)."""

    text: str

    def value(self) -> float:
        """What Python's json would have made of it (nan or ±inf), for the later stages."""
        return float(self.text)


def _finite_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


class _DuplicateKeys(dict[str, Any]):
    """A JSON object in which some keys occurred more than once (the last value is kept)."""

    duplicates: tuple[str, ...] = ()


def _object_keeping_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: build the dict as json does, but remember repeated keys.

    The hook cannot know where in the document the object is (inner objects are built first),
    so it only marks the object; _strict_values reports the marks with their paths.
    """
    obj: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in obj and key not in repeated:
            repeated.append(key)
        obj[key] = value
    if not repeated:
        return obj
    marked = _DuplicateKeys(obj)
    marked.duplicates = tuple(repeated)
    return marked


def _strict_values(value: Any, path: tuple[str | int, ...], problems: list[str], unreliable: set[str]) -> Any:
    """Walk the parsed document: report marks with their JSON paths, return plain JSON values."""
    if isinstance(value, _NonFinite):
        where = json_path(path)
        unreliable.add(where)
        if value.text in ("NaN", "Infinity", "-Infinity"):
            problems.append(f"{where}: {value.text} is not a valid JSON number")
        else:
            problems.append(f"{where}: {value.text} is too large for a number")
        return value.value()
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            problems.append(f"{json_path([*path, key])}: duplicate key {json.dumps(key)}")
        return {key: _strict_values(item, (*path, key), problems, unreliable) for key, item in value.items()}
    if isinstance(value, list):
        return [_strict_values(item, (*path, i), problems, unreliable) for i, item in enumerate(value)]
    return value


# --------------------------------------------------------------------------- schema stage


def json_path(parts: Iterable[str | int]) -> str:
    """Render a path like ``$.dimensions[2].key`` from jsonschema's ``absolute_path``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _schema_problems(document: Any, unreliable: Collection[str] = ()) -> list[str]:
    """Validate against the generated JSON Schema, one readable line per leaf error.

    ``unreliable``: JSON paths of values already reported as unparseable (NaN, 1e999); the
    schema's opinion of them ('nan is less than ...') would only repeat that problem.
    """
    validator = Draft202012Validator(config_schema())
    problems: list[str] = []
    for error in validator.iter_errors(document):
        if json_path(error.absolute_path) not in unreliable:
            problems.extend(_describe(error))
    return problems


def _describe(error: ValidationError) -> Iterator[str]:
    """Turn one jsonschema error into problem lines with precise paths and wording.

    The stock messages are generic (and may dump whole objects); the common validators
    are rephrased so that e.g. an unknown key is reported at the key's own path.
    """
    path = list(error.absolute_path)
    where = json_path(path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance

    if kind == "additionalProperties" and isinstance(instance, Mapping):
        allowed = set(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                yield f"{json_path([*path, key])}: unknown key (allowed: {known})"
        return
    if kind == "required" and isinstance(instance, Mapping):
        for key in error.validator_value:
            if key not in instance:
                yield f"{json_path([*path, key])}: required key is missing"
        return
    if kind == "pattern":
        description = schema.get("description", "value")
        pattern = error.validator_value
        yield f"{where}: {instance!r} is not a valid {description} (must match {pattern})"
        return
    if kind == "minItems" and error.validator_value == 1:
        yield f"{where}: must not be empty"
        return
    if kind in ("anyOf", "oneOf", "not", "minProperties", "maxProperties") and "description" in schema:
        yield f"{where}: {schema['description']}"
        return
    if kind == "enum":
        options = ", ".join(json.dumps(v) for v in error.validator_value)
        yield f"{where}: {json.dumps(instance)} is not one of {options}"
        return
    yield f"{where}: {error.message}"


# --------------------------------------------------------------------------- semantic stage


def _semantic_problems(document: Any, sql_dir: Path) -> list[str]:
    """Cross-field rules. Written defensively: the document may have failed the schema."""
    if not isinstance(document, Mapping):
        return []
    problems: list[str] = _source_layout_problems(_mapping(document.get("source")))
    problems.extend(_alerts_problems(document.get("alerts")))
    problems.extend(_sweep_problems(_mapping(_mapping(document.get("source")).get("sweep"))))

    # Tables: staging events (partitioned), staging songs, fact (partitioned), dimensions, rollups (by month).
    tables: dict[str, str] = {}  # name -> JSON path of its first declaration
    partitioned: set[str] = set()

    def declare(name: Any, where: str, *, is_partitioned: bool = False) -> None:
        if not isinstance(name, str):
            return
        if name in tables:
            problems.append(
                f"{where}: duplicate table name {name!r} (already used at {tables[name]})"
            )
            return
        tables[name] = where
        if is_partitioned:
            partitioned.add(name)

    def require_sql(rel: Any, where: str) -> None:
        if (
            isinstance(rel, str)
            and _safe_relative(rel)
            and not (sql_dir / rel).is_file()
        ):
            problems.append(f"{where}: SQL file not found: {sql_dir / rel}")

    staging = _mapping(document.get("staging"))
    declare(
        _mapping(staging.get("events")).get("table"),
        "$.staging.events.table",
        is_partitioned=True,
    )
    declare(_mapping(staging.get("songs")).get("table"), "$.staging.songs.table")

    fact = _mapping(document.get("fact"))
    declare(fact.get("name"), "$.fact.name", is_partitioned=True)
    require_sql(fact.get("sql"), "$.fact.sql")
    problems.extend(
        _table_key_problems(fact, "$.fact", sql_dir, {"key": True, "partition_column": False})
    )

    for i, dim in enumerate(_sequence(document.get("dimensions"))):
        dim = _mapping(dim)
        declare(dim.get("name"), f"$.dimensions[{i}].name")
        require_sql(dim.get("sql"), f"$.dimensions[{i}].sql")
        problems.extend(
            _table_key_problems(dim, f"$.dimensions[{i}]", sql_dir, {"key": True, "version_columns": True})
        )
        # An unknown mode is the schema's to report (its enum is the one list of modes).
        if isinstance(dim.get("mode"), str) and dim.get("mode") != "upsert_latest" and "version_columns" in dim:
            problems.append(
                f"$.dimensions[{i}].version_columns: only allowed with mode 'upsert_latest' "
                f"(mode is {dim.get('mode')!r})"
            )

    for i, rollup in enumerate(_sequence(document.get("rollups"))):
        rollup = _mapping(rollup)
        where = f"$.rollups[{i}]"
        declare(rollup.get("name"), f"{where}.name", is_partitioned=True)
        require_sql(rollup.get("sql"), f"{where}.sql")
        month_column = rollup.get("partition_column", DEFAULT_ROLLUP_PARTITION_COLUMN)
        problems.extend(
            _table_key_problems(
                {**rollup, "partition_column": month_column}, where, sql_dir, {"key": True, "partition_column": False}
            )
        )
        # A month's rows are replaced as a whole: a key without the month could not hold two months.
        key = _sequence(rollup.get("key"))
        if key and isinstance(month_column, str) and month_column not in key:
            problems.append(f"{where}.key: must include the month column {month_column!r} (the key is {list(key)})")

    check_names: dict[str, str] = {}
    columns_cache: dict[str, tuple[str, ...] | None] = {}
    for i, check in enumerate(_sequence(document.get("checks"))):
        check = _mapping(check)
        where = f"$.checks[{i}]"
        name = check.get("name")
        if isinstance(name, str):
            if name in check_names:
                problems.append(
                    f"{where}.name: duplicate check name {name!r} "
                    f"(already used at {check_names[name]})"
                )
            else:
                check_names[name] = f"{where}.name"

        table = check.get("table")
        if isinstance(table, str) and table not in tables:
            problems.append(
                f"{where}.table: unknown table {table!r} (known: {', '.join(tables)})"
            )
        if (
            check.get("scope") == "partition"
            and isinstance(table, str)
            and table in tables
            and table not in partitioned
        ):
            problems.append(
                f"{where}.scope: 'partition' needs a partitioned table "
                f"({', '.join(sorted(partitioned))}); {table!r} is not partitioned"
            )

        thresholds = [key for key in THRESHOLD_KEYS if key in check]
        if thresholds and "severity" in check:
            problems.append(
                f"{where}.severity: not allowed with {'/'.join(thresholds)}: the thresholds decide "
                "(error_if matches: failed; else warn_if matches: warned; else passed)"
            )

        kind = _check_type_of(check)
        if kind is not None:
            problems.extend(kind.config_problems(check, where, ConfigContext(tables, require_sql)))

        problems.extend(_column_problems(check, where, tables, sql_dir, columns_cache))

    return problems


def _alerts_problems(alerts: Any) -> list[str]:
    """alerts.deadline and the deadline_missed event come together: one without the other is a
    half-configured alert that would stay silent (no deadline to miss, or nobody told)."""
    if not isinstance(alerts, Mapping) or not isinstance(alerts.get("events"), list):
        return []
    wanted = "deadline_missed" in alerts["events"]
    if wanted and "deadline" not in alerts:
        return ["$.alerts.deadline: required when alerts.events includes 'deadline_missed' (when is a partition late?)"]
    if not wanted and "deadline" in alerts:
        return ["$.alerts.events: alerts.deadline is set but 'deadline_missed' is not in the events: add it, "
                "or remove the deadline"]  # fmt: skip
    return []


def _source_layout_problems(source: Mapping[str, Any]) -> list[str]:
    """The day's prefix template must render a relative prefix per day that no other day's objects share.

    Checked here, at parse time, so a template without the day fails the DAG import instead of
    every partition staging the same objects. A missing or malformed events_prefix is the
    schema's to report; the template is still checked (with a stand-in) so one round trip fixes both.
    """
    template = source.get("events_partition_prefix", DEFAULT_EVENTS_PARTITION_PREFIX)
    if not isinstance(template, str) or not template:
        return []
    events_prefix = source.get("events_prefix")
    events_prefix = events_prefix if isinstance(events_prefix, str) else "events"
    return [f"$.source.events_partition_prefix: {problem}" for problem in layout_problems(template, events_prefix)]


def _sweep_problems(sweep: Mapping[str, Any]) -> list[str]:
    """The sweep's schedule must be a cron expression the scheduler's cron timetable accepts.

    Checked here so a typo fails the DAG import with its JSON path, like every other config problem
    (the DAG's timetable itself is only validated when the scheduler decodes it). The check is
    Airflow's own: the scheduler-side class the DAG's CronTriggerTimetable becomes, and its validate().
    """
    schedule = sweep.get("schedule")
    if not isinstance(schedule, str) or not schedule:
        return []  # absent (the default) or not a string: the schema's to report
    from airflow.timetables.trigger import CronTriggerTimetable

    try:
        CronTriggerTimetable(schedule, timezone="UTC").validate()
    except Exception as exc:  # AirflowTimetableInvalid, or croniter's error for a malformed expression
        return [f"$.source.sweep.schedule: {schedule!r} is not a cron expression ({exc}; e.g. '0 * * * *' for hourly)"]
    return []


def _table_key_problems(
    entry: Mapping[str, Any], where: str, sql_dir: Path, fields: Mapping[str, bool]
) -> list[str]:
    """A fact's or dimension's key (and version/partition columns) must be columns of its table.

    The table's columns come from ``sql/ddl/<name>.sql``; without this rule a misspelt key
    passes parsing and fails at run time inside ``ON CONFLICT (…)``. ``fields`` maps each key
    of ``entry`` to check to whether it holds a list (True) or one column name (False).
    Entries without a DDL file are skipped (the file's absence is reported where tables are
    created, and the unit tests' stub sql dirs have none).
    """
    name = entry.get("name")
    if not isinstance(name, str):
        return []
    try:
        known = table_columns(sql_dir, name)
    except (OSError, ValueError) as exc:
        return [f"{where}.name: cannot read columns of {name!r} from sql/ddl: {exc}"]
    if known is None:
        return []
    problems = []
    for field_name, is_list in fields.items():
        value = entry.get(field_name)
        refs = list(enumerate(_sequence(value))) if is_list else [(None, value)]
        for j, column in refs:
            if isinstance(column, str) and column not in known:
                path = f"{where}.{field_name}" + (f"[{j}]" if j is not None else "")
                problems.append(
                    f"{path}: column {column!r} is not in table {name!r} "
                    f"(sql/ddl/{name}.sql has: {', '.join(known)})"
                )
    return problems


def _column_problems(
    check: Mapping[str, Any],
    where: str,
    tables: Mapping[str, str],
    sql_dir: Path,
    cache: dict[str, tuple[str, ...] | None],
) -> list[str]:
    """Columns a check names must exist in its table, per ``sql/ddl/<table>.sql``.

    Caught at parse time so a typo fails the DAG import with the JSON path, instead of a
    task failing with a database error at run time. Tables without a DDL file are skipped
    (their absence is not this rule's concern).
    """
    table = check.get("table")
    refs: list[tuple[Any, Any, str]] = [
        (table, column, f"{where}.columns[{j}]") for j, column in enumerate(_sequence(check.get("columns")))
    ]
    if "column" in check:
        refs.append((table, check.get("column"), f"{where}.column"))
    kind = _check_type_of(check)
    if kind is not None:
        refs.extend(kind.column_refs(check, where))
    problems = []
    for ref_table, column, path in refs:
        if not (isinstance(ref_table, str) and ref_table in tables and isinstance(column, str)):
            continue
        if ref_table not in cache:
            try:
                cache[ref_table] = table_columns(sql_dir, ref_table)
            except (OSError, ValueError) as exc:
                cache[ref_table] = None
                problems.append(f"{path}: cannot read columns of {ref_table!r} from sql/ddl: {exc}")
        known = cache[ref_table]
        if known is not None and column not in known:
            problems.append(
                f"{path}: unknown column {column!r} in table {ref_table!r} (columns: {', '.join(known)})"
            )
    return problems


def _resolve_source_uri(document: Any) -> tuple[str | None, str | None]:
    """Apply the ``SPARKIFY_SOURCE`` override and normalise the source location.

    Returns ``(uri, None)`` or ``(None, problem)``; a missing/invalid ``source.uri`` in
    the file (already reported by the schema) yields ``(None, None)`` unless overridden.
    """
    env_value = os.environ.get(SOURCE_ENV, "").strip()
    if env_value:
        raw, where = env_value, f"$.source.uri (overridden by {SOURCE_ENV})"
    else:
        raw = _mapping(_mapping(document).get("source")).get("uri")
        where = "$.source.uri"
        if not isinstance(raw, str) or not raw:
            return None, None

    if raw.startswith("s3://"):
        if not _S3_URI.match(raw):
            return None, f"{where}: {raw!r} is not a valid s3://bucket/prefix URI"
        return raw, None
    if _URI_SCHEME.match(raw):
        return (
            None,
            f"{where}: unsupported URI scheme in {raw!r} (use a folder path or s3://)",
        )
    folder = Path(raw).expanduser()
    if not folder.is_absolute():
        folder = REPO_ROOT / folder
    return str(folder.resolve()), None


# --------------------------------------------------------------------------- building


def _build(document: Mapping[str, Any], path: Path, source_uri: str, sql_dir: Path) -> Config:
    """The validated document as the model's dataclasses (sparkify.config_model), with the source
    location resolved (SPARKIFY_SOURCE, absolute folder)."""
    config = from_document(Config, document, path=path, sql_dir=sql_dir)
    return dataclasses.replace(config, source=dataclasses.replace(config.source, uri=source_uri))


# --------------------------------------------------------------------------- helpers


def _check_type_of(check: Mapping[str, Any]) -> CheckType | None:
    """The registered type of a check entry, or None when its ``type`` is not one (the schema says so)."""
    name = check.get("type")
    return CHECK_TYPES.get(name) if isinstance(name, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def _safe_relative(rel: str) -> bool:
    """Only probe the filesystem for paths the schema accepts (no absolute, no '..')."""
    candidate = Path(rel)
    return bool(rel) and not candidate.is_absolute() and ".." not in candidate.parts


def _dedupe(problems: Iterable[str]) -> list[str]:
    """Drop repeated lines (e.g. one ``required`` error per missing key) keeping order."""
    return list(dict.fromkeys(problems))
