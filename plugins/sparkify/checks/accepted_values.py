"""accepted_values: non-NULL values of ``column`` outside ``values`` (passed as bind parameters)."""

from __future__ import annotations

from typing import Any

from sparkify.checks.base import CheckType, TemplateInput


class AcceptedValues(CheckType):
    """Failing rows: a value that is not one of ``values``; NULL is not checked (use not_null)."""

    name = "accepted_values"
    template = "quality/accepted_values.sql"
    parameters = {
        "column": {"$ref": "#/$defs/identifier"},
        "values": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
    }
    required = ("column", "values")

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        names = [f"accepted_{i}" for i in range(len(given.params["values"]))]
        return {"value_params": names}, dict(zip(names, given.params["values"], strict=True))


CHECK_TYPE = AcceptedValues()
