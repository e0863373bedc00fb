"""expression: rows where a boolean SQL expression over the table's columns is not true."""

from __future__ import annotations

from typing import Any

from sparkify.checks.base import CheckType, TemplateInput


class Expression(CheckType):
    """Failing rows: the expression is false or NULL."""

    name = "expression"
    template = "quality/expression.sql"
    parameters = {"expression": {"description": "non-blank SQL expression", "type": "string", "pattern": "\\S"}}
    required = ("expression",)

    def template_context(self, given: TemplateInput) -> tuple[dict[str, Any], dict[str, Any]]:
        # The driver treats '%' as a placeholder marker; a LIKE 'a%' in config must stay literal.
        return {"expression": given.params["expression"].replace("%", "%%")}, {}


CHECK_TYPE = Expression()
