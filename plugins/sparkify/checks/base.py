"""What a data-quality check type is, and how the failing-row types are judged.

A check type declares, in one class: its parameters (the JSON Schema of its own config keys,
from which the config schema's branch for it is generated), its SQL template under
sql/quality/, what it adds to that template, how the number the template returns is judged,
whether a warehouse constraint can prove it and whether it has failing rows to sample. Adding a
type is one module in this package (it defines ``CHECK_TYPE``) plus its SQL file: the registry
(sparkify.checks), the config schema, the check operator and dq_results take it from there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from sparkify.sqlfiles import render

#: Keys of a check that judge its failing rows instead of severity, in the order they are tried.
THRESHOLD_KEYS = ("error_if", "warn_if")
#: Keys every check has; the rest of a check's keys are its type's parameters.
COMMON_KEYS = ("name", "table", "type", "severity", "scope")
SEVERITIES = ("error", "warn")
SCOPES = ("partition", "table")

PASSED, FAILED, WARNED, ERROR = "passed", "failed", "warned", "error"
#: What a matching threshold makes of the check; THRESHOLD_KEYS gives the order they are tried.
THRESHOLD_STATUS = {"error_if": FAILED, "warn_if": WARNED}

#: (table, column, JSON path) of a column a check names, for the config's column rule.
ColumnRef = tuple[Any, Any, str]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one check: pass/fail, the numbers compared and the rule in words.

    ``decided`` is set when warn_if/error_if judged the check (the status they chose); without
    thresholds it stays None and the check's severity turns a failure into failed or warned.
    ``rows_checked`` is the denominator of a share threshold (None when no share was asked for).
    """

    passed: bool
    observed: float | None
    threshold: str
    expected: float | None = None
    decided: str | None = None
    rows_checked: float | None = None


@dataclass(frozen=True, slots=True)
class Measured:
    """The numbers a check query returned: ``observed``, and the second column of its type
    (row_count's ``expected``, or the ``rows_checked`` a share threshold divides by)."""

    observed: float | None
    expected: float | None = None
    rows_checked: float | None = None


@dataclass(frozen=True, slots=True)
class TemplateInput:
    """What every check type may draw on to fill its template (pure values, no connection)."""

    this: str
    params: Mapping[str, Any]
    tables: Mapping[str, str]
    partition_key: str | None
    now: dt.datetime | None

    def embedded_query(self, relative_path: str) -> tuple[str, dict[str, Any]]:
        """(query, binds) of a query in an sql/ file, rendered with the tables and ready to embed
        as a subquery; it binds the partition key when it uses one."""
        query = subquery(render(relative_path, **self.tables, this=self.this))
        return query, ({"partition_key": self.partition_key} if "%(partition_key)s" in query else {})


@dataclass(frozen=True, slots=True)
class ConfigContext:
    """What a type's cross-field config rules may consult: declared tables, SQL file lookup."""

    tables: Mapping[str, str]
    require_sql: Callable[[Any, str], None]


class CheckType:
    """One check type. Subclasses set the class attributes and override what differs.

    The defaults describe a failing-row check: its template counts failing rows (and lists up to
    ``SAMPLE_LIMIT`` of them in sample mode), it passes at 0, and warn_if/error_if may judge it.
    """

    #: The ``type`` value in config.json.
    name: ClassVar[str]
    #: Its template, relative to sql/.
    template: ClassVar[str]
    #: JSON Schema of the type's own keys (besides COMMON_KEYS and the thresholds).
    parameters: ClassVar[dict[str, Any]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    #: Extra schema keywords for the type's branch (e.g. anyOf with a description).
    schema_rules: ClassVar[dict[str, Any]] = {}
    #: Whether warn_if/error_if may judge it (only types that count failing rows).
    thresholds: ClassVar[bool] = True
    #: Whether its template has a sample mode listing failing rows.
    samples: ClassVar[bool] = True
    #: Whether a constraint the warehouse enforces can decide it without a scan (unique, not_null).
    provable: ClassVar[bool] = False
    #: What the query's second column is: the rows a share threshold divides by, or row_count's
    #: expected number.
    second_column: ClassVar[str] = "rows_checked"

    def schema_branch(self) -> dict[str, Any]:
        """The config schema's if/then branch for this type: its keys, and nothing else allowed."""
        threshold = {"$ref": "#/$defs/threshold" if self.thresholds else "#/$defs/no_threshold"}
        then: dict[str, Any] = {
            "additionalProperties": False,
            "properties": {
                **dict.fromkeys(COMMON_KEYS, True),
                **dict.fromkeys(THRESHOLD_KEYS, threshold),
                **self.parameters,
            },
            **self.schema_rules,
        }
        if self.required:
            then["required"] = list(self.required)
        return {"if": {"required": ["type"], "properties": {"type": {"const": self.name}}}, "then": then}

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        """(template variables, bind parameters) the type adds; values always go in as binds."""
        return {}, {}

    def judge(self, measured: Measured, params: Mapping[str, Any]) -> Verdict:
        """Failing rows, judged like dbt: error_if matches -> failed, else warn_if matches ->
        warned, else passed. Without thresholds any failing row fails."""
        observed, rows_checked = measured.observed, measured.rows_checked
        thresholds = [(key, params[key]) for key in THRESHOLD_KEYS if params.get(key)]
        if not thresholds:
            return Verdict(observed == 0, observed, "failing_rows=0")
        rule = "; ".join(f"{key} {describe_threshold(spec)}" for key, spec in thresholds)
        for key, spec in thresholds:
            if observed is None or threshold_matches(spec, observed, rows_checked):
                return Verdict(False, observed, rule, decided=THRESHOLD_STATUS[key], rows_checked=rows_checked)
        return Verdict(True, observed, rule, rows_checked=rows_checked)

    def config_problems(self, check: Mapping[str, Any], where: str, context: ConfigContext) -> list[str]:
        """Cross-field rules of the type's keys (the schema has checked their shape, if it passed)."""
        return []

    def column_refs(self, check: Mapping[str, Any], where: str) -> list[ColumnRef]:
        """Columns the check names beyond ``columns``/``column`` of its own table."""
        return []

    def normalise(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters as the pipeline uses them (e.g. integers written as 1.0)."""
        return params


def describe_threshold(spec: Mapping[str, Any]) -> str:
    """A threshold in the words dq_results.threshold uses: failing_rows>N or failing_share>F."""
    if "count_gt" in spec:
        return f"failing_rows>{spec['count_gt']}"
    return f"failing_share>{spec['share_gt']:g}"


def failing_share(observed: float, rows_checked: float) -> float:
    """Failing rows / rows checked. Failing rows with nothing checked (a ``sql`` check's query can
    return rows of another table) count as an infinite share: every share threshold matches."""
    if rows_checked <= 0:
        return 0.0 if observed <= 0 else math.inf
    return observed / rows_checked


def threshold_matches(spec: Mapping[str, Any], observed: float, rows_checked: float | None) -> bool:
    """Whether {"count_gt": N} or {"share_gt": F} holds for this many failing (of checked) rows."""
    if "count_gt" in spec:
        return observed > spec["count_gt"]
    if rows_checked is None:
        raise ValueError("a share threshold needs the number of rows checked (build_check_sql adds it)")
    return failing_share(observed, rows_checked) > spec["share_gt"]


def number(value: float | None) -> str:
    """Counts print as integers, measurements with up to 3 decimals, missing values as NULL."""
    if value is None:
        return "NULL"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}"


def subquery(sql: str) -> str:
    """A user query embedded as a subquery must not end with a statement terminator."""
    return sql.rstrip().rstrip(";").rstrip()
