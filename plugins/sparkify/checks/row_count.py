"""row_count: the number of rows (in the run's partition when scoped), within min/max, or equal
to what ``expected_sql`` computes in the same statement, within ``tolerance``. With ``min`` alone
the count stops at ``min`` rows (observed is then at most ``min``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sparkify.checks.base import CheckType, ConfigContext, Measured, TemplateInput, Verdict, number


class RowCount(CheckType):
    """Passes within min/max, or within ``tolerance`` of ``expected_sql``'s number."""

    name = "row_count"
    template = "quality/row_count.sql"
    parameters = {
        "min": {"type": "integer", "minimum": 0},
        "max": {"type": "integer", "minimum": 0},
        "expected_sql": {"$ref": "#/$defs/sql_path"},
        "tolerance": {
            "description": "allowed relative deviation from expected_sql's number (0.01 = 1%)",
            "type": "number",
            "minimum": 0,
            "maximum": 1,
        },
    }
    schema_rules = {
        "description": "row_count needs at least one of 'min' or 'max', or 'expected_sql'",
        "anyOf": [{"required": ["min"]}, {"required": ["max"]}, {"required": ["expected_sql"]}],
    }
    thresholds = False
    samples = False  # a count has no failing rows
    second_column = "expected"

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        expected_sql = given.params.get("expected_sql")
        if not expected_sql:
            low, high = given.params.get("min"), given.params.get("max")
            if low is not None and high is None:  # only a lower bound: counting past it proves nothing more
                return {"expected_query": None, "count_limit": True}, {"count_limit": int(low)}
            return {"expected_query": None, "count_limit": False}, {}
        query, binds = given.embedded_query(expected_sql)
        return {"expected_query": query, "count_limit": False}, binds

    def judge(self, measured: Measured, params: Mapping[str, Any]) -> Verdict:
        observed, expected = measured.observed, measured.expected
        if params.get("expected_sql"):
            tolerance = float(params.get("tolerance", 0))
            passed = observed is not None and expected is not None and abs(observed - expected) <= tolerance * expected
            return Verdict(passed, observed, f"= expected {number(expected)} ± {tolerance:.0%}", expected)
        low, high = params.get("min"), params.get("max")
        passed = observed is not None and (low is None or observed >= low) and (high is None or observed <= high)
        return Verdict(passed, observed, f"min={low} max={high}")

    def config_problems(self, check: Mapping[str, Any], where: str, context: ConfigContext) -> list[str]:
        problems = []
        low, high = check.get("min"), check.get("max")
        if _is_int(low) and _is_int(high) and low > high:
            problems.append(f"{where}: min ({low}) is greater than max ({high})")
        if "expected_sql" in check:
            context.require_sql(check.get("expected_sql"), f"{where}.expected_sql")
            if "min" in check or "max" in check:
                problems.append(f"{where}: use either min/max or expected_sql (with tolerance), not both")
        elif "tolerance" in check:
            problems.append(f"{where}.tolerance: only allowed with expected_sql")
        return problems

    def normalise(self, params: dict[str, Any]) -> dict[str, Any]:
        return {key: int(value) if key in ("min", "max") else value for key, value in params.items()}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


CHECK_TYPE = RowCount()
