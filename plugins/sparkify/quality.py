"""Data-quality checks as SQL: build a configured check's queries, judge the result, report it.

Each check type has one template in sql/quality/. Rendered normally it returns one number,
``observed`` (plus ``expected`` for a reconciling row_count); rendered with ``sample=True`` the
same template returns up to ``SAMPLE_LIMIT`` of the failing rows, so the count and the sample
share one predicate and cannot drift apart. Building statements, judging numbers and
formatting results are pure functions, unit-tested without a database; the operator only
runs the queries in between and stores the outcome in ``dq_results``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sparkify.config import THRESHOLD_KEYS
from sparkify.sqlfiles import quote_ident, render

TEMPLATES = {
    "row_count": "quality/row_count.sql",
    "not_null": "quality/not_null.sql",
    "unique": "quality/unique.sql",
    "accepted_values": "quality/accepted_values.sql",
    "relationship": "quality/relationship.sql",
    "expression": "quality/expression.sql",
    "sql": "quality/custom_sql.sql",
    "freshness": "quality/freshness.sql",
}
#: Types whose template has no sample mode: a count has no failing rows.
NO_SAMPLE_TYPES = frozenset({"row_count"})
#: Wraps a failing-row count with the rows it checked, for share thresholds (one statement).
ROWS_CHECKED_TEMPLATE = "quality/rows_checked.sql"
#: At most this many failing rows are stored per result (the issue's "up to 10").
SAMPLE_LIMIT = 10
#: Longer string values in samples are cut, so one wide row cannot blow up the log or the column.
SAMPLE_VALUE_CHARS = 200
#: dq_results.sample_rows is VARCHAR(65535) (Redshift's maximum); stay below it.
SAMPLE_JSON_CHARS = 60000

PASSED, FAILED, WARNED, ERROR = "passed", "failed", "warned", "error"


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """A rendered check: SQL text with bind parameters (values never enter the text)."""

    sql: str
    params: dict[str, Any]


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


def build_check_sql(
    check_type: str,
    this: str,
    params: dict[str, Any],
    *,
    partition_column: str | None,
    partition_key: str | None,
    tables: dict[str, str],
    sample: bool = False,
    now: dt.datetime | None = None,
) -> CheckQuery:
    """Render the check's SQL. partition_column is set only for partition-scoped checks.

    ``sample=True`` renders the failing-rows query instead of the count (not for row_count).
    ``now`` is the freshness reference for runs without a partition key (default: current UTC).
    """
    if check_type not in TEMPLATES:
        raise ValueError(f"unknown check type {check_type!r}; expected one of {sorted(TEMPLATES)}")
    if sample and check_type in NO_SAMPLE_TYPES:
        raise ValueError(f"check type {check_type!r} has no failing rows to sample")
    binds: dict[str, Any] = {}
    context: dict[str, Any] = {"this": this, "partition_column": None, "sample": sample}
    if sample:
        binds["sample_limit"] = SAMPLE_LIMIT
    if partition_column:
        context["partition_column"] = quote_ident(partition_column)
        binds["partition_key"] = partition_key
    if "columns" in params:
        context["columns"] = [quote_ident(c) for c in params["columns"]]
    if "column" in params:
        context["column"] = quote_ident(params["column"])
    if check_type == "row_count":
        context["expected_query"] = None
        if params.get("expected_sql"):
            context["expected_query"] = _subquery(render(params["expected_sql"], **tables, this=this))
            if "%(partition_key)s" in context["expected_query"]:
                binds["partition_key"] = partition_key
    elif check_type == "accepted_values":
        names = [f"accepted_{i}" for i in range(len(params["values"]))]
        binds.update(zip(names, params["values"], strict=True))
        context["value_params"] = names
    elif check_type == "relationship":
        context["to_table"] = tables[params["to_table"]]
        context["to_column"] = quote_ident(params["to_column"])
    elif check_type == "expression":
        # The driver treats '%' as a placeholder marker; a LIKE 'a%' in config must stay literal.
        context["expression"] = params["expression"].replace("%", "%%")
    elif check_type == "sql":
        context["query"] = _subquery(render(params["sql"], **tables, this=this))
        if "%(partition_key)s" in context["query"]:
            binds["partition_key"] = partition_key
    elif check_type == "freshness":
        binds["reference_time"] = reference_time(partition_key, now)
    sql = render(TEMPLATES[check_type], **context)
    if not sample and needs_rows_checked(params):
        if partition_column:
            binds["partition_key"] = partition_key
        sql = render(
            ROWS_CHECKED_TEMPLATE, this=this, partition_column=context["partition_column"], count_query=sql
        )
    return CheckQuery(sql, binds)


def needs_rows_checked(params: dict[str, Any]) -> bool:
    """True when a threshold of the check is a share, whose denominator the query must return."""
    return any("share_gt" in (params.get(key) or {}) for key in THRESHOLD_KEYS)


def build_sample_sql(
    check_type: str,
    this: str,
    params: dict[str, Any],
    *,
    partition_column: str | None,
    partition_key: str | None,
    tables: dict[str, str],
    now: dt.datetime | None = None,
) -> CheckQuery | None:
    """The failing-rows query of a check, or None for types without row-level failures."""
    if check_type in NO_SAMPLE_TYPES:
        return None
    return build_check_sql(
        check_type,
        this,
        params,
        partition_column=partition_column,
        partition_key=partition_key,
        tables=tables,
        sample=True,
        now=now,
    )


def _subquery(sql: str) -> str:
    """A user query embedded as a subquery must not end with a statement terminator."""
    return sql.rstrip().rstrip(";").rstrip()


def reference_time(partition_key: str | None, now: dt.datetime | None = None) -> str:
    """Freshness is measured against the end of the partition's UTC day, else against now.

    The end of the day, not the run's wall-clock time, so that a backfill of an old partition
    judges that day's data by that day's standard and gives the same verdict whenever it runs.
    """
    if partition_key:
        day = dt.date.fromisoformat(partition_key) + dt.timedelta(days=1)
        return f"{day.isoformat()} 00:00:00"
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def judge_row(check_type: str, row: Sequence[Any] | None, params: dict[str, Any]) -> Verdict:
    """judge() on the row a check query returned: observed, then expected (row_count) or rows_checked."""
    observed, second = _number_at(row, 0), _number_at(row, 1)
    if check_type == "row_count":
        return judge(check_type, observed, params, expected=second)
    return judge(check_type, observed, params, rows_checked=second)


def judge(
    check_type: str,
    observed: float | None,
    params: dict[str, Any],
    expected: float | None = None,
    rows_checked: float | None = None,
) -> Verdict:
    """Decide pass/fail from the observed (and, for reconciliations, expected) number.

    Failing-row types with warn_if/error_if are judged like dbt: error_if matches -> failed,
    else warn_if matches -> warned, else passed. Without thresholds any failing row fails.
    """
    if check_type == "row_count":
        if params.get("expected_sql"):
            tolerance = float(params.get("tolerance", 0))
            passed = (
                observed is not None
                and expected is not None
                and abs(observed - expected) <= tolerance * expected
            )
            return Verdict(passed, observed, f"= expected {_number(expected)} ± {tolerance:.0%}", expected)
        low, high = params.get("min"), params.get("max")
        passed = observed is not None and (low is None or observed >= low) and (high is None or observed <= high)
        return Verdict(passed, observed, f"min={low} max={high}")
    if check_type == "freshness":
        limit = params["max_age_hours"]
        return Verdict(observed is not None and observed <= limit, observed, f"age_hours<={limit}")
    thresholds = [(key, params[key]) for key in THRESHOLD_KEYS if params.get(key)]
    if not thresholds:
        return Verdict(observed == 0, observed, "failing_rows=0")
    rule = "; ".join(f"{key} {describe_threshold(spec)}" for key, spec in thresholds)
    for key, spec in thresholds:
        if observed is None or threshold_matches(spec, observed, rows_checked):
            return Verdict(False, observed, rule, decided=THRESHOLD_STATUS[key], rows_checked=rows_checked)
    return Verdict(True, observed, rule, rows_checked=rows_checked)


#: What a matching threshold makes of the check; THRESHOLD_KEYS gives the order they are tried.
THRESHOLD_STATUS = {"error_if": FAILED, "warn_if": WARNED}


def describe_threshold(spec: dict[str, Any]) -> str:
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


def threshold_matches(spec: dict[str, Any], observed: float, rows_checked: float | None) -> bool:
    """Whether {"count_gt": N} or {"share_gt": F} holds for this many failing (of checked) rows."""
    if "count_gt" in spec:
        return observed > spec["count_gt"]
    if rows_checked is None:
        raise ValueError("a share threshold needs the number of rows checked (build_check_sql adds it)")
    return failing_share(observed, rows_checked) > spec["share_gt"]


#: Check types a constraint the warehouse enforces can decide without scanning the table.
PROVABLE_TYPES = frozenset({"unique", "not_null"})


def proven_verdict(proof: str) -> Verdict:
    """Passed, with no query run: the warehouse enforces proof (e.g. a primary key), so no row can fail.

    The rule says what guaranteed it, so dq_results tells a proven pass from a measured one.
    """
    return Verdict(True, 0.0, f"failing_rows=0 (enforced by {proof})")


def status_for(verdict: Verdict, severity: str) -> str:
    """passed, or failed (severity error: blocks the pipeline) / warned (severity warn: does not).

    A verdict decided by thresholds carries its status and ignores severity.
    """
    if verdict.decided is not None:
        return verdict.decided
    if verdict.passed:
        return PASSED
    return WARNED if severity == "warn" else FAILED


def sample_records(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Failing rows as JSON-ready dicts: timestamps as ISO text, long strings cut."""
    return [{name: _json_value(value) for name, value in zip(columns, row, strict=True)} for row in rows]


def sample_json(records: list[dict[str, Any]]) -> str:
    """The JSON stored in dq_results.sample_rows, dropping trailing rows until it fits the column."""
    kept = list(records)
    text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    while len(text) > SAMPLE_JSON_CHARS and kept:
        kept.pop()
        text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    return text


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = value.hex() if isinstance(value, bytes | bytearray | memoryview) else str(value)
    if len(text) > SAMPLE_VALUE_CHARS:
        return text[:SAMPLE_VALUE_CHARS] + "…"
    return text


def share_note(verdict: Verdict) -> str | None:
    """'failing share 0.400 = 2 of 5 rows checked' when a share was measured, else None."""
    if verdict.rows_checked is None or verdict.observed is None:
        return None
    share = failing_share(verdict.observed, verdict.rows_checked)
    return f"failing share {share:.3f} = {_number(verdict.observed)} of {_number(verdict.rows_checked)} rows checked"


def _number_at(row: Sequence[Any] | None, index: int) -> float | None:
    if row is None or len(row) <= index or row[index] is None:
        return None
    return float(row[index])


def _number(value: float | None) -> str:
    """Counts print as integers, measurements with up to 3 decimals, missing values as NULL."""
    if value is None:
        return "NULL"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}"


def format_result(
    *,
    name: str,
    check_type: str,
    table: str,
    scope: str,
    partition_key: str | None,
    severity: str,
    status: str,
    verdict: Verdict,
    samples: list[dict[str, Any]] | None,
    duration_seconds: float,
) -> str:
    """The multi-line task-log report of one check: what was checked, the numbers, why it failed."""
    where = f"partition {partition_key}" if scope == "partition" else "whole table"
    lines = [
        f"data-quality check {name}: {status.upper()} (severity {severity})",
        f"  check:    {check_type} on {table}, {where}",
        f"  observed: {_number(verdict.observed)}",
        f"  expected: {verdict.threshold}",
    ]
    note = share_note(verdict)
    if note:
        lines.append(f"  share:    {note.removeprefix('failing share ')}")
    lines.append(f"  took:     {duration_seconds:.3f} s")
    if samples:
        lines.append(f"  failing rows (first {len(samples)}, also in dq_results.sample_rows):")
        lines += [f"    {json.dumps(record, ensure_ascii=False)}" for record in samples]
    return "\n".join(lines)
