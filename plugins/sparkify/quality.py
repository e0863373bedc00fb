"""Data-quality checks as SQL: build the query for a configured check, judge its result.

Each check type has a template in sql/quality/ returning one number, ``observed``. Building
the statement and judging the number are pure functions, unit-tested without a database;
the operator only runs the query in between.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class CheckQuery:
    """A rendered check: SQL text with bind parameters (values never enter the text)."""

    sql: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one check."""

    passed: bool
    observed: float | None
    threshold: str


def build_check_sql(
    check_type: str,
    this: str,
    params: dict[str, Any],
    *,
    partition_column: str | None,
    partition_key: str | None,
    tables: dict[str, str],
) -> CheckQuery:
    """Render the check's SQL. partition_column is set only for partition-scoped checks."""
    if check_type not in TEMPLATES:
        raise ValueError(f"unknown check type {check_type!r}; expected one of {sorted(TEMPLATES)}")
    binds: dict[str, Any] = {}
    context: dict[str, Any] = {"this": this, "partition_column": None}
    if partition_column:
        context["partition_column"] = quote_ident(partition_column)
        binds["partition_key"] = partition_key
    if "columns" in params:
        context["columns"] = [quote_ident(c) for c in params["columns"]]
    if "column" in params:
        context["column"] = quote_ident(params["column"])
    if check_type == "accepted_values":
        names = [f"accepted_{i}" for i in range(len(params["values"]))]
        binds.update(zip(names, params["values"], strict=True))
        context["value_params"] = names
    elif check_type == "relationship":
        context["to_table"] = tables[params["to_table"]]
        context["to_column"] = quote_ident(params["to_column"])
    elif check_type == "expression":
        context["expression"] = params["expression"]
    elif check_type == "sql":
        context["query"] = render(params["sql"], **tables, this=this)
        if "%(partition_key)s" in context["query"]:
            binds["partition_key"] = partition_key
    elif check_type == "freshness":
        binds["partition_end"] = _partition_end(partition_key)
    return CheckQuery(render(TEMPLATES[check_type], **context), binds)


def _partition_end(partition_key: str | None) -> str | None:
    if partition_key is None:
        return None
    day = dt.date.fromisoformat(partition_key) + dt.timedelta(days=1)
    return f"{day.isoformat()} 00:00:00"


def judge(check_type: str, observed: float | None, params: dict[str, Any]) -> Verdict:
    """Decide pass/fail from the observed number."""
    if check_type == "row_count":
        low, high = params.get("min"), params.get("max")
        passed = observed is not None and (low is None or observed >= low) and (high is None or observed <= high)
        return Verdict(passed, observed, f"min={low} max={high}")
    if check_type == "freshness":
        limit = params["max_age_hours"]
        return Verdict(observed is not None and observed <= limit, observed, f"age_hours<={limit}")
    return Verdict(observed == 0, observed, "failing_rows=0")
