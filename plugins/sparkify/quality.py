"""Data-quality checks as SQL: build a configured check's queries, judge the result, report it.

Each check type (sparkify.checks: one module per type) has one template in sql/quality/.
Rendered normally it returns one number, ``observed`` (plus ``expected`` for a reconciling
row_count); rendered with ``sample=True`` the same template returns up to ``SAMPLE_LIMIT`` of the
failing rows, so the count and the sample share one predicate and cannot drift apart. Building
statements, judging numbers and formatting results are pure functions, unit-tested without a
database; the operator only runs the queries in between and stores the outcome in ``dq_results``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sparkify.checks import THRESHOLD_KEYS
from sparkify.checks import check_type as registered_type
from sparkify.checks.base import (
    ERROR,
    FAILED,
    PASSED,
    WARNED,
    Measured,
    TemplateInput,
    Verdict,
    failing_share,
)
from sparkify.checks.base import number as _number
from sparkify.sqlfiles import quote_ident, render

# Re-exported: the operator and the tests take statuses and Verdict from here with the builders.
__all__ = ["ERROR", "FAILED", "PASSED", "WARNED", "CheckQuery", "Verdict"]

#: Wraps a failing-row count with the rows it checked, for share thresholds (one statement).
ROWS_CHECKED_TEMPLATE = "quality/rows_checked.sql"
#: At most this many failing rows are stored per result (the issue's "up to 10").
SAMPLE_LIMIT = 10
#: Longer string values in samples are cut, so one wide row cannot blow up the log or the column.
SAMPLE_VALUE_CHARS = 200
#: dq_results.sample_rows is VARCHAR(65535) (Redshift's maximum); stay below it.
SAMPLE_JSON_CHARS = 60000


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """A rendered check: SQL text with bind parameters (values never enter the text)."""

    sql: str
    params: dict[str, Any]


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
    kind = registered_type(check_type)
    if sample and not kind.samples:
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
    extra_context, extra_binds = kind.template_context(
        TemplateInput(this=this, params=params, tables=tables, partition_key=partition_key, now=now)
    )
    context.update(extra_context)
    binds.update(extra_binds)
    sql = render(kind.template, **context)
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
    if not registered_type(check_type).samples:
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


def judge_row(check_type: str, row: Sequence[Any] | None, params: dict[str, Any]) -> Verdict:
    """judge() on the row a check query returned: observed, then the type's second column
    (row_count's expected number, or the rows a share threshold divides by)."""
    kind = registered_type(check_type)
    return judge(check_type, _number_at(row, 0), params, **{kind.second_column: _number_at(row, 1)})


def judge(
    check_type: str,
    observed: float | None,
    params: dict[str, Any],
    expected: float | None = None,
    rows_checked: float | None = None,
) -> Verdict:
    """Decide pass/fail from the observed (and, for reconciliations, expected) number, by the rule
    of the check's type (sparkify.checks)."""
    return registered_type(check_type).judge(Measured(observed, expected, rows_checked), params)


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
